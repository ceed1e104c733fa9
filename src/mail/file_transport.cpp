#include "mail/file_transport.hpp"

#include "base/clock.hpp"
#include "base/utc_time.hpp"
#include "crypto/crypto.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace gatehouse::mail {
namespace {

constexpr std::size_t name_random_bytes = 8;  // 16 hex digits

// Failures no retry can cure: the configuration or the disk needs a person.
bool is_permanent(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOSPC:
    case EDQUOT:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
    case ELOOP:
    case EEXIST:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& where, int err) {
  throw delivery_error("file transport: " + what + " " + where.string() + ": " + std::strerror(err), !is_permanent(err));
}

std::string utc_stamp() { return iso8601_basic_utc(system_now_seconds()); }

// mkdir -p with 0700 for every directory it makes; existing ones are left as they are.
void make_directories(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail("not a directory:", dir, ENOTDIR);
    return;
  }
  if (errno != ENOENT) fail("cannot reach the mail directory", dir, errno);
  if (dir.has_parent_path() && dir.parent_path() != dir) make_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create the mail directory", dir, errno);
}

class file_descriptor {
 public:
  explicit file_descriptor(int fd) : fd_(fd) {}
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const { return fd_; }
  // close(2) can report a failed write-back: its answer matters.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The temporary file goes unless it was renamed.
class temporary_file {
 public:
  explicit temporary_file(std::filesystem::path path) : path_(std::move(path)) {}
  ~temporary_file() {
    if (!kept_) ::unlink(path_.c_str());
  }
  temporary_file(const temporary_file&) = delete;
  temporary_file& operator=(const temporary_file&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

}  // namespace

file_transport::file_transport(std::filesystem::path directory) : directory_(std::move(directory)) {}

void file_transport::deliver(const outgoing& message) {
  make_directories(directory_);
  const std::string name = utc_stamp() + "-" + crypto::to_hex(crypto::random_bytes(name_random_bytes)) + ".eml";
  const auto final_path = directory_ / name;

  // Hidden and suffixed, so a reader that lists *.eml never picks it up.
  temporary_file tmp(directory_ / ("." + name + ".tmp"));
  {
    file_descriptor fd(::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) fail("cannot create a file in", directory_, errno);
    // The umask may only take bits away; 0600 is what is promised.
    if (::fchmod(fd.get(), 0600) != 0) fail("cannot set the mode of", tmp.path(), errno);
    write_all(fd.get(), message.data, tmp.path());
    if (::fsync(fd.get()) != 0) fail("cannot flush", tmp.path(), errno);
    if (fd.close() != 0) fail("cannot close", tmp.path(), errno);
  }
  if (::rename(tmp.path().c_str(), final_path.c_str()) != 0) fail("cannot rename into", directory_, errno);
  tmp.keep();

  // The rename survives a crash once the directory is flushed too. A
  // failure here is not reported: the message is complete and visible, and
  // an error would only make the mailer write it a second time.
  file_descriptor dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) (void)::fsync(dir.get());
}

}  // namespace gatehouse::mail
