#pragma once
// Configuration from environment variables: the only place that reads
// them. Invalid values throw config_error naming the variable and what
// it expects; the process then refuses to start.
#include "base/env.hpp"
#include "base/log.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::app {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct config {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::filesystem::path data_dir = "data";
  std::optional<std::string> jwt_secret;  // never logged
  std::string jwt_issuer = "gatehouse";
  std::int64_t access_token_ttl_seconds = 3600;
  int bcrypt_cost = 10;
  std::size_t max_image_bytes = 5 * 1024 * 1024;
  std::int64_t image_url_ttl_seconds = 900;
  std::vector<std::string> cors_origins{"*"};
  log::level log_level = log::level::info;
  std::string public_url;  // default http://<host>:<port>
  std::size_t worker_threads = 0;  // 0: derived from the core count
};

using gatehouse::env_lookup;

// Reads every variable through `env` (the process environment in main,
// a map in tests).
config load_config(const env_lookup& env);

env_lookup process_environment();

}  // namespace gatehouse::app
