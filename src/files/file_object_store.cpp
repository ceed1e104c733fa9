#include "files/file_object_store.hpp"

#include "files/file_inventory.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "images/image_key.hpp"
#include "images/sniff.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace gatehouse::files {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void not_found() {
  throw error(error_kind::not_found, "not_found", "object not found");
}

// Logs the cause (errno text, which key) and throws the generic 503.
[[noreturn]] void io_failure(std::string_view what, std::string_view key, int err) {
  log::error("file store failure",
             {{"what", what}, {"key", key}, {"errno", err}, {"detail", std::strerror(err)}});
  throw storage_unavailable("storage is unavailable");
}

// Closes a descriptor on every path out of a scope.
class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  // Closes now, reporting the error that close(2) may be the first to see.
  int close_now() noexcept {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// mkdir -p with mode 0700 for each directory it creates (images are private).
void make_private_dirs(const fs::path& dir, std::string_view key) {
  fs::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      io_failure("create directory", key, errno);
  }
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Makes a rename durable. Some file systems refuse fsync on a directory;
// the object itself is already synced, so that is not worth a 503.
void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string_view content_type_for(std::string_view key) {
  const auto dot = key.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : key.substr(dot + 1);
  constexpr std::array types{images::image_type::jpeg, images::image_type::png,
                             images::image_type::gif, images::image_type::webp};
  for (auto t : types)
    if (ext == images::extension_of(t)) return images::content_type_of(t);
  not_found();  // unreachable for a valid key
}

// An open regular file and what fstat said about it.
struct open_file {
  fd_guard fd;
  struct stat st {};
};

// Opens an object without following symlinks; nullptr when it does not exist.
std::unique_ptr<open_file> open_object(const fs::path& target, std::string_view key) {
  const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return nullptr;
    io_failure("open", key, errno);
  }
  std::unique_ptr<open_file> f(new open_file{fd_guard(fd), {}});
  if (::fstat(f->fd.get(), &f->st) != 0) io_failure("stat", key, errno);
  if (!S_ISREG(f->st.st_mode)) io_failure("not a regular file", key, EINVAL);
  if (f->st.st_size < 0 || static_cast<std::uint64_t>(f->st.st_size) > file_object_store::max_object_bytes)
    io_failure("object too large", key, EFBIG);
  return f;
}

// Up to `limit` bytes from the start of `f`.
std::string read_up_to(const open_file& f, std::size_t limit, std::string_view key) {
  std::string bytes(limit, '\0');
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = ::pread(f.fd.get(), bytes.data() + filled, bytes.size() - filled, static_cast<off_t>(filled));
    if (n < 0) {
      if (errno == EINTR) continue;
      io_failure("read", key, errno);
    }
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  bytes.resize(filled);
  return bytes;
}

// The whole object, refusing one that changed size while read.
std::string read_whole(const open_file& f, std::string_view key) {
  const auto size = static_cast<std::size_t>(f.st.st_size);
  // One byte more than the size, to notice a file that grew meanwhile.
  std::string bytes = read_up_to(f, size + 1, key);
  if (bytes.size() != size) io_failure("object changed while read", key, EAGAIN);
  return bytes;
}

// Names one version of a file: an upload written again is renamed into
// place, so it has another inode (and another mtime) even at the same size.
std::string etag_of(const struct stat& st) {
  return std::to_string(st.st_ino) + "-" + std::to_string(st.st_size) + "-" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

file_object_store::file_object_store(fs::path root, std::string url_signing_key,
                                     std::string public_base_url, std::chrono::seconds url_ttl,
                                     std::function<std::int64_t()> now_seconds)
    : root_(std::move(root)),
      signer_(std::move(url_signing_key)),
      public_base_url_(std::move(public_base_url)),
      url_ttl_(url_ttl),
      now_seconds_(std::move(now_seconds)) {
  while (!public_base_url_.empty() && public_base_url_.back() == '/') public_base_url_.pop_back();
  if (url_ttl_.count() <= 0 || !now_seconds_)
    throw error(error_kind::internal, "internal", "file store: bad URL lifetime or clock");
}

fs::path file_object_store::path_of(std::string_view key) const {
  if (!images::is_valid_image_key(key) && images::upload_key_of(key).empty()) not_found();
  // The key's shape already rules out "..", absolute paths and empty
  // segments; checked again so a future change to the key format cannot
  // silently open the file system.
  const fs::path relative{std::string(key)};
  if (relative.is_absolute()) not_found();
  for (const auto& part : relative)
    if (part == ".." || part == "." || part.empty()) not_found();
  return root_ / relative;
}

namespace {

// put's temporary name: "." + the object's file name + "." + 16 hex + ".tmp".
bool is_temporary_name(std::string_view name) {
  constexpr std::size_t suffix = 1 + 16 + 4;  // ".<16 hex>.tmp"
  if (name.size() < 2 + suffix || name.front() != '.' || !name.ends_with(".tmp")) return false;
  const auto hex = name.substr(name.size() - suffix + 1, 16);
  return name[name.size() - suffix] == '.' &&
         std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::size_t file_object_store::remove_stale_temporaries(std::chrono::seconds older_than) {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return 0;
  const auto cutoff = fs::file_time_type::clock::now() - older_than;
  std::size_t removed = 0;
  for (auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    if (!is_temporary_name(it->path().filename().string())) continue;
    const auto modified = it->last_write_time(ec);
    if (ec || modified > cutoff) continue;
    if (fs::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

void file_object_store::put(std::string_view key, std::string_view bytes,
                            std::string_view /*content_type: implied by the key's extension*/) {
  const fs::path target = path_of(key);
  const fs::path dir = target.parent_path();
  make_private_dirs(dir, key);

  // Dot-prefixed, so never a valid key, and unique per writer.
  const fs::path temp =
      dir / ("." + target.filename().string() + "." + crypto::to_hex(crypto::random_bytes(8)) +
             ".tmp");
  fd_guard fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) io_failure("create temporary file", key, errno);

  const auto fail_and_clean = [&](std::string_view what, int err) {
    if (fd.get() >= 0) fd.close_now();
    ::unlink(temp.c_str());
    io_failure(what, key, err);
  };
  // Exactly 0600 whatever the umask.
  if (::fchmod(fd.get(), 0600) != 0) fail_and_clean("chmod", errno);
  if (!write_all(fd.get(), bytes)) fail_and_clean("write", errno);
  if (::fsync(fd.get()) != 0) fail_and_clean("fsync", errno);
  if (fd.close_now() != 0) fail_and_clean("close", errno);
  if (::rename(temp.c_str(), target.c_str()) != 0) fail_and_clean("rename", errno);
  sync_dir(dir);
}

void file_object_store::remove(std::string_view key) {
  const fs::path target = path_of(key);
  if (::unlink(target.c_str()) != 0 && errno != ENOENT) io_failure("unlink", key, errno);
  // Drop the user's directory once empty; fails harmlessly when it is not.
  ::rmdir(target.parent_path().c_str());
}

std::string file_object_store::url_for(std::string_view key) {
  // Only image keys get URLs: an upload key's bytes were never checked.
  if (!images::is_valid_image_key(key)) not_found();
  const std::int64_t now = now_seconds_();
  if (now > std::numeric_limits<std::int64_t>::max() - url_ttl_.count())
    throw error(error_kind::internal, "internal", "file store: clock out of range");
  const std::int64_t expires = now + url_ttl_.count();
  // A valid key is [a-z0-9-./] only, so it needs no percent-encoding.
  std::string url = public_base_url_;
  url.append("/files/").append(key);
  url.append("?expires=").append(std::to_string(expires));
  url.append("&sig=").append(signer_.signature(key, expires));
  return url;
}

images::stored_object file_object_store::read_signed(std::string_view key,
                                                     std::string_view expires,
                                                     std::string_view signature) {
  switch (signer_.verify(key, expires, signature, now_seconds_())) {
    case url_check::valid: break;
    case url_check::invalid_signature:
      throw error(error_kind::permission_denied, "invalid_signature",
                  "the URL signature is invalid");
    case url_check::expired:
      throw error(error_kind::permission_denied, "url_expired", "the URL has expired");
  }
  if (!images::is_valid_image_key(key)) not_found();
  const auto file = open_object(path_of(key), key);
  if (!file) not_found();
  images::stored_object object;
  object.bytes = read_whole(*file, key);
  object.content_type = std::string(content_type_for(key));
  return object;
}

images::upload_form file_object_store::presign_upload(std::string_view key, std::size_t max_bytes,
                                                      std::int64_t expires_seconds) {
  if (!images::is_valid_upload_key(key) || max_bytes == 0 || expires_seconds <= 0)
    throw error(error_kind::internal, "internal", "file store: bad upload form request");
  const std::int64_t now = now_seconds_();
  if (now > std::numeric_limits<std::int64_t>::max() - expires_seconds)
    throw error(error_kind::internal, "internal", "file store: clock out of range");
  images::upload_form form;
  form.expires_at = now + expires_seconds;
  form.url = public_base_url_ + std::string(upload_path);
  form.fields = {{"key", std::string(key)},
                 {"expires", std::to_string(form.expires_at)},
                 {"max_bytes", std::to_string(max_bytes)},
                 {"signature", signer_.upload_signature(key, form.expires_at, max_bytes)}};
  return form;
}

void file_object_store::receive_signed_upload(const images::signed_upload& form) {
  switch (signer_.verify_upload(form.key, form.expires, form.max_bytes, form.signature, now_seconds_())) {
    case url_check::valid: break;
    case url_check::invalid_signature:
      throw error(error_kind::permission_denied, "invalid_signature", "the upload form's signature is invalid");
    case url_check::expired:
      throw error(error_kind::permission_denied, "upload_expired", "the upload form has expired");
  }
  // Signed by us, so an upload key; checked again rather than trusted.
  if (!images::is_valid_upload_key(form.key)) not_found();
  if (!form.content_type || !form.content_type->starts_with("image/"))
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "send a Content-Type field starting with image/ before the file", "Content-Type");
  std::uint64_t max_bytes = 0;
  const auto [end, ec] = std::from_chars(form.max_bytes.data(), form.max_bytes.data() + form.max_bytes.size(), max_bytes);
  if (ec != std::errc() || end != form.max_bytes.data() + form.max_bytes.size())
    throw error(error_kind::permission_denied, "invalid_signature", "the upload form's signature is invalid");
  if (form.file.empty())
    throw error(error_kind::invalid_argument, "missing_file", "send the picture as a file part named file", "file");
  if (form.file.size() > max_bytes)
    throw error(error_kind::payload_too_large, "payload_too_large",
                "the file is larger than " + std::string(form.max_bytes) + " bytes");
  put(form.key, form.file, *form.content_type);
}

std::optional<images::object_head> file_object_store::head(std::string_view key) {
  const auto file = open_object(path_of(key), key);
  if (!file) return std::nullopt;
  return images::object_head{static_cast<std::uint64_t>(file->st.st_size), etag_of(file->st)};
}

std::optional<std::string> file_object_store::read_prefix_if_unchanged(std::string_view key, std::size_t n,
                                                                       std::string_view etag) {
  const auto file = open_object(path_of(key), key);
  if (!file || etag_of(file->st) != etag) return std::nullopt;
  return read_up_to(*file, std::min<std::size_t>(n, static_cast<std::size_t>(file->st.st_size)), key);
}

std::vector<std::string> file_object_store::list_keys(std::string_view prefix, std::size_t limit) {
  std::vector<std::string> keys;
  file_inventory(root_).list(prefix, [&](const images::inventory_entry& e) {
    // Temporary files of a put in progress and anything else are not keys.
    if (keys.size() < limit && !images::upload_key_of(e.key).empty()) keys.push_back(e.key);
  });
  return keys;
}

bool file_object_store::copy_if_unchanged(std::string_view from, std::string_view to,
                                          std::string_view content_type, std::string_view etag) {
  if (!images::is_valid_image_key(to)) not_found();
  // One descriptor for the check and the read: a new upload renamed over
  // `from` meanwhile is another file, never read here.
  const auto file = open_object(path_of(from), from);
  if (!file || etag_of(file->st) != etag) return false;
  put(to, read_whole(*file, from), content_type);
  return true;
}

}  // namespace gatehouse::files
