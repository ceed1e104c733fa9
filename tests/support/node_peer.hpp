#pragma once
// Starts one of the Node.js test peers of tests/peers (`node <script>
// args...`) for one test and stops it afterwards. The peer prints
// "READY <port>" once it listens on 127.0.0.1, and exits when its stdin
// closes: it holds the read end of a pipe whose write end closes when this
// object goes or the test process dies. It also gets SIGKILL from the kernel
// if we die (PR_SET_PDEATHSIG), and its process group gets one from the
// destructor if it lingers.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

namespace gatehouse::testing {

inline std::filesystem::path test_peers_dir() {
  return std::filesystem::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers";
}

class node_peer {
 public:
  // Runs `script` (a file of tests/peers) with `args`; its stdout and stderr
  // go to `log`. Throws when it exits or stays silent during start-up.
  node_peer(const std::string& script, const std::vector<std::string>& args, std::filesystem::path log)
      : log_(std::move(log)) {
    std::vector<std::string> all{"node", (test_peers_dir() / script).string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log_file = log_.string(), cwd = test_peers_dir().string();

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(script + ": pipe failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(script + ": fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int out_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (out_fd < 0 || ::dup2(fds[0], 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) ::_exit(126);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execvp("node", argv.data());
      ::_exit(127);
    }
    ::close(fds[0]);
    stdin_ = fds[1];
    try {
      port_ = await_ready(script);
    } catch (...) {
      stop();
      throw;
    }
  }

  ~node_peer() { stop(); }
  node_peer(const node_peer&) = delete;
  node_peer& operator=(const node_peer&) = delete;

  unsigned short port() const { return port_; }

  std::string log() const {
    std::ifstream in(log_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
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
  unsigned short await_ready(const std::string& script) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      const auto at = text.find("READY ");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos)
        return static_cast<unsigned short>(std::stoul(text.substr(at + 6)));
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(script + " exited during start-up:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error(script + " did not start within 20 s:\n" + log());
  }

  std::filesystem::path log_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  unsigned short port_ = 0;
};

}  // namespace gatehouse::testing
