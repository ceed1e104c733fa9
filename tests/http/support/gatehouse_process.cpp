#include "gatehouse_process.hpp"

#include "backend.hpp"
#include "http_client.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#ifndef GATEHOUSE_BINARY
#error "GATEHOUSE_BINARY must name the gatehouse executable"
#endif

namespace gatehouse::testing {
namespace fs = std::filesystem;

temp_dir::temp_dir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("gatehouse-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

unsigned short free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {
pid_t spawn(const std::map<std::string, std::string>& env, const std::vector<std::string>& args,
            const fs::path& output) {
  // Everything the child needs is built before fork: only async-signal-safe calls after it.
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv{const_cast<char*>(GATEHOUSE_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A crashing test must not leave servers behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(GATEHOUSE_BINARY, argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

gatehouse_process::gatehouse_process(std::map<std::string, std::string> env) {
  port_ = free_loopback_port();
  log_path_ = data_.path() / "server.log";
  std::map<std::string, std::string> full{{"PORT", std::to_string(port_)},
                                          {"DATA_DIR", (data_.path() / "data").string()},
                                          {"JWT_PRIVATE_KEY", test_jwt_private_key},
                                          {"SERVER_SECRET", test_server_secret},
                                          {"BCRYPT_COST", "4"},
                                          {"LOG_LEVEL", "info"},
                                          {"PATH", "/usr/bin:/bin"},
                                          // Suites sign up and log in many users from
                                          // 127.0.0.1: limits off unless a test sets them.
                                          {"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "0"},
                                          {"RATE_LIMIT_LOGIN_PER_EMAIL", "0"},
                                          {"RATE_LIMIT_LOGINS_PER_IP", "0"},
                                          {"RATE_LIMIT_LOGIN_PER_IP", "0"},
                                          {"RATE_LIMIT_SIGNUP_PER_IP", "0"},
                                          {"RATE_LIMIT_MAIL_PER_EMAIL", "0"},
                                          {"RATE_LIMIT_MAIL_PER_IP", "0"},
                                          // Suites race hundreds of sign-ups and logins on
                                          // purpose; bcrypt_queue_test sets its own small queue.
                                          {"BCRYPT_QUEUE_DEPTH", "256"}};
  for (auto& [k, v] : backend_env()) full[k] = v;
  for (auto& [k, v] : env) {
    if (v == unset_variable)
      full.erase(k);
    else
      full[k] = v;
  }
  // A caller's own PORT (a server restarted where clients expect it) is the one to wait on.
  port_ = static_cast<unsigned short>(std::stoi(full.at("PORT")));
  if (full.count("USERS_TABLE")) {
    // A fresh DynamoDB table per server: created the way an operator would.
    const int code = wait_exit(spawn(full, {"migrate", "--create-tables"}, log_path_));
    if (code != 0) throw std::runtime_error("gatehouse migrate failed: " + log_text());
  }
  pid_ = spawn(full, {"serve"}, log_path_);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("gatehouse exited during start-up: " + log_text());
    }
    try {
      http_client c(port_);
      if (c.get("/health").status == 200) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop(SIGKILL);
  throw std::runtime_error("gatehouse did not answer /health within 20 s: " + log_text());
}

gatehouse_process::~gatehouse_process() {
  if (pid_ > 0) stop(SIGKILL);
}

std::string gatehouse_process::log_text() const { return read_file(log_path_); }

int gatehouse_process::stop(int signal_number) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal_number);
  const int code = wait_exit(pid_);
  pid_ = -1;
  return code;
}

int run_gatehouse(const std::map<std::string, std::string>& env, const std::vector<std::string>& args,
                  std::string& stderr_text) {
  temp_dir dir;
  const auto out = dir.path() / "out.log";
  auto full = env;
  full.emplace("PATH", "/usr/bin:/bin");
  const int code = wait_exit(spawn(full, args, out));
  stderr_text = read_file(out);
  return code;
}

}  // namespace gatehouse::testing
