#include "app/token_keys.hpp"

#include "app/server_keys.hpp"
#include "base/log.hpp"
#include "secrets/secret_keys.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

namespace gatehouse::app {
namespace {

namespace fs = std::filesystem;

// A PEM of the largest key we accept (RSA 8192) is under 7 KiB.
constexpr std::size_t max_pem_bytes = 16 * 1024;

bool is_pem(std::string_view text) { return text.find("-----BEGIN ") != std::string_view::npos; }

std::optional<std::string> read_key_file(const fs::path& path, std::string_view variable) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(max_pem_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_pem_bytes)
    throw config_error(std::string(variable) + ": " + path.string() + " is larger than a PEM key can be");
  return text;
}

jose::signing_key signing_key_from(std::string_view pem, std::string_view where) {
  try {
    return jose::signing_key::from_pem(pem);
  } catch (const jose::key_error& e) {
    throw config_error(std::string(where) + ": " + e.what());
  }
}

// Writes `text` to a new file at `path` (0600, O_EXCL, fsync): false when it exists already.
bool write_new_file(const fs::path& path, const std::string& text, std::string_view variable) {
  fs::create_directories(path.parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw config_error(std::string(variable) + ": " + path.string() + " cannot be created: " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    fs::remove(path);
    throw config_error(std::string(variable) + ": writing " + path.string() + " failed");
  }
  return true;
}

void require_alg(const jose::signing_key& key, const config& cfg, std::string_view where, std::string_view remedy) {
  if (key.alg() == cfg.jwt_alg) return;
  throw config_error("JWT_ALG: " + std::string(where) + " holds an " + std::string(jose::name_of(key.alg())) +
                     " key but JWT_ALG is " + std::string(jose::name_of(cfg.jwt_alg)) + "; " + std::string(remedy));
}

// DATA_DIR/jwt-key.pem, generated now if it is not there (another process
// starting at the same moment wins, and both use its key).
jose::signing_key load_or_create_local_key(const config& cfg) {
  const fs::path path = local_key_path(cfg);
  auto existing = read_key_file(path, "JWT_PRIVATE_KEY");
  if (!existing) {
    const auto fresh = jose::signing_key::generate(cfg.jwt_alg);
    if (write_new_file(path, fresh.to_pkcs8_pem(), "JWT_PRIVATE_KEY")) {
      log::info("unset: generated a signing key for local use",
                {{"variable", "JWT_PRIVATE_KEY"}, {"path", path.string()}, {"alg", jose::name_of(fresh.alg())},
                 {"kid", fresh.kid()}});
      return fresh;
    }
    existing = read_key_file(path, "JWT_PRIVATE_KEY");
    if (!existing) throw config_error("JWT_PRIVATE_KEY: " + path.string() + " vanished while it was read");
  }
  auto key = signing_key_from(*existing, path.string());
  require_alg(key, cfg, path.string(),
              "run `gatehouse keys rotate` to sign with a new " + std::string(jose::name_of(cfg.jwt_alg)) +
                  " key (the old one keeps verifying), or set JWT_ALG to the key's");
  return key;
}

// The v1 HS256 secret, when one is still configured beside an asymmetric key.
std::optional<jose::verification_key> v1_secret(const config& cfg) {
  if (cfg.jwt_secret) {
    log::warn("JWT_SECRET only verifies v1 tokens now that JWT_ALG is asymmetric; unset it once ACCESS_TOKEN_TTL "
              "has passed since the upgrade",
              {{"jwt_alg", jose::name_of(cfg.jwt_alg)}});
    return jose::verification_key::hmac(*cfg.jwt_secret);
  }
  const fs::path path = cfg.data_dir / "jwt-secret";
  if (!fs::exists(path)) return std::nullopt;
  const std::string secret = load_or_create_secret_file(path, "JWT_SECRET");
  log::info("DATA_DIR/jwt-secret verifies v1 tokens until the next `gatehouse keys rotate`",
            {{"path", path.string()}});
  return jose::verification_key::hmac(secret);
}

// JWT_SECRET_ARN: AWSCURRENT signs, AWSPREVIOUS verifies; each a PEM or an HS256 secret.
auth::token_keys keys_from_secrets_manager(const config& cfg, const aws_plumbing& plumbing) {
  auto fetched = fetch_secret(cfg, plumbing, "JWT_SECRET_ARN", *cfg.aws.jwt_secret_arn, "jwt_secret",
                              secrets::stages::current_and_previous);
  const auto signing = [&] {
    if (!is_pem(fetched.current)) {
      if (jose::is_asymmetric(cfg.jwt_alg))
        throw config_error("JWT_SECRET_ARN: AWSCURRENT holds an HS256 secret but JWT_ALG is " +
                           std::string(jose::name_of(cfg.jwt_alg)) +
                           "; put a PEM private key as the new version (deploy/README.md, \"The JWT signing key\")");
      return jose::signing_key::hmac(fetched.current);
    }
    auto key = signing_key_from(fetched.current, "JWT_SECRET_ARN: AWSCURRENT");
    require_alg(key, cfg, "JWT_SECRET_ARN's AWSCURRENT", "put a key of JWT_ALG or set JWT_ALG to the key's");
    return key;
  }();
  auth::token_keys keys{signing, {}, std::nullopt};
  if (fetched.previous) {
    try {
      keys.previous.push_back(is_pem(*fetched.previous)
                                  ? jose::signing_key::from_pem(*fetched.previous).verification()
                                  : jose::verification_key::hmac(*fetched.previous));
    } catch (const jose::key_error& e) {
      // Nothing that verifies was made with it; a bad old version must not stop the new one.
      log::warn("JWT_SECRET_ARN: AWSPREVIOUS holds no usable key; verifying with AWSCURRENT only",
                {{"why", e.what()}});
    }
  }
  return keys;
}

}  // namespace

fs::path local_key_path(const config& cfg) { return cfg.data_dir / "jwt-key.pem"; }
fs::path local_previous_key_path(const config& cfg) { return cfg.data_dir / "jwt-key.previous.pem"; }

auth::token_keys load_token_keys(const config& cfg, const aws_plumbing* plumbing) {
  auth::token_keys keys = [&] {
    if (cfg.aws.jwt_secret_arn) return keys_from_secrets_manager(cfg, *plumbing);
    if (!jose::is_asymmetric(cfg.jwt_alg)) {
      const std::string secret = cfg.jwt_secret ? *cfg.jwt_secret
                                                : load_or_create_secret_file(cfg.data_dir / "jwt-secret", "JWT_SECRET");
      return auth::token_keys{jose::signing_key::hmac(secret), {}, std::nullopt};
    }
    if (cfg.jwt_private_key || cfg.jwt_private_key_file) {
      std::string pem;
      std::string where = "JWT_PRIVATE_KEY";
      if (cfg.jwt_private_key) {
        pem = *cfg.jwt_private_key;
      } else {
        where = "JWT_PRIVATE_KEY_FILE: " + cfg.jwt_private_key_file->string();
        auto text = read_key_file(*cfg.jwt_private_key_file, "JWT_PRIVATE_KEY_FILE");
        if (!text) throw config_error(where + " cannot be read");
        pem = std::move(*text);
      }
      auto key = signing_key_from(pem, where);
      require_alg(key, cfg, where.substr(0, where.find(':')), "use a key of JWT_ALG or set JWT_ALG to the key's");
      return auth::token_keys{std::move(key), {}, std::nullopt};
    }
    auth::token_keys local{load_or_create_local_key(cfg), {}, std::nullopt};
    if (auto previous = read_key_file(local_previous_key_path(cfg), "JWT_PRIVATE_KEY")) {
      auto key = signing_key_from(*previous, local_previous_key_path(cfg).string()).verification();
      // Mid-rotation both files hold the current key for a moment.
      if (key.kid() != local.signing.kid()) local.previous.push_back(std::move(key));
    }
    return local;
  }();
  if (jose::is_asymmetric(keys.signing.alg()) && !cfg.aws.jwt_secret_arn)
    if (auto v1 = v1_secret(cfg)) keys.previous.push_back(std::move(*v1));
  if (cfg.legacy_jwt_secret) keys.legacy = jose::verification_key::hmac(*cfg.legacy_jwt_secret);
  return keys;
}

rotated_keys rotate_local_key(const config& cfg) {
  if (cfg.aws.jwt_secret_arn)
    throw config_error("JWT_SECRET_ARN: the key is kept in Secrets Manager; rotate it there (deploy/README.md)");
  if (cfg.jwt_private_key || cfg.jwt_private_key_file)
    throw config_error("JWT_PRIVATE_KEY: the key is configured, not kept in DATA_DIR; rotate it where it is kept");
  if (!jose::is_asymmetric(cfg.jwt_alg))
    throw config_error("JWT_ALG: HS256 secrets are not rotated by `keys rotate`; choose RS256, ES256 or EdDSA");

  const fs::path current = local_key_path(cfg);
  const fs::path previous = local_previous_key_path(cfg);
  const auto replace_with = [&](const fs::path& target, const std::string& pem) {
    const fs::path staged = fs::path(target).concat(".new");
    fs::remove(staged);  // left by a rotation that died before its rename
    write_new_file(staged, pem, "JWT_PRIVATE_KEY");
    fs::rename(staged, target);  // atomic: a starting process sees the old file or the new one
  };
  rotated_keys out;
  // The current key is copied, never moved, to previous: there is always a
  // current key, so no process starting meanwhile generates one of its own.
  if (auto existing = read_key_file(current, "JWT_PRIVATE_KEY")) {
    out.previous_kid = signing_key_from(*existing, current.string()).kid();
    replace_with(previous, *existing);
  }
  const auto fresh = jose::signing_key::generate(cfg.jwt_alg);
  replace_with(current, fresh.to_pkcs8_pem());
  // v1's secret retires with the first key that replaced it.
  fs::remove(cfg.data_dir / "jwt-secret");
  out.new_kid = fresh.kid();
  log::info("signing key rotated", {{"kid", out.new_kid}, {"previous_kid", out.previous_kid}});
  return out;
}

}  // namespace gatehouse::app
