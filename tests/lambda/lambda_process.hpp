#pragma once
// The real gatehouse binary started as Lambda starts `bootstrap`: no
// arguments, AWS_LAMBDA_RUNTIME_API in the environment. Its stdout and
// stderr go to a log file the tests can read.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace gatehouse::testing {

class lambda_process {
 public:
  lambda_process(const std::map<std::string, std::string>& env, const std::filesystem::path& log_path);
  ~lambda_process();  // SIGKILL if still running
  lambda_process(const lambda_process&) = delete;
  lambda_process& operator=(const lambda_process&) = delete;

  bool running();
  // The exit status once the process ended within `timeout` (128 + signal
  // when a signal ended it), or nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string log_text() const;

 private:
  int pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_path_;
};

}  // namespace gatehouse::testing
