#pragma once
// The composition root: the one place that turns configuration into
// stores, services and the request pipeline. Nothing below it reads the
// environment or holds globals.
#include "api/services.hpp"
#include "app/config.hpp"
#include "http/pipeline.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::app {

class application {
 public:
  // Builds everything without network I/O (AWS clients connect and
  // resolve credentials on first use), but for JWT_SECRET_ARN and
  // SERVER_SECRET_ARN: their GetSecretValue calls happen here, and their
  // failure is a config_error naming the variable (app/server_keys). `env` feeds the AWS credential chain.
  application(const config& cfg, const env_lookup& env);
  ~application();

  const http::pipeline& pipeline() const;

  // Threads the bcrypt gate can hold at once (one running per core, plus
  // BCRYPT_QUEUE_DEPTH waiting): the local server adds that many workers to
  // its own, so waiting hashes never take a thread other routes need.
  std::size_t bcrypt_threads() const;

  // Work the local server repeats on a timer (Lambda never runs it): the
  // sweep of dead direct uploads when images are local files.
  struct periodic_job {
    std::string name;
    std::chrono::seconds every;
    std::function<void()> run;
  };
  std::vector<periodic_job> periodic_jobs() const;

  // Brings the configured stores to this version's layout. SQLite: its
  // migrations (also applied on every start). DynamoDB: with
  // `create_tables`, creates missing tables; fails naming any still
  // missing; then backfills e-mail claims for users the Node.js version
  // wrote. `progress` receives one human line at a time.
  void migrate(bool create_tables, const std::function<void(std::string_view)>& progress);

 private:
  struct parts;
  std::unique_ptr<parts> parts_;
};

}  // namespace gatehouse::app
