#include "app/config.hpp"

#include "aws/credential_providers.hpp"
#include "aws/endpoint.hpp"
#include "base/text.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <cstdlib>

namespace gatehouse::app {
namespace {

[[noreturn]] void reject(std::string_view name, std::string_view expects) {
  throw config_error(std::string(name) + ": expected " + std::string(expects));
}

std::int64_t parse_integer(std::string_view name, std::string_view text, std::int64_t min,
                           std::int64_t max, std::string_view expects) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min ||
      value > max)
    reject(name, expects);
  return value;
}

// "900", "900s", "15m", "1h", "30d" -> seconds.
std::int64_t parse_duration(std::string_view name, std::string_view text, std::int64_t min,
                            std::int64_t max, std::string_view expects) {
  std::int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; text.remove_suffix(1); break;
      case 'm': unit = 60; text.remove_suffix(1); break;
      case 'h': unit = 3600; text.remove_suffix(1); break;
      case 'd': unit = 86400; text.remove_suffix(1); break;
      default: break;
    }
  }
  const std::int64_t count = parse_integer(name, text, 0, max, expects);
  if (count > max / unit || count * unit < min) reject(name, expects);
  return count * unit;
}

// The server binds with make_address(); asking it here turns a bad HOST
// into a config error naming the variable instead of a failure at listen().
bool is_ip_address(const std::string& text) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(text, ec);
  return !ec;
}

std::vector<std::string> parse_origins(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    if (item != "*" && item.rfind("http://", 0) != 0 && item.rfind("https://", 0) != 0)
      reject("CORS_ORIGINS", "'*' or a comma-separated list of http(s)://host[:port] origins");
    if (item.back() == '/') reject("CORS_ORIGINS", "origins without a trailing slash");
    out.emplace_back(item);
  }
  if (out.empty()) reject("CORS_ORIGINS", "'*' or a comma-separated list of origins");
  return out;
}

// AWS resource names: what DynamoDB and S3 accept, bounded.
void check_name(std::string_view name, const std::string& value, std::size_t max, std::string_view expects) {
  if (value.empty() || value.size() > max) reject(name, expects);
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) reject(name, expects);
  }
}

// A Secrets Manager secret name: 1..512 of A-Z a-z 0-9 / _ + = . @ -.
bool is_secret_name(std::string_view name) {
  if (name.empty() || name.size() > 512) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                    c == '_' || c == '+' || c == '=' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The parts of arn:<partition>:secretsmanager:<region>:<account>:secret:<name>.
struct secret_arn {
  std::string_view partition, region, account, name;
};

std::optional<secret_arn> parse_secret_arn(std::string_view text) {
  std::string_view parts[6];
  for (auto& part : parts) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    part = text.substr(0, colon);
    text.remove_prefix(colon + 1);
  }
  if (parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret") return std::nullopt;
  return secret_arn{parts[1], parts[3], parts[4], text};
}

std::optional<std::string> region_of_arn(std::string_view id) {
  if (auto arn = parse_secret_arn(id)) return std::string(arn->region);
  return std::nullopt;
}

void check_secret_id(std::string_view variable, std::string_view id) {
  constexpr std::string_view rule =
      "a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or a secret name "
      "(1..512 of A-Z a-z 0-9 / _ + = . @ -)";
  if (id.rfind("arn:", 0) != 0) {
    if (!is_secret_name(id)) reject(variable, rule);
    return;
  }
  const auto arn = parse_secret_arn(id);
  if (!arn || arn->partition.empty() || arn->partition.size() > 32 || arn->region.empty() ||
      arn->region.size() > 64 || arn->account.size() != 12 || !is_secret_name(arn->name))
    reject(variable, rule);
  for (char c : arn->partition)
    if (!((c >= 'a' && c <= 'z') || c == '-')) reject(variable, rule);
  for (char c : arn->region)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) reject(variable, rule);
  for (char c : arn->account)
    if (c < '0' || c > '9') reject(variable, rule);
}

// A URL the links of the mails start with: http(s)://, no spaces or
// controls, at most 1024 bytes, no fragment (the link adds its own).
void check_app_url(const std::string& url) {
  constexpr std::string_view rule = "an http(s):// URL of at most 1024 bytes without a '#' fragment";
  if (url.size() > 1024 || (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)) reject("APP_URL", rule);
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>') reject("APP_URL", rule);
}

void load_mail_settings(const env_lookup& env, config& c) {
  auto& m = c.mail;
  m.directory = c.data_dir / "outbox";
  // Nobody reads files a Lambda sandbox leaves in /tmp, nor those of one
  // server among several on a shared table.
  if (c.aws.users_table || env("AWS_LAMBDA_RUNTIME_API")) m.transport = config::mail_settings::kind::off;
  if (auto v = env("MAIL_TRANSPORT")) {
    constexpr std::string_view rule = "file:DIR, smtp://[user:pass@]host:port, smtps://..., ses or off";
    if (*v == "off") {
      m.transport = config::mail_settings::kind::off;
    } else if (*v == "ses") {
      m.transport = config::mail_settings::kind::ses;
    } else if (v->rfind("file:", 0) == 0) {
      if (v->size() == 5) reject("MAIL_TRANSPORT", rule);
      m.transport = config::mail_settings::kind::file;
      m.directory = v->substr(5);
    } else if (v->rfind("smtp://", 0) == 0 || v->rfind("smtps://", 0) == 0) {
      try {
        m.smtp = smtp::parse_smtp_url(*v);  // its errors never repeat the URL (a password may be in it)
      } catch (const std::invalid_argument& e) {
        throw config_error(std::string("MAIL_TRANSPORT: ") + e.what());
      }
      if (auto ca = env("SSL_CERT_FILE"); ca && !ca->empty()) m.smtp.ca_file = *ca;
      // The request waits for its mail (on Lambda nothing runs after the
      // answer): one delivery stays well inside API Gateway's 30 s, and the
      // mailer starts no retry after 8 s.
      m.smtp.command_timeout = std::chrono::seconds(5);
      m.smtp.total_timeout = std::chrono::seconds(10);
      m.transport = config::mail_settings::kind::smtp;
    } else {
      reject("MAIL_TRANSPORT", rule);
    }
  }
  if (auto v = env("APP_NAME")) {
    if (v->empty() || v->size() > 100 || !text::is_valid_utf8(*v)) reject("APP_NAME", "1..100 bytes of UTF-8");
    for (unsigned char ch : *v)
      if (ch < 0x20 || ch == 0x7f) reject("APP_NAME", "1..100 bytes of UTF-8 without control characters");
    m.app_name = *v;
  }
  const bool real_mail = m.transport == config::mail_settings::kind::smtp || m.transport == config::mail_settings::kind::ses;
  if (auto v = env("MAIL_FROM")) {
    auto parsed = mail::parse_mailbox(*v);
    if (!parsed) reject("MAIL_FROM", "an address, optionally with a name: \"Name <no-reply@example.com>\"");
    m.from = std::move(*parsed);
    if (m.from.display_name.empty()) m.from.display_name = m.app_name;
  } else if (real_mail) {
    reject("MAIL_FROM", "a sender address for MAIL_TRANSPORT=smtp/ses, e.g. \"Example <no-reply@example.com>\"");
  } else {
    m.from.display_name = m.app_name;
  }
  m.app_url = c.public_url + "/";
  if (auto v = env("APP_URL")) {
    check_app_url(*v);
    m.app_url = *v;
  }
  if (auto v = env("MAIL_TEMPLATES_DIR"); v && !v->empty()) m.templates_dir = *v;
  if (auto v = env("SES_CONFIGURATION_SET")) {
    check_name("SES_CONFIGURATION_SET", *v, 64, "a configuration set name: 1..64 of A-Z a-z 0-9 _ -");
    m.ses_configuration_set = *v;
  }
  if (auto v = env("EMAIL_VERIFICATION")) {
    if (*v == "off") c.email_verification = accounts::verification_mode::off;
    else if (*v == "optional") c.email_verification = accounts::verification_mode::optional;
    else if (*v == "required") c.email_verification = accounts::verification_mode::required;
    else reject("EMAIL_VERIFICATION", "off, optional or required");
  }
  c.aws.uses_ses = m.transport == config::mail_settings::kind::ses;
  if (env("AWS_LAMBDA_RUNTIME_API")) m.retry_budget = std::chrono::milliseconds(2000);
}

void load_aws_settings(const env_lookup& env, config::aws_settings& a) {
  constexpr std::string_view table_rule = "a DynamoDB table name: 3..255 of A-Z a-z 0-9 _ - .";
  if (auto v = env("USERS_TABLE")) {
    check_name("USERS_TABLE", *v, 255, table_rule);
    if (v->size() < 3) reject("USERS_TABLE", table_rule);
    a.users_table = *v;
    a.users_email_table = *v + "-emails";
    a.refresh_tokens_table = *v + "-tokens";
    a.rate_limits_table = *v + "-limits";
    a.idempotency_table = *v + "-idempotency";
  }
  // The other tables default to the users table's name with a suffix.
  const auto table_override = [&](const char* name, std::string& table) {
    const auto v = env(name);
    if (!v) return;
    check_name(name, *v, 255, table_rule);
    if (v->size() < 3) reject(name, table_rule);
    table = *v;
  };
  table_override("USERS_EMAIL_TABLE", a.users_email_table);
  table_override("REFRESH_TOKENS_TABLE", a.refresh_tokens_table);
  table_override("RATE_LIMITS_TABLE", a.rate_limits_table);
  table_override("IDEMPOTENCY_TABLE", a.idempotency_table);
  if (auto v = env("PROFILE_IMAGES_BUCKET")) {
    constexpr std::string_view rule = "an S3 bucket name: 3..63 of a-z 0-9 - .";
    check_name("PROFILE_IMAGES_BUCKET", *v, 63, rule);
    for (char c : *v)
      if (c >= 'A' && c <= 'Z') reject("PROFILE_IMAGES_BUCKET", rule);
    if (v->size() < 3) reject("PROFILE_IMAGES_BUCKET", rule);
    a.images_bucket = *v;
  }
  if (auto v = env("JWT_SECRET_ARN")) {
    check_secret_id("JWT_SECRET_ARN", *v);
    a.jwt_secret_arn = *v;
  }
  if (auto v = env("SERVER_SECRET_ARN")) {
    check_secret_id("SERVER_SECRET_ARN", *v);
    a.server_secret_arn = *v;
  }
  std::optional<std::string> region;
  if (a.any()) {
    try {
      region = aws::region_from(env);  // AWS_REGION, AWS_DEFAULT_REGION, then the profile's region
    } catch (const std::invalid_argument&) {
      reject("AWS_REGION", "a region name such as eu-west-1");
    }
  }
  if (region && !region->empty()) {
    check_name("AWS_REGION", *region, 64, "a region name such as eu-west-1");
    a.region = *region;
  } else if (a.any()) {
    reject("AWS_REGION",
           "a region (or AWS_DEFAULT_REGION) when USERS_TABLE, PROFILE_IMAGES_BUCKET, JWT_SECRET_ARN, "
           "SERVER_SECRET_ARN or MAIL_TRANSPORT=ses is set");
  }
  // GetSecretValue goes to AWS_REGION's endpoint, which cannot find a
  // secret of another region: say so now rather than as a failed fetch.
  for (const auto& [variable, id] : {std::pair{"JWT_SECRET_ARN", &a.jwt_secret_arn},
                                      std::pair{"SERVER_SECRET_ARN", &a.server_secret_arn}}) {
    if (!*id) continue;
    if (const auto arn_region = region_of_arn(**id); arn_region && *arn_region != a.region)
      throw config_error(std::string(variable) + ": the ARN is in region " + *arn_region + ", but AWS_REGION is " +
                         a.region);
  }
  const auto endpoint = [&](std::string_view specific) -> std::optional<std::string> {
    std::string_view used = specific;
    auto v = env(specific);
    if (!v) {
      used = "AWS_ENDPOINT_URL";
      v = env(used);
    }
    if (v && !aws::parse_endpoint(*v))
      reject(used, "an https:// URL (http:// only for a loopback address), without path parameters");
    return v;
  };
  a.dynamodb_endpoint = endpoint("AWS_ENDPOINT_URL_DYNAMODB");
  a.s3_endpoint = endpoint("AWS_ENDPOINT_URL_S3");
  a.secrets_manager_endpoint = endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER");
  a.ses_endpoint = endpoint("AWS_ENDPOINT_URL_SESV2");
  if (auto v = env("AWS_CONNECT_TIMEOUT_MS"))
    a.connect_timeout_ms = parse_integer("AWS_CONNECT_TIMEOUT_MS", *v, 50, 60000, "milliseconds, 50..60000");
  if (auto v = env("AWS_REQUEST_TIMEOUT_MS"))
    a.request_timeout_ms = parse_integer("AWS_REQUEST_TIMEOUT_MS", *v, 100, 120000, "milliseconds, 100..120000");
  if (auto v = env("AWS_TOTAL_TIMEOUT_MS"))
    a.total_timeout_ms = parse_integer("AWS_TOTAL_TIMEOUT_MS", *v, 100, 300000, "milliseconds, 100..300000");
  if (auto v = env("AWS_MAX_ATTEMPTS"))
    a.max_attempts = static_cast<int>(parse_integer("AWS_MAX_ATTEMPTS", *v, 1, 10, "an integer 1..10"));
  if (auto v = env("S3_SSE")) {
    if (*v != "AES256" && *v != "aws:kms") reject("S3_SSE", "AES256 or aws:kms");
    a.s3_server_side_encryption = *v;
  }
  if (auto v = env("SSL_CERT_FILE"); v && !v->empty()) a.ssl_cert_file = *v;
}

// JWT_ALG and its key, JWT_ISSUER, JWT_AUDIENCE, LEGACY_JWT_SECRET; after
// PUBLIC_URL (the issuer's default) and the AWS settings (JWT_SECRET_ARN).
void load_token_settings(const env_lookup& env, config& c) {
  if (auto v = env("JWT_ALG")) {
    const auto alg = jose::algorithm_named(*v);
    if (!alg) reject("JWT_ALG", "RS256, ES256, EdDSA or HS256");
    c.jwt_alg = *alg;
  }
  const bool asymmetric = jose::is_asymmetric(c.jwt_alg);
  const bool on_lambda = env("AWS_LAMBDA_RUNTIME_API").has_value();

  if (env("JWT_PRIVATE_KEY") && env("JWT_PRIVATE_KEY_FILE"))
    throw config_error("JWT_PRIVATE_KEY_FILE: JWT_PRIVATE_KEY is set too; set one of them, not both");
  for (const char* variable : {"JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE"}) {
    if (!env(variable)) continue;
    if (!asymmetric) reject(variable, "unset with JWT_ALG=HS256, whose key is JWT_SECRET");
    if (c.aws.jwt_secret_arn)
      throw config_error(std::string(variable) + ": JWT_SECRET_ARN is set too; set one of them, not both");
  }
  if (auto v = env("JWT_PRIVATE_KEY")) {
    if (v->find("-----BEGIN ") == std::string::npos) reject("JWT_PRIVATE_KEY", "a PEM private key");
    c.jwt_private_key = *v;
  }
  if (auto v = env("JWT_PRIVATE_KEY_FILE")) {
    if (v->empty()) reject("JWT_PRIVATE_KEY_FILE", "the path of a PEM private key");
    c.jwt_private_key_file = *v;
  }
  // Every instance of a function must sign with one key, and a key
  // generated into one instance's /tmp is that instance's alone.
  if (on_lambda && !c.aws.jwt_secret_arn) {
    if (asymmetric && !c.jwt_private_key && !c.jwt_private_key_file)
      reject("JWT_SECRET_ARN", "a Secrets Manager secret holding the PEM signing key on Lambda, where every "
                               "instance must sign with one key (or JWT_PRIVATE_KEY)");
    if (!asymmetric && !c.jwt_secret)
      reject("JWT_SECRET_ARN", "a Secrets Manager secret on Lambda, where every instance must share the "
                               "HS256 secret (or JWT_SECRET)");
  }

  if (auto v = env("LEGACY_JWT_SECRET")) {
    // RFC 7518 3.2: an HS256 key of at least 256 bits.
    if (v->size() < 32 || v->size() > 4096) reject("LEGACY_JWT_SECRET", "the Node.js original's secret, 32..4096 bytes");
    c.legacy_jwt_secret = *v;
  }

  if (auto v = env("JWT_ISSUER")) {
    if (v->empty() || v->size() > 256) reject("JWT_ISSUER", "1..256 characters");
    c.jwt_issuer = *v;
  } else if (asymmetric) {
    if (on_lambda) reject("JWT_ISSUER", "the API's public https:// base URL on Lambda (deploy/serverless.yml sets it)");
    c.jwt_issuer = c.public_url;
  } else {
    c.jwt_issuer = "gatehouse";  // v1's: its tokens keep verifying under HS256
  }
  // Verifiers find the keys at {issuer}/.well-known/openid-configuration.
  if (asymmetric) {
    const std::string rule = on_lambda ? "the API's public https:// base URL, without a trailing slash"
                                       : "an http(s):// base URL without a trailing slash, e.g. PUBLIC_URL";
    const bool https = c.jwt_issuer.rfind("https://", 0) == 0;
    const bool http = c.jwt_issuer.rfind("http://", 0) == 0;
    const std::size_t scheme = https ? 8 : http ? 7 : 0;
    if ((on_lambda ? !https : scheme == 0) || c.jwt_issuer.size() == scheme || c.jwt_issuer.back() == '/' ||
        c.jwt_issuer.find_first_of(" \t\"#?") != std::string::npos)
      reject("JWT_ISSUER", rule);
  }
  if (auto v = env("JWT_AUDIENCE")) {
    if (v->empty() || v->size() > 256) reject("JWT_AUDIENCE", "1..256 characters");
    c.jwt_audience = *v;
  }
}

}  // namespace

auth::rate_limit parse_rate_limit(std::string_view name, std::string_view text) {
  constexpr std::string_view expects =
      "N/window with N 1..1000000 and a window from 1s to 7d (e.g. 5/15m, 30/1h), or 0 to turn it off";
  if (text == "0") return {};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) reject(name, expects);
  const std::int64_t max = parse_integer(name, text.substr(0, slash), 1, 1'000'000, expects);
  const std::int64_t window = parse_duration(name, text.substr(slash + 1), 1, 7 * 86400, expects);
  return {max, window};
}

config load_config(const env_lookup& env) {
  config c;
  if (auto v = env("HOST")) {
    if (!is_ip_address(*v)) reject("HOST", "an IP address to listen on, e.g. 127.0.0.1 or ::1");
    c.host = *v;
  }
  if (auto v = env("PORT"))
    c.port = static_cast<unsigned short>(parse_integer("PORT", *v, 1, 65535, "a port number 1..65535"));
  if (auto v = env("DATA_DIR")) {
    if (v->empty()) reject("DATA_DIR", "a directory path");
    c.data_dir = *v;
  } else if (env("AWS_LAMBDA_RUNTIME_API")) {
    c.data_dir = "/tmp/gatehouse";  // on Lambda only /tmp is writable
  }
  if (env("JWT_SECRET") && env("JWT_SECRET_ARN"))
    throw config_error("JWT_SECRET_ARN: JWT_SECRET is set too; set one of them, not both");
  if (auto v = env("JWT_SECRET")) {
    if (v->size() < 32) reject("JWT_SECRET", "at least 32 bytes");
    c.jwt_secret = *v;
  }
  if (env("SERVER_SECRET") && env("SERVER_SECRET_ARN"))
    throw config_error("SERVER_SECRET_ARN: SERVER_SECRET is set too; set one of them, not both");
  if (auto v = env("SERVER_SECRET")) {
    if (v->size() < 32 || v->size() > 4096) reject("SERVER_SECRET", "32..4096 bytes");
    c.server_secret = *v;
  }
  if (auto v = env("ACCESS_TOKEN_TTL"))
    c.access_token_ttl_seconds = parse_duration("ACCESS_TOKEN_TTL", *v, 60, 86400,
                                                "a duration from 60s to 24h, e.g. 900, 15m or 1h");
  if (auto v = env("REFRESH_TOKEN_TTL"))
    c.refresh_token_ttl_seconds = parse_duration("REFRESH_TOKEN_TTL", *v, 3600, 365 * 86400,
                                                 "a duration from 1h to 365d, e.g. 30d or 720h");
  if (auto v = env("REFRESH_REUSE_GRACE"))
    c.refresh_reuse_grace_seconds = parse_duration("REFRESH_REUSE_GRACE", *v, 0, 60,
                                                   "a duration from 0s to 60s, e.g. 10s (0 turns the grace off)");
  if (auto v = env("IDEMPOTENCY_LEASE"))
    c.idempotency_lease_seconds = parse_duration("IDEMPOTENCY_LEASE", *v, 1, 300,
                                                 "a duration from 1s to 5m, e.g. 30s");
  if (auto v = env("SESSION_MAX_AGE"))
    c.session_max_age_seconds = parse_duration("SESSION_MAX_AGE", *v, 10, 3650 * 86400,
                                               "a duration from 10s to 3650d, e.g. 90d or 2160h");
  if (auto v = env("MAX_SESSIONS_PER_USER"))
    c.max_sessions_per_user = parse_integer("MAX_SESSIONS_PER_USER", *v, 1, 10000, "an integer 1..10000");
  if (auto v = env("BCRYPT_COST"))
    c.bcrypt_cost = static_cast<int>(parse_integer("BCRYPT_COST", *v, 4, 14, "an integer 4..14"));
  if (auto v = env("BCRYPT_CONCURRENCY"))
    c.bcrypt_concurrency =
        static_cast<std::size_t>(parse_integer("BCRYPT_CONCURRENCY", *v, 1, 256, "an integer 1..256"));
  if (auto v = env("BCRYPT_QUEUE_DEPTH"))
    c.bcrypt_queue_depth = static_cast<std::size_t>(
        parse_integer("BCRYPT_QUEUE_DEPTH", *v, 0, 1024, "an integer 0..1024 (0: no hash waits)"));
  if (auto v = env("MAX_PENDING_UPLOADS"))
    c.max_pending_uploads =
        static_cast<std::size_t>(parse_integer("MAX_PENDING_UPLOADS", *v, 1, 100, "an integer 1..100"));
  if (auto v = env("UPLOAD_FORM_TTL"))
    c.upload_form_ttl_seconds =
        parse_duration("UPLOAD_FORM_TTL", *v, 1, 3600, "a duration from 1s to 1h, e.g. 300 or 5m");
  if (auto v = env("UPLOAD_SWEEP_INTERVAL"))
    c.upload_sweep_interval_seconds =
        parse_duration("UPLOAD_SWEEP_INTERVAL", *v, 1, 86400, "a duration from 1s to 1d, e.g. 600 or 10m");
  if (auto v = env("MAX_IMAGE_BYTES"))
    c.max_image_bytes = static_cast<std::size_t>(parse_integer(
        "MAX_IMAGE_BYTES", *v, 1024, 50 * 1024 * 1024, "a byte count from 1024 to 52428800 (50 MiB)"));
  if (auto v = env("IMAGE_URL_TTL"))
    c.image_url_ttl_seconds = parse_duration("IMAGE_URL_TTL", *v, 10, 7 * 86400,
                                             "a duration from 10s to 7d, e.g. 900 or 15m");
  if (auto v = env("CORS_ORIGINS")) c.cors_origins = parse_origins(*v);
  if (auto v = env("LOG_LEVEL")) {
    if (!log::parse_level(*v, c.log_level)) reject("LOG_LEVEL", "one of debug, info, warn, error");
  }
  if (auto v = env("REQUEST_TIMEOUT_MS"))
    c.request_timeout_ms = parse_integer("REQUEST_TIMEOUT_MS", *v, 1000, 29000, "milliseconds, 1000..29000");
  if (auto v = env("IO_THREADS"))
    c.io_threads = static_cast<std::size_t>(parse_integer("IO_THREADS", *v, 1, 64, "an integer 1..64"));
  if (auto v = env("WORKER_THREADS"))
    c.worker_threads = static_cast<std::size_t>(parse_integer("WORKER_THREADS", *v, 1, 256, "an integer 1..256"));
  if (auto v = env("PUBLIC_URL")) {
    const std::size_t scheme = v->rfind("https://", 0) == 0 ? 8 : v->rfind("http://", 0) == 0 ? 7 : 0;
    c.public_url = *v;
    // Trailing slashes go, but never the scheme's own: "http://" is no URL.
    while (c.public_url.size() > scheme && c.public_url.back() == '/') c.public_url.pop_back();
    if (scheme == 0 || c.public_url.size() == scheme)
      reject("PUBLIC_URL", "an http(s):// base URL, e.g. http://127.0.0.1:3000");
  } else {
    // An IPv6 literal needs brackets in a URL (RFC 3986 3.2.2).
    const bool ipv6 = c.host.find(':') != std::string::npos;
    c.public_url = "http://" + (ipv6 ? "[" + c.host + "]" : c.host) + ":" + std::to_string(c.port);
  }
  if (auto v = env("RATE_LIMIT_LOGIN_PER_EMAIL_IP"))
    c.rate_limits.login_per_email_ip = parse_rate_limit("RATE_LIMIT_LOGIN_PER_EMAIL_IP", *v);
  if (auto v = env("RATE_LIMIT_LOGIN_PER_EMAIL"))
    c.rate_limits.login_per_email = parse_rate_limit("RATE_LIMIT_LOGIN_PER_EMAIL", *v);
  if (auto v = env("RATE_LIMIT_LOGIN_PER_IP"))
    c.rate_limits.login_per_ip = parse_rate_limit("RATE_LIMIT_LOGIN_PER_IP", *v);
  if (auto v = env("RATE_LIMIT_LOGINS_PER_IP"))
    c.rate_limits.logins_per_ip = parse_rate_limit("RATE_LIMIT_LOGINS_PER_IP", *v);
  if (auto v = env("RATE_LIMIT_SIGNUP_PER_IP"))
    c.rate_limits.signup_per_ip = parse_rate_limit("RATE_LIMIT_SIGNUP_PER_IP", *v);
  if (auto v = env("RATE_LIMIT_MAIL_PER_EMAIL"))
    c.rate_limits.mail_per_email = parse_rate_limit("RATE_LIMIT_MAIL_PER_EMAIL", *v);
  if (auto v = env("RATE_LIMIT_MAIL_PER_IP"))
    c.rate_limits.mail_per_ip = parse_rate_limit("RATE_LIMIT_MAIL_PER_IP", *v);
  if (auto v = env("TRUST_PROXY")) {
    // The number of proxies in front that append to X-Forwarded-For
    // (api/client_ip picks the entry that many from the right).
    if (*v == "true") c.trust_proxy = 1;
    else if (*v == "false") c.trust_proxy = 0;
    else c.trust_proxy = static_cast<std::size_t>(
        parse_integer("TRUST_PROXY", *v, 0, 10, "false, true (one proxy) or a number of proxies 0..10"));
  }
  // Behind API Gateway the event's sourceIp is the client; a header the
  // client sent must not override it.
  if (env("AWS_LAMBDA_RUNTIME_API")) c.trust_proxy = 0;
  // USERS_TABLE decides the mail default, and MAIL_TRANSPORT=ses needs
  // the AWS plumbing: the table first, then mail, then the rest of AWS.
  if (auto v = env("USERS_TABLE")) c.aws.users_table = *v;
  load_mail_settings(env, c);
  load_aws_settings(env, c.aws);
  // Every instance of a function must derive the same keys (a reset link
  // minted by one is spent at another; rate-limit counters are shared), and
  // a secret generated into one instance's /tmp is that instance's alone.
  if (env("AWS_LAMBDA_RUNTIME_API") && !c.server_secret && !c.aws.server_secret_arn)
    reject("SERVER_SECRET_ARN",
           "a Secrets Manager secret on Lambda, where every instance must share the server secret (or SERVER_SECRET)");
  load_token_settings(env, c);
  // A lease shorter than a request may run would let a retry take over an
  // attempt that is still working: the work would be done twice.
  if (c.idempotency_lease_seconds * 1000 <= c.request_timeout_ms)
    reject("IDEMPOTENCY_LEASE", "longer than REQUEST_TIMEOUT_MS (" + std::to_string(c.request_timeout_ms) +
                                    " ms): an attempt holds its key while it may still run");
  return c;
}

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace gatehouse::app
