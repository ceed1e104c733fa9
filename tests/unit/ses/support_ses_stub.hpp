#pragma once
// Starts tests/peers/ses-stub.mjs (SES v2 SendEmail that answers only
// requests whose SigV4 signature @smithy/signature-v4 reproduces, and writes
// each accepted raw message to out_dir()/<n>.eml) for one test, in a process
// group of its own that dies with the test. Used by tests/unit/ses and by
// the HTTP e-mail suite (the real binary with MAIL_TRANSPORT=ses).
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "mail/mail_reader.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace gatehouse::ses::testing {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using mail::testing::peers_dir;
using mail::testing::read_bytes;
using mail::testing::temp_dir;

inline const std::string region = "eu-west-1";
inline const std::string access_key = "AKIDSESSTUB";
inline const std::string secret_key = "ses/Stub+Secret" + std::to_string(::getpid());

inline std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((fs::path(dir) / "node").c_str(), X_OK) == 0) return (fs::path(dir) / "node").string();
  throw std::runtime_error("ses_transport_test: no `node` on PATH (Node.js runs the SES stub)");
}

// The stub as a child process in its own process group, killed with it.
class ses_stub {
 public:
  explicit ses_stub(std::vector<std::string> extra = {}) {
    if (!mail::testing::peers_installed() || !fs::exists(peers_dir / "node_modules/@smithy/signature-v4/package.json"))
      throw std::runtime_error(mail::testing::peers_hint);
    std::vector<std::string> args{find_node(), (peers_dir / "ses-stub.mjs").string(), "--listen-port", "0",
                                  "--access-key", access_key, "--secret-key", secret_key, "--region", region,
                                  "--out", out_dir().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string_view(*e).rfind("NODE_OPTIONS=", 0) != 0) env.emplace_back(*e);
    env.emplace_back("NODE_NO_WARNINGS=1");
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string log = log_path().string(), cwd = peers_dir.string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      const int in = ::open("/dev/null", O_RDONLY);
      ::dup2(in, 0);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log_text();
      if (const auto at = text.find("READY "); at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = static_cast<unsigned short>(std::stoi(text.substr(at + 6)));
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("ses-stub.mjs exited during start-up:\n" + text);
      }
      std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("ses-stub.mjs did not start within 20 s:\n" + log_text());
  }
  ~ses_stub() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  ses_stub(const ses_stub&) = delete;
  ses_stub& operator=(const ses_stub&) = delete;

  aws::endpoint endpoint() const { return *aws::parse_endpoint("http://127.0.0.1:" + std::to_string(port_)); }
  fs::path out_dir() const { return dir_.path() / "out"; }
  std::string log_text() const {
    std::error_code ec;
    return fs::exists(log_path(), ec) ? read_bytes(log_path()) : std::string();
  }

  json::object stats() const {
    aws::http_client http;
    aws::http_request req;
    req.path = "/__stats";
    const auto res = http.send(endpoint(), req);
    if (res.status != 200) throw std::runtime_error("ses-stub: no stats: " + res.body);
    return json::parse(res.body).as_object();
  }
  long count(const char* name) const { return stats().at(name).to_number<long>(); }

 private:
  fs::path log_path() const { return dir_.path() / "stub.log"; }

  temp_dir dir_;
  int pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace gatehouse::ses::testing
