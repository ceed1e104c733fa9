#pragma once
// Starting a program for the package tests: looked up on PATH, exactly the
// given environment, stdin from /dev/null, stdout and stderr into `log`.
#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::testing {

inline pid_t spawn_logged(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          const std::filesystem::path& log,
                          const std::optional<std::filesystem::path>& cwd = std::nullopt) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (cwd) posix_spawn_file_actions_addchdir_np(&actions, cwd->c_str());
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

}  // namespace gatehouse::testing
