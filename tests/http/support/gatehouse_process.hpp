#pragma once
// Starts the real `gatehouse serve` binary on a free loopback port with a
// fresh DATA_DIR, and stops it. Its stdout and stderr go to a log file
// the tests can read.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::testing {

// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

unsigned short free_loopback_port();

// The secrets every suite server uses, so tests can sign tokens and URLs
// themselves (fixtures: derived_key).
inline const std::string test_jwt_secret = "test-secret-0123456789abcdef0123456789abcdef";
inline const std::string test_server_secret = "test-server-secret-0123456789abcdef0123456789";

// As a value in a gatehouse_process env map: remove that default variable.
inline const std::string unset_variable = "\x01unset";

class gatehouse_process {
 public:
  // `env` adds to (or overrides) the defaults: PORT, DATA_DIR, JWT_SECRET, SERVER_SECRET,
  // BCRYPT_COST=4, LOG_LEVEL=info, every RATE_LIMIT_* at 0 (off: suites
  // sign up many users from one address) and BCRYPT_QUEUE_DEPTH=256 (they
  // race hundreds of them); unset_variable restores a default. A PORT given
  // here is used (and waited on): a restarted server keeps its address.
  explicit gatehouse_process(std::map<std::string, std::string> env = {});
  ~gatehouse_process();

  unsigned short port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_.path(); }
  std::string log_text() const;

  // Sends `signal` and waits for the exit; returns the exit status
  // (or 128 + signal when killed by one).
  int stop(int signal_number);
  int pid() const { return pid_; }

 private:
  temp_dir data_;
  unsigned short port_ = 0;
  int pid_ = -1;
  std::filesystem::path log_path_;
};

// Runs the binary with `env` and `args` to completion; returns the exit
// code, with stderr in `stderr_text`.
int run_gatehouse(const std::map<std::string, std::string>& env, const std::vector<std::string>& args,
                  std::string& stderr_text);

}  // namespace gatehouse::testing
