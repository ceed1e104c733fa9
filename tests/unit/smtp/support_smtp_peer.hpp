#pragma once
// Starts tests/peers/smtp-peer.mjs (a real smtp-server) for one test and
// stops it afterwards. The peer holds the read end of a pipe as its stdin
// and exits when that closes, which happens when this object goes or the
// test process dies; it also gets SIGKILL from the kernel if we die
// (PR_SET_PDEATHSIG) and from the destructor if it lingers.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

namespace gatehouse::smtp::testing {

inline std::filesystem::path peers_dir() { return std::filesystem::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers"; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary directory, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("gatehouse-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class smtp_peer {
 public:
  // `args` are smtp-peer.mjs's switches; --out is added here.
  explicit smtp_peer(const std::vector<std::string>& args) {
    out_dir_ = dir_.path() / "out";
    log_ = dir_.path() / "peer.log";
    std::vector<std::string> all{"node", (peers_dir() / "smtp-peer.mjs").string(), "--out", out_dir_.string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = log_.string(), cwd = peers_dir().string();

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("smtp_peer: pipe failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("smtp_peer: fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int out_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (out_fd < 0 || ::dup2(fds[0], 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) ::_exit(126);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execvp("node", argv.data());
      ::_exit(127);
    }
    ::close(fds[0]);
    stdin_ = fds[1];
    try {
      port_ = await_ready();
    } catch (...) {
      stop();
      throw;
    }
  }

  ~smtp_peer() { stop(); }
  smtp_peer(const smtp_peer&) = delete;
  smtp_peer& operator=(const smtp_peer&) = delete;

  unsigned short port() const { return port_; }
  const std::filesystem::path& out_dir() const { return out_dir_; }
  std::string log() const { return read_file(log_); }
  // How many messages the peer accepted.
  std::size_t delivered() const {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(out_dir_, ec))
      if (e.path().extension() == ".json") ++n;
    return n;
  }

  void stop() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ <= 0) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  unsigned short await_ready() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      const auto at = text.find("READY ");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos)
        return static_cast<unsigned short>(std::stoul(text.substr(at + 6)));
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("smtp-peer exited during start-up:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("smtp-peer did not start within 20 s:\n" + log());
  }

  temp_dir dir_;
  std::filesystem::path out_dir_, log_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  unsigned short port_ = 0;
};

}  // namespace gatehouse::smtp::testing
