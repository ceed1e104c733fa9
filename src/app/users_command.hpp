#pragma once
// `gatehouse users list|get|delete`: operator commands on the store the
// environment configures (the same variables as `serve`). Like `gatehouse
// doctor`, they build their own store clients and create nothing (no
// SQLite file, no table); no JWT secret is needed. Data goes to stdout (a
// line per user, or JSON lines with --json; never a password hash);
// messages, the confirmation prompt and progress go to stderr, and so do
// the structured log lines. The exit codes are below.
#include "app/config.hpp"
#include "app/exit_codes.hpp"

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace gatehouse::app {

// exit_ok, exit_config and exit_unreachable as every command (app/exit_codes.hpp);
inline constexpr int users_exit_not_found = 1;  // no user with that id or e-mail
inline constexpr int users_exit_refused = 4;    // delete not confirmed
// Usage errors keep CLI11's own codes, 100 to 127 (see users_help).

struct users_list_options {
  std::size_t limit = 0;        // 0: every user
  std::size_t page_size = 100;  // users per storage request (the store's own list)
  bool json = false;
};

struct users_get_options {
  std::string who;  // a user id, or an e-mail address (anything with an '@')
  bool json = false;
};

struct users_delete_options {
  std::string who;
  bool yes = false;             // no confirmation
  std::size_t page_size = 500;  // items per storage request: DynamoDB Scan, S3 ListObjectsV2
};

// Where a command reads and writes.
struct users_console {
  std::FILE* out = stdout;  // data (and delete's report)
  std::FILE* err = stderr;  // messages, prompt, progress
  std::FILE* in = stdin;    // the answer to delete's prompt
  bool in_is_terminal = false;   // delete may ask only then
  bool err_is_terminal = false;  // progress lines only then
};

// The texts `gatehouse users [list|get|delete] --help` end with.
extern const std::string_view users_help;
extern const std::string_view users_list_help;
extern const std::string_view users_get_help;
extern const std::string_view users_delete_help;

// Each returns the exit code.
int run_users_list(const env_lookup& env, const users_list_options& options, const users_console& console);
int run_users_get(const env_lookup& env, const users_get_options& options, const users_console& console);
int run_users_delete(const env_lookup& env, const users_delete_options& options, const users_console& console);

// The `users` command of the command line, added to `parent` with its
// options; after parsing, run() runs whichever of list, get, delete was
// given. Keep it where it was constructed: CLI11 holds its members' addresses.
class users_cli {
 public:
  explicit users_cli(CLI::App& parent);
  users_cli(const users_cli&) = delete;
  users_cli& operator=(const users_cli&) = delete;

  bool parsed() const;
  // With the real stdin, stdout and stderr: data on stdout, and fd 1 (where
  // base/log writes its JSON lines) moved to stderr while the command runs.
  int run(const env_lookup& env) const;

 private:
  CLI::App* users_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* delete_ = nullptr;
  users_list_options list_options_;
  users_get_options get_options_;
  users_delete_options delete_options_;
};

}  // namespace gatehouse::app
