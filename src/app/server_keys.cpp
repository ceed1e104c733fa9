#include "app/server_keys.hpp"

#include "app/token_keys.hpp"

#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "secrets/secrets_manager_client.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

namespace gatehouse::app {
namespace {

std::optional<std::string> read_secret_file(const std::filesystem::path& path, std::string_view variable) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(secrets::max_key_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() < secrets::min_key_bytes || text.size() > secrets::max_key_bytes)
    throw config_error(std::string(variable) + ": " + path.string() +
                       " holds no usable secret (32 bytes or more); remove it or set " + std::string(variable));
  return text;
}

}  // namespace

std::string load_or_create_secret_file(const std::filesystem::path& path, std::string_view variable) {
  if (auto existing = read_secret_file(path, variable)) return *existing;
  std::filesystem::create_directories(path.parent_path());
  const std::string secret = crypto::base64url_encode(crypto::random_bytes(48));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      if (auto theirs = read_secret_file(path, variable)) return *theirs;
    }
    throw config_error(std::string(variable) + ": unset, and " + path.string() + " cannot be created: " +
                       std::strerror(errno));
  }
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw config_error(std::string(variable) + ": unset, and writing " + path.string() + " failed");
  log::info("unset: generated a secret for local use",
            {{"variable", std::string(variable)}, {"path", path.string()}});
  return secret;
}

secrets::fetched_keys fetch_secret(const config& cfg, const aws_plumbing& plumbing, std::string_view variable,
                                   const std::string& secret_id, std::string_view member, secrets::stages wanted) {
  secrets::secrets_manager_client client(
      *plumbing.client, endpoint_for(cfg.aws.secrets_manager_endpoint, "secretsmanager", cfg.aws.region),
      cfg.aws.region);
  try {
    auto fetched = secrets::fetch_keys(client, secret_id, member, wanted);
    log::info("secret fetched from Secrets Manager", {{"variable", std::string(variable)},
                                                       {"secret_id", secret_id},
                                                       {"previous_version", fetched.previous.has_value()}});
    return fetched;
  } catch (const secrets::secret_error& e) {
    throw config_error(std::string(variable) + ": " + e.what());
  } catch (const std::exception& e) {
    // Unreachable, failing or throttling (storage_unavailable after the
    // retries), or no credentials: our wording and status codes only.
    throw config_error(std::string(variable) + ": the secret could not be fetched: " + e.what());
  }
}

server_keys load_server_keys(const config& cfg, const aws_plumbing* plumbing) {
  auth::token_keys tokens = load_token_keys(cfg, plumbing);
  std::string root;
  if (cfg.aws.server_secret_arn) {
    root = fetch_secret(cfg, *plumbing, "SERVER_SECRET_ARN", *cfg.aws.server_secret_arn, "server_secret",
                 secrets::stages::current_only)
               .current;
  } else if (cfg.server_secret) {
    root = *cfg.server_secret;
  } else {
    root = load_or_create_secret_file(cfg.data_dir / "server-secret", "SERVER_SECRET");
  }
  return {std::move(tokens), crypto::server_secret(std::move(root))};
}

}  // namespace gatehouse::app
