#include "files/file_object_store.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "images/image_key.hpp"
#include "images/sniff.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
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

}  // namespace

std::int64_t system_now_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

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
  if (!images::is_valid_image_key(key)) not_found();
  // The key's shape already rules out "..", absolute paths and empty
  // segments; checked again so a future change to the key format cannot
  // silently open the file system.
  const fs::path relative{std::string(key)};
  if (relative.is_absolute()) not_found();
  for (const auto& part : relative)
    if (part == ".." || part == "." || part.empty()) not_found();
  return root_ / relative;
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
  (void)path_of(key);  // only valid keys get URLs
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
  const fs::path target = path_of(key);

  fd_guard fd(::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) not_found();
    io_failure("open", key, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) io_failure("stat", key, errno);
  if (!S_ISREG(st.st_mode)) io_failure("not a regular file", key, EINVAL);
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_object_bytes)
    io_failure("object too large", key, EFBIG);

  images::stored_object object;
  // One byte more than the size, to notice a file that grew meanwhile.
  object.bytes.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t filled = 0;
  while (filled < object.bytes.size()) {
    const ssize_t n = ::read(fd.get(), object.bytes.data() + filled, object.bytes.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_failure("read", key, errno);
    }
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  if (filled > static_cast<std::size_t>(st.st_size)) io_failure("object changed while read", key, EAGAIN);
  object.bytes.resize(filled);
  object.content_type = std::string(content_type_for(key));
  return object;
}

}  // namespace gatehouse::files
