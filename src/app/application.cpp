#include "app/application.hpp"

#include "api/routes.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "files/file_object_store.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_user_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

namespace gatehouse::app {
namespace {

constexpr std::size_t max_secret_file_bytes = 4096;

std::optional<std::string> read_secret_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(max_secret_file_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() < 32 || text.size() > max_secret_file_bytes)
    throw config_error("JWT_SECRET: " + path.string() + " holds no usable secret (32 bytes or more); remove it or set JWT_SECRET");
  return text;
}

std::int64_t system_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

std::string load_or_create_jwt_secret(const config& cfg) {
  if (cfg.jwt_secret) return *cfg.jwt_secret;
  std::filesystem::create_directories(cfg.data_dir);
  const auto path = cfg.data_dir / "jwt-secret";
  if (auto existing = read_secret_file(path)) return *existing;

  const std::string secret = crypto::base64url_encode(crypto::random_bytes(48));
  // O_EXCL: if another process created it first, use theirs.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      if (auto theirs = read_secret_file(path)) return *theirs;
    }
    throw config_error("JWT_SECRET: unset, and " + path.string() + " cannot be created: " + std::strerror(errno));
  }
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw config_error("JWT_SECRET: unset, and writing " + path.string() + " failed");
  log::info("JWT_SECRET is unset: generated a secret for local use", {{"path", path.string()}});
  return secret;
}

struct application::parts {
  explicit parts(const config& cfg)
      : jwt_secret(load_or_create_jwt_secret(cfg)),
        // Creates or upgrades the schema: `make run` on a fresh clone just works.
        database(sqlite::database::open(cfg.data_dir / "gatehouse.db")),
        users(database),
        files(cfg.data_dir / "objects",
              // A key of its own for URLs, derived so one secret configures both.
              std::string(crypto::as_bytes(crypto::hmac_sha256(jwt_secret, "gatehouse file urls v1"))),
              cfg.public_url, std::chrono::seconds(cfg.image_url_ttl_seconds)),
        passwords(cfg.bcrypt_cost),
        tokens(jwt_secret, cfg.jwt_issuer),
        services{users, files, passwords, tokens, system_now,
                 api::api_settings{cfg.access_token_ttl_seconds, cfg.max_image_bytes}},
        pipeline(api::make_router(services, &files), http::cors_policy{cfg.cors_origins}) {}

  std::string jwt_secret;
  std::shared_ptr<sqlite::database> database;
  sqlite::sqlite_user_store users;
  files::file_object_store files;
  auth::password_hasher passwords;
  auth::jwt_codec tokens;
  api::services services;
  http::pipeline pipeline;
};

application::application(const config& cfg) : parts_(std::make_unique<parts>(cfg)) {}
application::~application() = default;

const http::pipeline& application::pipeline() const { return parts_->pipeline; }

}  // namespace gatehouse::app
