#pragma once
// `gatehouse doctor [--repair]`: checks the store the environment configures
// (the same variables as `serve`) and, with --repair, fixes what is safe to
// fix. One line per check or finding, `ok|warn|fail <check>: <detail>`,
// never a secret; progress lines `progress <what>: <n>`; a last `summary:`
// line. See doctor_help for what is checked and the exit codes.
#include "app/config.hpp"
#include "app/exit_codes.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

namespace gatehouse::app {

// exit_ok: every check passed (or every finding was repaired); exit_config,
// exit_unreachable as every command (app/exit_codes.hpp).
inline constexpr int doctor_exit_findings = 1;  // findings remain

struct doctor_options {
  bool repair = false;
  // Objects younger than this are never judged stray: an upload may be
  // between its put and its user update, a direct upload not confirmed yet.
  // E-mail claims wait min(min_age, 120 s), the sign-up takeover age.
  std::int64_t min_age_seconds = 3600;
  std::size_t progress_every = 1000;
  // Items per storage request: Scan's Limit, ListObjectsV2's max-keys, SQLite rows per query.
  std::size_t page_size = 500;
};

// The text `gatehouse doctor --help` ends with.
extern const std::string_view doctor_help;

// Runs every check, writing the report to `out`; returns the exit code.
int run_doctor(const env_lookup& env, const doctor_options& options, std::FILE* out);

// As run_doctor, writing to stdout, with the structured log lines (which
// base/log writes to stdout) moved to stderr so the report stays readable.
int doctor_command(const env_lookup& env, const doctor_options& options);

// An HTTP Date ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110's IMF-fixdate)
// as unix seconds; nullopt for anything else.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace gatehouse::app
