#include "files/file_inventory.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "images/image_key.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace gatehouse::files {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void io_failure(std::string_view what, const fs::path& path, int err) {
  log::error("file inventory failure", {{"what", what}, {"path", path.string()}, {"detail", std::strerror(err)}});
  throw storage_unavailable(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

// A key names a path under the root and nothing else: relative, with no
// empty, "." or ".." segment.
bool is_contained(std::string_view key) {
  if (key.empty() || key.front() == '/' || key.back() == '/') return false;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const auto part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return key.find('\0') == std::string_view::npos;
}

}  // namespace

file_inventory::file_inventory(fs::path root) : root_(std::move(root)) {}

std::string file_inventory::location() const { return "files under " + root_.string(); }

std::optional<std::string> file_inventory::check_location() {
  struct stat st {};
  if (::lstat(root_.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;  // nothing uploaded yet
    io_failure("stat", root_, errno);
  }
  if (!S_ISDIR(st.st_mode)) return root_.string() + " is not a directory";
  if (::access(root_.c_str(), R_OK | W_OK | X_OK) != 0) return root_.string() + " is not readable and writable";
  return std::nullopt;
}

void file_inventory::list(std::string_view prefix, const std::function<void(const images::inventory_entry&)>& visit) {
  // Walk only the directory the prefix names (up to its last '/').
  const auto slash = prefix.rfind('/');
  const fs::path start = slash == std::string_view::npos ? root_ : root_ / std::string(prefix.substr(0, slash));
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(start, ec))) return;
  // Symbolic links are listed as entries of their own, never followed.
  fs::recursive_directory_iterator it(start, fs::directory_options::none, ec), end;
  if (ec) io_failure("list", start, ec.value());
  for (; it != end; it.increment(ec)) {
    if (ec) io_failure("list", start, ec.value());
    const fs::path& path = it->path();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted meanwhile
      io_failure("stat", path, errno);
    }
    if (S_ISDIR(st.st_mode)) continue;
    images::inventory_entry e;
    e.key = path.lexically_relative(root_).generic_string();
    if (!e.key.starts_with(prefix)) continue;
    e.modified_at = static_cast<std::int64_t>(st.st_mtim.tv_sec);
    e.size = static_cast<std::uint64_t>(st.st_size);
    visit(e);
  }
  if (ec) io_failure("list", start, ec.value());
}

std::optional<std::string> file_inventory::key_of(std::string_view stored) const { return std::string(stored); }

bool file_inventory::exists(std::string_view key) {
  if (!images::is_valid_image_key(key) && images::upload_key_of(key).empty()) return false;
  struct stat st {};
  const fs::path path = root_ / std::string(key);
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    io_failure("stat", path, errno);
  }
  return S_ISREG(st.st_mode);
}

void file_inventory::remove(std::string_view key) {
  if (!is_contained(key)) throw error(error_kind::internal, "internal", "file inventory: not a key under the root");
  const fs::path path = root_ / std::string(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) io_failure("unlink", path, errno);
  // The user's directory (profile-images/<id>), once empty; never the top one.
  const fs::path parent = fs::path(std::string(key)).parent_path();
  if (std::distance(parent.begin(), parent.end()) >= 2) ::rmdir((root_ / parent).c_str());
}

}  // namespace gatehouse::files
