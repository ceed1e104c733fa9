// gatehouse: the command line. Subcommands: serve (default), migrate, doctor, users, keys.
// With AWS_LAMBDA_RUNTIME_API set (inside Lambda, where this binary is
// `bootstrap`) it serves Runtime API invocations instead.
#include "app/application.hpp"
#include "app/config.hpp"
#include "app/doctor.hpp"
#include "app/exit_codes.hpp"
#include "app/token_keys.hpp"
#include "app/users_command.hpp"
#include "base/log.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/runtime_loop.hpp"
#include "server/server.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace gatehouse;

constexpr int exit_runtime_error = 1;

std::size_t default_worker_threads() {
  // bcrypt is CPU-bound: a couple of workers per core keeps cores busy
  // while others wait on SQLite or the disk.
  return std::max<std::size_t>(4, 2 * std::max(1u, std::thread::hardware_concurrency()));
}

int serve(const app::config& cfg) {
  app::application application(cfg, app::process_environment());
  server::server_options options;
  options.host = cfg.host;
  options.port = cfg.port;
  options.io_threads = cfg.io_threads ? cfg.io_threads : std::max(1u, std::thread::hardware_concurrency());
  // The bcrypt gate's threads come on top, so a flood of logins can never
  // hold the workers every other route needs (auth/bcrypt_gate).
  options.worker_threads =
      (cfg.worker_threads ? cfg.worker_threads : default_worker_threads()) + application.bcrypt_threads();
  for (auto& job : application.periodic_jobs())
    options.periodic_tasks.push_back({std::move(job.name), job.every, std::move(job.run)});
  server::server srv(application.pipeline(), options);
  const unsigned short port = srv.listen();
  log::info("listening", {{"address", cfg.host},
                          {"port", port},
                          {"data_dir", cfg.data_dir.string()},
                          {"io_threads", options.io_threads},
                          {"workers", options.worker_threads}});
  srv.run();
  return 0;
}

// Lambda: start-up failures go to the Runtime API's init/error (their
// message names the variable, never its value) and end the process;
// Lambda then reports the init failure and retries on the next request.
int run_lambda(const std::string& runtime_api, const env_lookup& env) {
  std::unique_ptr<lambda::runtime_client> rt;
  try {
    rt = std::make_unique<lambda::runtime_client>(runtime_api);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gatehouse: %s\n", e.what());
    return app::exit_config;
  }
  const auto refuse = [&](std::string_view type, const std::string& message, int code) {
    log::error("init failed", {{"error_type", type}, {"what", message}});
    try {
      rt->init_error(type, message);
    } catch (const std::exception& e) {
      log::error("init error not delivered", {{"what", e.what()}});
    }
    return code;
  };

  std::unique_ptr<app::application> application;
  try {
    const app::config cfg = app::load_config(env);
    log::set_min_level(cfg.log_level);
    // Little network I/O here: AWS clients connect on first use, so a cold
    // start costs opening the embedded store, if any, and with
    // JWT_SECRET_ARN the two GetSecretValue calls (AWSCURRENT, AWSPREVIOUS)
    // whose failure is an init error naming that variable.
    application = std::make_unique<app::application>(cfg, env);
  } catch (const app::config_error& e) {
    return refuse("Runtime.InvalidConfiguration", e.what(), app::exit_config);
  } catch (const std::exception& e) {
    return refuse("Runtime.InitError", e.what(), exit_runtime_error);
  }
  return lambda::run_runtime_loop(application->pipeline(), *rt);
}

int migrate(const app::config& cfg, bool create_tables) {
  app::application application(cfg, app::process_environment());
  application.migrate(create_tables, [](std::string_view line) {
    std::printf("migrate: %.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  });
  std::printf("migrate: done\n");
  return 0;
}

// `gatehouse keys rotate`: the new key's kid and the previous one's, one per line.
int rotate_keys(const app::config& cfg) {
  const auto rotated = app::rotate_local_key(cfg);
  std::printf("keys: signing with %s (%s)\n", rotated.new_kid.c_str(), std::string(jose::name_of(cfg.jwt_alg)).c_str());
  if (!rotated.previous_kid.empty())
    std::printf("keys: %s still verifies; restart every server on this DATA_DIR to sign with the new key\n",
                rotated.previous_kid.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const env_lookup env = app::process_environment();
  if (const auto runtime_api = env("AWS_LAMBDA_RUNTIME_API"); runtime_api && !runtime_api->empty())
    return run_lambda(*runtime_api, env);

  CLI::App cli{"Gatehouse: user and authentication API (sign-up, login with JWT, users, profile pictures)"};
  cli.require_subcommand(0, 1);
  auto* serve_cmd = cli.add_subcommand("serve", "Serve the HTTP API (the default)");
  auto* migrate_cmd = cli.add_subcommand(
      "migrate", "Bring the configured store to this version's layout (SQLite schema; DynamoDB tables and e-mail claims)");
  bool create_tables = false;
  migrate_cmd->add_flag("--create-tables", create_tables,
                        "DynamoDB: create missing tables (for local peers; in AWS the stack creates them)");
  auto* doctor_cmd = cli.add_subcommand(
      "doctor", "Check the configured store (and with --repair fix what is safe): one line per check, then a summary");
  app::doctor_options doctor;
  doctor_cmd->add_flag("--repair", doctor.repair, "Fix what is safely fixable (see below)");
  doctor_cmd->add_option("--min-age", doctor.min_age_seconds,
                         "Seconds an unreferenced object must be old to count as stray (default 3600)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{10} * 365 * 86400));
  doctor_cmd->add_option("--progress-every", doctor.progress_every, "Items per progress line (default 1000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  doctor_cmd->add_option("--page-size", doctor.page_size,
                         "Items per storage request: DynamoDB Scan, S3 ListObjectsV2, SQLite query (default 500)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  doctor_cmd->footer(std::string(app::doctor_help));
  auto* keys_cmd = cli.add_subcommand("keys", "The access-token signing key kept in DATA_DIR");
  keys_cmd->require_subcommand(1);
  auto* rotate_cmd = keys_cmd->add_subcommand(
      "rotate", "Make a new signing key of JWT_ALG; the current one keeps verifying its tokens until the next rotation");
  app::users_cli users_cmd(cli);  // users list|get|delete, with their options (app/users_command)
  cli.set_version_flag("--version", "gatehouse " GATEHOUSE_VERSION);
  // Set last: a subcommand added after it would inherit it.
  cli.footer(R"(Configuration is read from environment variables (README, "Configuration"):
DATA_DIR for the embedded store, or USERS_TABLE / PROFILE_IMAGES_BUCKET with
AWS_REGION for DynamoDB and S3. Every command uses the same store.
Examples:
  gatehouse                          serve on 127.0.0.1:3000 (HOST, PORT)
  gatehouse migrate --create-tables
  gatehouse doctor --repair
  gatehouse users list --json
  gatehouse users delete ada@example.com
  gatehouse keys rotate
Run `gatehouse <command> --help` for a command's options and exit codes.)");
  CLI11_PARSE(cli, argc, argv);

  // Doctor reports a bad configuration itself, as one of its checks.
  if (doctor_cmd->parsed()) return app::doctor_command(env, doctor);
  if (users_cmd.parsed()) return users_cmd.run(env);

  app::config cfg;
  try {
    cfg = app::load_config(env);
  } catch (const app::config_error& e) {
    std::fprintf(stderr, "gatehouse: invalid configuration: %s\n", e.what());
    return app::exit_config;
  }
  log::set_min_level(cfg.log_level);

  try {
    if (migrate_cmd->parsed()) return migrate(cfg, create_tables);
    if (rotate_cmd->parsed()) return rotate_keys(cfg);
    (void)serve_cmd;
    return serve(cfg);
  } catch (const app::config_error& e) {
    std::fprintf(stderr, "gatehouse: invalid configuration: %s\n", e.what());
    return app::exit_config;
  } catch (const std::exception& e) {
    log::error("fatal", {{"what", e.what()}});
    return exit_runtime_error;
  }
}
