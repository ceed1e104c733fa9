// Configuration from the environment: every default, every variable parsed
// when valid, and every invalid value refused with a config_error whose
// message starts with the variable's name (what the operator sees when the
// process refuses to start).
#include "app/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::app {
namespace {

using env_map = std::map<std::string, std::string, std::less<>>;

env_lookup lookup_in(env_map vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

config load(env_map vars) { return load_config(lookup_in(std::move(vars))); }

// `vars` inside Lambda, with the signing key and issuer a function needs
// (config checks only that the key looks like a PEM; app/token_keys loads it).
env_map on_lambda(env_map vars) {
  vars.insert({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
               {"JWT_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"},
               {"JWT_ISSUER", "https://auth.example"}});
  return vars;
}

// Passes only when loading throws config_error and its message starts with
// "<variable>:"; `message` receives what() for further checks.
::testing::AssertionResult refused(const env_map& vars, std::string_view variable,
                                   std::string* message = nullptr) {
  try {
    (void)load(vars);
  } catch (const config_error& e) {
    const std::string what = e.what();
    if (message) *message = what;
    if (what.rfind(std::string(variable) + ":", 0) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message does not start with '" << variable << ":': " << what;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw something other than config_error: " << e.what();
  }
  return ::testing::AssertionFailure() << "accepted";
}

TEST(load_config, uses_every_default_when_nothing_is_set) {
  const config c = load({});
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 3000);
  EXPECT_EQ(c.data_dir, std::filesystem::path("data"));
  EXPECT_EQ(c.jwt_secret, std::nullopt);
  EXPECT_EQ(c.jwt_alg, jose::algorithm::rs256) << "what API Gateway's JWT authorizer accepts";
  EXPECT_EQ(c.jwt_private_key, std::nullopt);
  EXPECT_EQ(c.jwt_private_key_file, std::nullopt);
  EXPECT_EQ(c.jwt_issuer, "http://127.0.0.1:3000") << "PUBLIC_URL, where the discovery document is";
  EXPECT_EQ(c.jwt_audience, std::nullopt);
  EXPECT_EQ(c.legacy_jwt_secret, std::nullopt);
  EXPECT_EQ(c.access_token_ttl_seconds, 900) << "15 minutes, now that refresh tokens exist";
  EXPECT_EQ(c.refresh_token_ttl_seconds, 30 * 86400);
  EXPECT_EQ(c.refresh_reuse_grace_seconds, 10);
  EXPECT_EQ(c.bcrypt_cost, 10);
  EXPECT_EQ(c.max_image_bytes, 5u * 1024 * 1024);
  EXPECT_EQ(c.image_url_ttl_seconds, 900);
  EXPECT_EQ(c.cors_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(c.log_level, log::level::info);
  EXPECT_EQ(c.public_url, "http://127.0.0.1:3000");
  EXPECT_EQ(c.worker_threads, 0u);
  // Rate limiting is on by default.
  EXPECT_EQ(c.rate_limits.login_per_email_ip, (auth::rate_limit{5, 15 * 60}));
  EXPECT_EQ(c.rate_limits.login_per_email, (auth::rate_limit{100, 60 * 60}));
  EXPECT_EQ(c.rate_limits.login_per_ip, (auth::rate_limit{30, 5 * 60}));
  EXPECT_EQ(c.rate_limits.logins_per_ip, (auth::rate_limit{100, 5 * 60}));
  EXPECT_EQ(c.session_max_age_seconds, 90 * 86400);
  EXPECT_EQ(c.max_sessions_per_user, 50);
  EXPECT_EQ(c.rate_limits.signup_per_ip, (auth::rate_limit{30, 60 * 60}));
  EXPECT_EQ(c.trust_proxy, 0u);
}

TEST(load_config, reads_variables_through_the_lookup_it_is_given) {
  std::vector<std::string> asked;
  (void)load_config([&](std::string_view name) -> std::optional<std::string> {
    asked.emplace_back(name);
    return std::nullopt;
  });
  for (const char* name : {"HOST", "PORT", "DATA_DIR", "JWT_SECRET", "JWT_ISSUER", "ACCESS_TOKEN_TTL",
                           "BCRYPT_COST", "MAX_IMAGE_BYTES", "IMAGE_URL_TTL", "CORS_ORIGINS", "LOG_LEVEL",
                           "WORKER_THREADS", "PUBLIC_URL", "REFRESH_TOKEN_TTL", "REFRESH_REUSE_GRACE",
                           "REFRESH_TOKENS_TABLE", "RATE_LIMIT_LOGIN_PER_EMAIL", "RATE_LIMIT_LOGIN_PER_IP",
                           "RATE_LIMIT_SIGNUP_PER_IP", "TRUST_PROXY", "RATE_LIMITS_TABLE", "JWT_SECRET_ARN",
                           "AWS_ENDPOINT_URL_SECRETS_MANAGER", "RATE_LIMIT_LOGIN_PER_EMAIL_IP",
                           "RATE_LIMIT_LOGINS_PER_IP", "SESSION_MAX_AGE", "MAX_SESSIONS_PER_USER", "SERVER_SECRET",
                           "SERVER_SECRET_ARN", "REQUEST_TIMEOUT_MS", "JWT_ALG", "JWT_PRIVATE_KEY",
                           "JWT_PRIVATE_KEY_FILE", "JWT_AUDIENCE", "LEGACY_JWT_SECRET"})
    EXPECT_NE(std::find(asked.begin(), asked.end(), name), asked.end()) << name;
}

TEST(load_config, parses_port_at_both_ends_of_its_range) {
  EXPECT_EQ(load({{"PORT", "1"}}).port, 1);
  EXPECT_EQ(load({{"PORT", "65535"}}).port, 65535);
  EXPECT_EQ(load({{"PORT", "8080"}}).port, 8080);
}

TEST(load_config, parses_host_data_dir_issuer_and_a_long_enough_secret) {
  const std::string secret(32, 'k');
  const config c = load({{"HOST", "0.0.0.0"},
                         {"DATA_DIR", "/var/lib/gatehouse"},
                         {"JWT_SECRET", secret},
                         {"JWT_ISSUER", "https://auth.example"}});
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.data_dir, std::filesystem::path("/var/lib/gatehouse"));
  EXPECT_EQ(c.jwt_secret, secret);
  EXPECT_EQ(c.jwt_issuer, "https://auth.example");
}

TEST(load_config, parses_bcrypt_cost_at_both_ends_of_its_range) {
  EXPECT_EQ(load({{"BCRYPT_COST", "4"}}).bcrypt_cost, 4);
  EXPECT_EQ(load({{"BCRYPT_COST", "14"}}).bcrypt_cost, 14);
}

TEST(load_config, parses_access_token_ttl_as_seconds_or_with_a_unit) {
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"900", 900}, {"15m", 900}, {"1h", 3600}, {"90s", 90},
      {"60", 60},   {"24h", 86400}, {"1d", 86400}, {"1440m", 86400},
  };
  for (const auto& [text, seconds] : cases)
    EXPECT_EQ(load({{"ACCESS_TOKEN_TTL", text}}).access_token_ttl_seconds, seconds) << text;
}

TEST(load_config, parses_refresh_token_ttl_from_one_hour_to_a_year) {
  EXPECT_EQ(load({{"REFRESH_TOKEN_TTL", "1h"}}).refresh_token_ttl_seconds, 3600);
  EXPECT_EQ(load({{"REFRESH_TOKEN_TTL", "3600"}}).refresh_token_ttl_seconds, 3600);
  EXPECT_EQ(load({{"REFRESH_TOKEN_TTL", "720h"}}).refresh_token_ttl_seconds, 30 * 86400);
  EXPECT_EQ(load({{"REFRESH_TOKEN_TTL", "7d"}}).refresh_token_ttl_seconds, 7 * 86400);
  EXPECT_EQ(load({{"REFRESH_TOKEN_TTL", "365d"}}).refresh_token_ttl_seconds, 365 * 86400);
}

TEST(load_config, parses_refresh_reuse_grace_from_zero_to_a_minute) {
  EXPECT_EQ(load({{"REFRESH_REUSE_GRACE", "0"}}).refresh_reuse_grace_seconds, 0);
  EXPECT_EQ(load({{"REFRESH_REUSE_GRACE", "0s"}}).refresh_reuse_grace_seconds, 0);
  EXPECT_EQ(load({{"REFRESH_REUSE_GRACE", "30s"}}).refresh_reuse_grace_seconds, 30);
  EXPECT_EQ(load({{"REFRESH_REUSE_GRACE", "60"}}).refresh_reuse_grace_seconds, 60);
  EXPECT_EQ(load({{"REFRESH_REUSE_GRACE", "1m"}}).refresh_reuse_grace_seconds, 60);
}

TEST(load_config, names_the_refresh_tokens_table_after_the_users_table_unless_set) {
  EXPECT_EQ(load({}).aws.refresh_tokens_table, "");
  const env_map aws{{"USERS_TABLE", "gatehouse-users"}, {"AWS_REGION", "eu-west-1"}};
  EXPECT_EQ(load(aws).aws.refresh_tokens_table, "gatehouse-users-tokens");
  env_map named = aws;
  named["REFRESH_TOKENS_TABLE"] = "sessions.prod";
  EXPECT_EQ(load(named).aws.refresh_tokens_table, "sessions.prod");
  EXPECT_EQ(load(named).aws.users_email_table, "gatehouse-users-emails");
  named["REFRESH_TOKENS_TABLE"] = "no spaces";
  EXPECT_TRUE(refused(named, "REFRESH_TOKENS_TABLE"));
  named["REFRESH_TOKENS_TABLE"] = "ab";
  EXPECT_TRUE(refused(named, "REFRESH_TOKENS_TABLE"));
}

TEST(load_config, names_the_idempotency_table_after_the_users_table_unless_set) {
  EXPECT_EQ(load({}).aws.idempotency_table, "");
  const env_map aws{{"USERS_TABLE", "gatehouse-users"}, {"AWS_REGION", "eu-west-1"}};
  EXPECT_EQ(load(aws).aws.idempotency_table, "gatehouse-users-idempotency");
  env_map named = aws;
  named["IDEMPOTENCY_TABLE"] = "idem.prod";
  EXPECT_EQ(load(named).aws.idempotency_table, "idem.prod");
  named["IDEMPOTENCY_TABLE"] = "x";
  EXPECT_TRUE(refused(named, "IDEMPOTENCY_TABLE"));
}

// A lease no longer than a request may run would let a retry take over an
// attempt still at work.
TEST(load_config, the_idempotency_lease_outlasts_the_request_timeout) {
  EXPECT_EQ(load({}).idempotency_lease_seconds, 30);
  EXPECT_EQ(load({{"IDEMPOTENCY_LEASE", "3s"}, {"REQUEST_TIMEOUT_MS", "2000"}}).idempotency_lease_seconds, 3);
  EXPECT_TRUE(refused({{"IDEMPOTENCY_LEASE", "2s"}}, "IDEMPOTENCY_LEASE")) << "the default request timeout is 25 s";
  EXPECT_TRUE(refused({{"IDEMPOTENCY_LEASE", "2s"}, {"REQUEST_TIMEOUT_MS", "2000"}}, "IDEMPOTENCY_LEASE"));
  EXPECT_TRUE(refused({{"IDEMPOTENCY_LEASE", "0"}}, "IDEMPOTENCY_LEASE"));
  EXPECT_TRUE(refused({{"IDEMPOTENCY_LEASE", "6m"}}, "IDEMPOTENCY_LEASE"));
}

TEST(load_config, names_the_rate_limits_table_after_the_users_table_unless_set) {
  EXPECT_EQ(load({}).aws.rate_limits_table, "");
  const env_map aws{{"USERS_TABLE", "gatehouse-users"}, {"AWS_REGION", "eu-west-1"}};
  EXPECT_EQ(load(aws).aws.rate_limits_table, "gatehouse-users-limits");
  env_map named = aws;
  named["RATE_LIMITS_TABLE"] = "limits.prod";
  EXPECT_EQ(load(named).aws.rate_limits_table, "limits.prod");
  named["RATE_LIMITS_TABLE"] = "no spaces";
  EXPECT_TRUE(refused(named, "RATE_LIMITS_TABLE"));
  named["RATE_LIMITS_TABLE"] = "ab";
  EXPECT_TRUE(refused(named, "RATE_LIMITS_TABLE"));
}

TEST(load_config, parses_each_rate_limit_as_count_per_window_or_zero_for_off) {
  struct valid_case {
    const char* text;
    auth::rate_limit expected;
  };
  const valid_case cases[] = {
      {"5/15m", {5, 900}}, {"30/300", {30, 300}}, {"30/300s", {30, 300}}, {"30/1h", {30, 3600}},
      {"100/1d", {100, 86400}}, {"1/1s", {1, 1}}, {"1000000/7d", {1'000'000, 7 * 86400}}, {"2/2s", {2, 2}},
      {"0", {0, 0}},
  };
  for (const char* variable : {"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "RATE_LIMIT_LOGIN_PER_EMAIL", "RATE_LIMIT_LOGIN_PER_IP",
                               "RATE_LIMIT_LOGINS_PER_IP", "RATE_LIMIT_SIGNUP_PER_IP"}) {
    for (const auto& c : cases) {
      const auto limits = load({{variable, c.text}}).rate_limits;
      const std::string name = variable;
      const auto& got = name == "RATE_LIMIT_LOGIN_PER_EMAIL_IP" ? limits.login_per_email_ip
                        : name == "RATE_LIMIT_LOGIN_PER_EMAIL"  ? limits.login_per_email
                        : name == "RATE_LIMIT_LOGIN_PER_IP"     ? limits.login_per_ip
                        : name == "RATE_LIMIT_LOGINS_PER_IP"    ? limits.logins_per_ip
                                                                : limits.signup_per_ip;
      EXPECT_EQ(got, c.expected) << variable << "=" << c.text;
    }
  }
  // "0" turns that one limit off and leaves the others at their defaults.
  const auto one_off = load({{"RATE_LIMIT_LOGIN_PER_IP", "0"}}).rate_limits;
  EXPECT_FALSE(one_off.login_per_ip.enabled());
  EXPECT_TRUE(one_off.login_per_email.enabled());
  EXPECT_TRUE(one_off.signup_per_ip.enabled());
}

TEST(load_config, parses_session_max_age_and_max_sessions_per_user) {
  EXPECT_EQ(load({{"SESSION_MAX_AGE", "10s"}}).session_max_age_seconds, 10) << "short enough for a test to see it end";
  EXPECT_EQ(load({{"SESSION_MAX_AGE", "7776000"}}).session_max_age_seconds, 90 * 86400);
  EXPECT_EQ(load({{"SESSION_MAX_AGE", "12h"}}).session_max_age_seconds, 12 * 3600);
  EXPECT_EQ(load({{"SESSION_MAX_AGE", "3650d"}}).session_max_age_seconds, 3650 * 86400);
  for (const char* bad : {"9s", "0", "", "90 d", "3651d", "-1", "1w"})
    EXPECT_THROW(load({{"SESSION_MAX_AGE", bad}}), config_error) << bad;
  EXPECT_EQ(load({{"MAX_SESSIONS_PER_USER", "1"}}).max_sessions_per_user, 1);
  EXPECT_EQ(load({{"MAX_SESSIONS_PER_USER", "10000"}}).max_sessions_per_user, 10000);
  for (const char* bad : {"0", "10001", "-3", "five", ""})
    EXPECT_THROW(load({{"MAX_SESSIONS_PER_USER", bad}}), config_error) << bad;
}

TEST(load_config, parses_trust_proxy_as_a_hop_count_and_ignores_it_on_lambda) {
  EXPECT_EQ(load({{"TRUST_PROXY", "true"}}).trust_proxy, 1u);
  EXPECT_EQ(load({{"TRUST_PROXY", "1"}}).trust_proxy, 1u);
  EXPECT_EQ(load({{"TRUST_PROXY", "2"}}).trust_proxy, 2u);
  EXPECT_EQ(load({{"TRUST_PROXY", "10"}}).trust_proxy, 10u);
  EXPECT_EQ(load({{"TRUST_PROXY", "false"}}).trust_proxy, 0u);
  EXPECT_EQ(load({{"TRUST_PROXY", "0"}}).trust_proxy, 0u);
  for (const char* bad : {"11", "-1", "yes", "", "1.5", "TRUE"})
    EXPECT_THROW(load({{"TRUST_PROXY", bad}}), config_error) << bad;
  // On Lambda the event's sourceIp is the client, whatever a header says.
  EXPECT_EQ(load(on_lambda({{"TRUST_PROXY", "true"}, {"SERVER_SECRET", std::string(32, 's')}}))
                .trust_proxy,
            0u);
}

TEST(load_config, parses_image_url_ttl_with_a_unit) {
  EXPECT_EQ(load({{"IMAGE_URL_TTL", "15m"}}).image_url_ttl_seconds, 900);
  EXPECT_EQ(load({{"IMAGE_URL_TTL", "10"}}).image_url_ttl_seconds, 10);
  EXPECT_EQ(load({{"IMAGE_URL_TTL", "7d"}}).image_url_ttl_seconds, 7 * 86400);
}

TEST(load_config, parses_max_image_bytes_within_its_range) {
  EXPECT_EQ(load({{"MAX_IMAGE_BYTES", "1024"}}).max_image_bytes, 1024u);
  EXPECT_EQ(load({{"MAX_IMAGE_BYTES", "52428800"}}).max_image_bytes, 52428800u);
}

TEST(load_config, splits_cors_origins_on_commas_and_trims_spaces) {
  EXPECT_EQ(load({{"CORS_ORIGINS", "https://a.example, http://localhost:5173"}}).cors_origins,
            (std::vector<std::string>{"https://a.example", "http://localhost:5173"}));
  EXPECT_EQ(load({{"CORS_ORIGINS", "*"}}).cors_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(load({{"CORS_ORIGINS", " https://a.example "}}).cors_origins,
            std::vector<std::string>{"https://a.example"});
}

TEST(load_config, parses_each_log_level) {
  EXPECT_EQ(load({{"LOG_LEVEL", "debug"}}).log_level, log::level::debug);
  EXPECT_EQ(load({{"LOG_LEVEL", "info"}}).log_level, log::level::info);
  EXPECT_EQ(load({{"LOG_LEVEL", "warn"}}).log_level, log::level::warn);
  EXPECT_EQ(load({{"LOG_LEVEL", "error"}}).log_level, log::level::error);
}

TEST(load_config, parses_worker_threads_within_its_range) {
  EXPECT_EQ(load({{"WORKER_THREADS", "1"}}).worker_threads, 1u);
  EXPECT_EQ(load({{"WORKER_THREADS", "256"}}).worker_threads, 256u);
}

TEST(load_config, parses_the_request_timeout_within_its_range_under_api_gateways_30_s) {
  EXPECT_EQ(load({}).request_timeout_ms, 25000);
  EXPECT_EQ(load({{"REQUEST_TIMEOUT_MS", "1000"}}).request_timeout_ms, 1000);
  EXPECT_EQ(load({{"REQUEST_TIMEOUT_MS", "29000"}}).request_timeout_ms, 29000);
  EXPECT_TRUE(refused({{"REQUEST_TIMEOUT_MS", "999"}}, "REQUEST_TIMEOUT_MS"));
  EXPECT_TRUE(refused({{"REQUEST_TIMEOUT_MS", "30000"}}, "REQUEST_TIMEOUT_MS"));
  EXPECT_TRUE(refused({{"REQUEST_TIMEOUT_MS", "25s"}}, "REQUEST_TIMEOUT_MS"));
}

TEST(load_config, trims_trailing_slashes_from_public_url) {
  EXPECT_EQ(load({{"PUBLIC_URL", "https://api.example.com/"}}).public_url, "https://api.example.com");
  EXPECT_EQ(load({{"PUBLIC_URL", "https://api.example.com//"}}).public_url, "https://api.example.com");
  EXPECT_EQ(load({{"PUBLIC_URL", "http://127.0.0.1:3000"}}).public_url, "http://127.0.0.1:3000");
  EXPECT_EQ(load({{"PUBLIC_URL", "https://example.com/auth/"}}).public_url, "https://example.com/auth");
}

TEST(load_config, derives_the_default_public_url_from_host_and_port) {
  EXPECT_EQ(load({{"PORT", "8080"}}).public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(load({{"HOST", "0.0.0.0"}, {"PORT", "1"}}).public_url, "http://0.0.0.0:1");
  // An explicit PUBLIC_URL wins over HOST and PORT.
  EXPECT_EQ(load({{"PORT", "8080"}, {"PUBLIC_URL", "https://a.example"}}).public_url, "https://a.example");
}

TEST(load_config, brackets_an_ipv6_host_in_the_default_public_url) {
  EXPECT_EQ(load({{"HOST", "::1"}}).host, "::1");
  EXPECT_EQ(load({{"HOST", "::1"}}).public_url, "http://[::1]:3000");
  EXPECT_EQ(load({{"HOST", "::"}, {"PORT", "8080"}}).public_url, "http://[::]:8080");
}

struct invalid_case {
  std::string variable;
  std::string value;
};

TEST(load_config, refuses_every_invalid_value_naming_the_variable) {
  const std::vector<invalid_case> cases = {
      {"HOST", ""}, {"HOST", "localhost"}, {"HOST", "127.0.0.1 "}, {"HOST", "[::1]"},
      {"PORT", ""}, {"PORT", "0"}, {"PORT", "65536"}, {"PORT", "abc"}, {"PORT", "80x"},
      {"PORT", " 80"}, {"PORT", "-1"}, {"PORT", "+80"}, {"PORT", "99999999999999999999999"},
      {"DATA_DIR", ""},
      {"JWT_ISSUER", ""}, {"JWT_ISSUER", std::string(257, 'i')},
      {"BCRYPT_COST", "3"}, {"BCRYPT_COST", "15"}, {"BCRYPT_COST", ""},
      {"ACCESS_TOKEN_TTL", "59"}, {"ACCESS_TOKEN_TTL", "25h"}, {"ACCESS_TOKEN_TTL", "1w"},
      {"ACCESS_TOKEN_TTL", "-5"}, {"ACCESS_TOKEN_TTL", "m"}, {"ACCESS_TOKEN_TTL", ""},
      {"ACCESS_TOKEN_TTL", "0"}, {"ACCESS_TOKEN_TTL", "1.5h"}, {"ACCESS_TOKEN_TTL", "2d"},
      {"ACCESS_TOKEN_TTL", "99999999999999999h"},
      {"REFRESH_TOKEN_TTL", "59m"}, {"REFRESH_TOKEN_TTL", "3599"}, {"REFRESH_TOKEN_TTL", "366d"},
      {"REFRESH_TOKEN_TTL", "0"}, {"REFRESH_TOKEN_TTL", ""}, {"REFRESH_TOKEN_TTL", "30 d"},
      {"REFRESH_REUSE_GRACE", "61"}, {"REFRESH_REUSE_GRACE", "2m"}, {"REFRESH_REUSE_GRACE", "1h"},
      {"REFRESH_REUSE_GRACE", "-1"}, {"REFRESH_REUSE_GRACE", ""}, {"REFRESH_REUSE_GRACE", "10ms"},
      {"IMAGE_URL_TTL", "9"}, {"IMAGE_URL_TTL", "8d"}, {"IMAGE_URL_TTL", "15 m"},
      {"MAX_IMAGE_BYTES", "1023"}, {"MAX_IMAGE_BYTES", "99999999999"}, {"MAX_IMAGE_BYTES", "52428801"},
      {"MAX_IMAGE_BYTES", "5MiB"},
      {"CORS_ORIGINS", ""}, {"CORS_ORIGINS", " , "}, {"CORS_ORIGINS", "ftp://x"},
      {"CORS_ORIGINS", "https://a.example/"}, {"CORS_ORIGINS", "https://a.example, a.example"},
      {"LOG_LEVEL", "loud"}, {"LOG_LEVEL", ""},
      {"WORKER_THREADS", "0"}, {"WORKER_THREADS", "257"},
      {"PUBLIC_URL", "example.com"}, {"PUBLIC_URL", ""}, {"PUBLIC_URL", "ftp://example.com"},
      {"PUBLIC_URL", "http://"}, {"PUBLIC_URL", "https:///"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", ""}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "5"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", "/15m"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "0/15m"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", "-1/15m"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/0"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/0s"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/8d"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/1w"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/15 m"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", " 5/15m"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "5/15m/1"},
      {"RATE_LIMIT_LOGIN_PER_EMAIL", "5 per 15m"}, {"RATE_LIMIT_LOGIN_PER_EMAIL", "off"},
      {"RATE_LIMIT_LOGIN_PER_IP", "1000001/1m"}, {"RATE_LIMIT_LOGIN_PER_IP", "30/-5m"},
      {"RATE_LIMIT_LOGIN_PER_IP", "1.5/1m"}, {"RATE_LIMIT_LOGIN_PER_IP", "99999999999999999999/1m"},
      {"RATE_LIMIT_SIGNUP_PER_IP", "30/99999999999999999d"}, {"RATE_LIMIT_SIGNUP_PER_IP", "30/h"},
      {"RATE_LIMIT_SIGNUP_PER_IP", "00"}, {"RATE_LIMIT_SIGNUP_PER_IP", "30"},
      {"TRUST_PROXY", ""}, {"TRUST_PROXY", "yes"}, {"TRUST_PROXY", "TRUE"}, {"TRUST_PROXY", "11"},
  };
  for (const auto& c : cases)
    EXPECT_TRUE(refused({{c.variable, c.value}}, c.variable)) << c.variable << "='" << c.value << "'";
}

TEST(load_config, refuses_a_short_jwt_secret_without_revealing_it) {
  const std::string secret = "Zq8-short-secret-do-not-print!";  // 30 bytes
  const std::string secret31 = secret + "X";
  ASSERT_EQ(secret31.size(), 31u);
  std::string message;
  ASSERT_TRUE(refused({{"JWT_SECRET", secret31}}, "JWT_SECRET", &message));
  EXPECT_EQ(message.find(secret31), std::string::npos) << message;
  EXPECT_EQ(message.find("Zq8-short"), std::string::npos) << message;
}

TEST(load_config, refuses_an_empty_jwt_secret_instead_of_generating_one) {
  // Set but empty is a mistake (an unset variable in a template, say); a
  // generated secret would hide it and log everyone out on every restart.
  EXPECT_TRUE(refused({{"JWT_SECRET", ""}}, "JWT_SECRET"));
}

TEST(load_config, never_puts_a_valid_secret_in_another_variables_error) {
  const std::string secret = "Zq8-a-perfectly-good-secret-of-40-bytes!";
  std::string message;
  ASSERT_TRUE(refused({{"JWT_SECRET", secret}, {"PORT", "abc"}}, "PORT", &message));
  EXPECT_EQ(message.find("Zq8-a-perfectly"), std::string::npos) << message;
}

// --- JWT_SECRET_ARN -----------------------------------------------------

const std::string secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/dev/jwt-secret-AbCdEf";

TEST(load_config, reads_jwt_secret_arn_as_an_arn_or_a_name_and_then_needs_aws) {
  EXPECT_EQ(load({}).aws.jwt_secret_arn, std::nullopt);
  EXPECT_FALSE(load({}).aws.any());
  const config c = load({{"JWT_SECRET_ARN", secret_arn}, {"AWS_REGION", "eu-west-1"}});
  EXPECT_EQ(c.aws.jwt_secret_arn, secret_arn);
  EXPECT_EQ(c.aws.region, "eu-west-1");
  EXPECT_EQ(c.jwt_secret, std::nullopt);
  // The AWS plumbing is built for the secret alone, with the stores local.
  EXPECT_TRUE(c.aws.any());
  EXPECT_EQ(c.aws.users_table, std::nullopt);
  EXPECT_EQ(c.aws.images_bucket, std::nullopt);
  for (const std::string& name :
       std::vector<std::string>{"gatehouse/dev/jwt-secret", "a", "A-Z_a+z=0.9@x", std::string(512, 'n')})
    EXPECT_EQ(load({{"JWT_SECRET_ARN", name}, {"AWS_REGION", "eu-west-1"}}).aws.jwt_secret_arn, name) << name;
  EXPECT_EQ(load({{"JWT_SECRET_ARN", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:jwt"},
                  {"AWS_REGION", "cn-north-1"}})
                .aws.jwt_secret_arn,
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:jwt");
}

TEST(load_config, jwt_secret_arn_needs_a_region) {
  std::string message;
  ASSERT_TRUE(refused({{"JWT_SECRET_ARN", "gatehouse/dev/jwt"}}, "AWS_REGION", &message));
  EXPECT_NE(message.find("JWT_SECRET_ARN"), std::string::npos) << message;
  EXPECT_EQ(load({{"JWT_SECRET_ARN", "gatehouse/dev/jwt"}, {"AWS_DEFAULT_REGION", "us-east-2"}}).aws.region,
            "us-east-2");
}

TEST(load_config, jwt_secret_and_jwt_secret_arn_together_are_refused_naming_both) {
  const std::string secret = "Zq8-a-perfectly-good-secret-of-40-bytes!";
  std::string message;
  ASSERT_TRUE(refused({{"JWT_SECRET", secret}, {"JWT_SECRET_ARN", secret_arn}, {"AWS_REGION", "eu-west-1"}},
                      "JWT_SECRET_ARN", &message));
  EXPECT_NE(message.find("JWT_SECRET is set too"), std::string::npos) << message;
  EXPECT_EQ(message.find("Zq8-a-perfectly"), std::string::npos) << message;
}

TEST(load_config, refuses_a_jwt_secret_arn_that_is_neither_an_arn_nor_a_name) {
  for (const std::string& id : std::vector<std::string>{
           std::string(""), std::string("has space"), std::string("semi;colon"), std::string(513, 'n'),
        std::string("arn:aws:s3:::bucket"), std::string("arn:aws:secretsmanager:eu-west-1:123456789012:parameter:x"),
        std::string("arn:aws:secretsmanager:eu-west-1:12345:secret:x"),
        std::string("arn:aws:secretsmanager:eu-west-1:12345678901a:secret:x"),
        std::string("arn:aws:secretsmanager:eu-west-1:123456789012:secret:"),
        std::string("arn:aws:secretsmanager:eu-west-1:123456789012:secret:a b"),
        std::string("arn:aws:secretsmanager::123456789012:secret:x"),
        std::string("arn::secretsmanager:eu-west-1:123456789012:secret:x"),
        std::string("arn:aws:secretsmanager:EU_WEST:123456789012:secret:x"), std::string("arn:"),
        std::string("arn:aws:secretsmanager:eu-west-1:123456789012")})
    EXPECT_TRUE(refused({{"JWT_SECRET_ARN", id}, {"AWS_REGION", "eu-west-1"}}, "JWT_SECRET_ARN")) << id;
}

// --- the server secret ------------------------------------------------------

TEST(load_config, reads_a_server_secret_of_32_to_4096_bytes_without_revealing_a_bad_one) {
  EXPECT_EQ(load({}).server_secret, std::nullopt);
  EXPECT_EQ(load({{"SERVER_SECRET", std::string(32, 's')}}).server_secret, std::string(32, 's'));
  EXPECT_EQ(load({{"SERVER_SECRET", std::string(4096, 's')}}).server_secret, std::string(4096, 's'));
  const std::string short_one = "Zq8-a-short-server-secret-31b!!";
  ASSERT_EQ(short_one.size(), 31u);
  std::string message;
  ASSERT_TRUE(refused({{"SERVER_SECRET", short_one}}, "SERVER_SECRET", &message));
  EXPECT_EQ(message.find(short_one), std::string::npos) << message;
  EXPECT_TRUE(refused({{"SERVER_SECRET", std::string(4097, 's')}}, "SERVER_SECRET"));
  EXPECT_TRUE(refused({{"SERVER_SECRET", ""}}, "SERVER_SECRET"));
}

TEST(load_config, reads_server_secret_arn_like_jwt_secret_arn) {
  const config c = load({{"SERVER_SECRET_ARN", "gatehouse/dev/server-secret"}, {"AWS_REGION", "eu-west-1"}});
  EXPECT_EQ(c.aws.server_secret_arn, "gatehouse/dev/server-secret");
  EXPECT_TRUE(c.aws.any()) << "the secret alone needs the AWS plumbing";
  EXPECT_TRUE(refused({{"SERVER_SECRET_ARN", "has space"}, {"AWS_REGION", "eu-west-1"}}, "SERVER_SECRET_ARN"));
  EXPECT_TRUE(refused({{"SERVER_SECRET_ARN", "gatehouse/dev/server-secret"}}, "AWS_REGION"));
  std::string message;
  ASSERT_TRUE(refused({{"SERVER_SECRET_ARN", secret_arn}, {"AWS_REGION", "us-east-1"}}, "SERVER_SECRET_ARN", &message));
  EXPECT_NE(message.find("eu-west-1"), std::string::npos) << message;
  ASSERT_TRUE(refused({{"SERVER_SECRET", std::string(40, 's')}, {"SERVER_SECRET_ARN", "x"}, {"AWS_REGION", "eu-west-1"}},
                      "SERVER_SECRET_ARN", &message));
  EXPECT_NE(message.find("SERVER_SECRET is set too"), std::string::npos) << message;
}

// A secret generated into one instance's /tmp is that instance's alone.
TEST(load_config, lambda_needs_a_shared_server_secret) {
  std::string message;
  ASSERT_TRUE(refused(on_lambda({}), "SERVER_SECRET_ARN", &message));
  EXPECT_NE(message.find("Lambda"), std::string::npos) << message;
  EXPECT_NO_THROW(load(on_lambda({{"SERVER_SECRET", std::string(32, 's')}})));
  EXPECT_NO_THROW(load(on_lambda({{"SERVER_SECRET_ARN", "gatehouse/s"}, {"AWS_REGION", "eu-west-1"}})));
}

// --- access-token keys and claims -------------------------------------------

TEST(load_config, reads_jwt_alg_by_its_exact_jose_name) {
  EXPECT_EQ(load({{"JWT_ALG", "ES256"}}).jwt_alg, jose::algorithm::es256);
  EXPECT_EQ(load({{"JWT_ALG", "EdDSA"}}).jwt_alg, jose::algorithm::eddsa);
  EXPECT_EQ(load({{"JWT_ALG", "HS256"}}).jwt_alg, jose::algorithm::hs256);
  for (const char* bad : {"none", "rs256", "HS512", "PS256", "ES384", ""}) EXPECT_TRUE(refused({{"JWT_ALG", bad}}, "JWT_ALG")) << bad;
}

TEST(load_config, the_issuer_is_public_url_by_default_and_must_be_a_base_url_for_discovery) {
  EXPECT_EQ(load({{"PUBLIC_URL", "https://id.example/"}}).jwt_issuer, "https://id.example");
  EXPECT_EQ(load({{"JWT_ISSUER", "https://auth.example"}}).jwt_issuer, "https://auth.example");
  for (const char* bad : {"gatehouse", "https://auth.example/", "ftp://auth.example", "https://", "https://a.example/?x",
                          "https://a.example/#f", "https://a b.example"})
    EXPECT_TRUE(refused({{"JWT_ISSUER", bad}}, "JWT_ISSUER")) << bad;
  // v1's HS256 tokens named any issuer: still allowed with HS256.
  EXPECT_EQ(load({{"JWT_ALG", "HS256"}, {"JWT_ISSUER", "v1-issuer"}}).jwt_issuer, "v1-issuer");
  EXPECT_EQ(load({{"JWT_ALG", "HS256"}}).jwt_issuer, "gatehouse") << "v1's default";
}

TEST(load_config, a_lambda_needs_a_shared_signing_key_and_an_https_issuer) {
  const env_map server_secret{{"SERVER_SECRET", std::string(32, 's')}};
  env_map no_key = on_lambda(server_secret);
  no_key.erase("JWT_PRIVATE_KEY");
  std::string message;
  ASSERT_TRUE(refused(no_key, "JWT_SECRET_ARN", &message));
  EXPECT_NE(message.find("every instance"), std::string::npos) << message;
  // JWT_SECRET alone only verifies with an asymmetric JWT_ALG: still no key.
  no_key["JWT_SECRET"] = std::string(32, 'j');
  EXPECT_TRUE(refused(no_key, "JWT_SECRET_ARN"));
  no_key["JWT_ALG"] = "HS256";
  EXPECT_NO_THROW(load(no_key));

  env_map no_issuer = on_lambda(server_secret);
  no_issuer.erase("JWT_ISSUER");
  EXPECT_TRUE(refused(no_issuer, "JWT_ISSUER"));
  no_issuer["JWT_ISSUER"] = "http://auth.example";
  EXPECT_TRUE(refused(no_issuer, "JWT_ISSUER"));
  EXPECT_NO_THROW(load(on_lambda(server_secret)));
}

TEST(load_config, the_private_key_is_one_variable_or_the_other_and_not_beside_jwt_secret_arn) {
  const std::string pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQ...\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(load({{"JWT_PRIVATE_KEY", pem}}).jwt_private_key, pem);
  EXPECT_EQ(load({{"JWT_PRIVATE_KEY_FILE", "/etc/gatehouse/key.pem"}}).jwt_private_key_file,
            std::filesystem::path("/etc/gatehouse/key.pem"));
  EXPECT_TRUE(refused({{"JWT_PRIVATE_KEY", pem}, {"JWT_PRIVATE_KEY_FILE", "/k.pem"}}, "JWT_PRIVATE_KEY_FILE"));
  EXPECT_TRUE(refused({{"JWT_PRIVATE_KEY", "not a key"}}, "JWT_PRIVATE_KEY"));
  EXPECT_TRUE(refused({{"JWT_PRIVATE_KEY", pem}, {"JWT_ALG", "HS256"}}, "JWT_PRIVATE_KEY"));
  EXPECT_TRUE(refused({{"JWT_PRIVATE_KEY", pem}, {"JWT_SECRET_ARN", "gatehouse/jwt"}, {"AWS_REGION", "eu-west-1"}},
                      "JWT_PRIVATE_KEY"));
  // A refusal never repeats the key.
  std::string message;
  ASSERT_TRUE(refused({{"JWT_PRIVATE_KEY", "secret-material-xyz"}}, "JWT_PRIVATE_KEY", &message));
  EXPECT_EQ(message.find("secret-material-xyz"), std::string::npos) << message;
}

TEST(load_config, reads_the_audience_and_a_legacy_secret_of_at_least_32_bytes) {
  EXPECT_EQ(load({{"JWT_AUDIENCE", "gatehouse-prod"}}).jwt_audience, "gatehouse-prod");
  EXPECT_TRUE(refused({{"JWT_AUDIENCE", ""}}, "JWT_AUDIENCE"));
  EXPECT_EQ(load({{"LEGACY_JWT_SECRET", std::string(32, 'n')}}).legacy_jwt_secret, std::string(32, 'n'));
  std::string message;
  ASSERT_TRUE(refused({{"LEGACY_JWT_SECRET", "short-node-secret"}}, "LEGACY_JWT_SECRET", &message));
  EXPECT_EQ(message.find("short-node-secret"), std::string::npos) << message;
}

// --- account mail ----------------------------------------------------------------

TEST(load_config, mail_goes_to_the_outbox_locally_and_is_off_on_dynamodb_by_default) {
  const config local = load({{"DATA_DIR", "/srv/gh"}});
  EXPECT_EQ(local.mail.transport, config::mail_settings::kind::file);
  EXPECT_EQ(local.mail.directory, "/srv/gh/outbox");
  EXPECT_EQ(local.mail.from.address, "no-reply@localhost");
  EXPECT_EQ(local.mail.app_url, "http://127.0.0.1:3000/") << "the links open the built-in page";
  EXPECT_EQ(local.email_verification, accounts::verification_mode::optional);
  EXPECT_EQ(local.mail.retry_budget, std::chrono::milliseconds(8000));
  const config lambda = load(on_lambda({{"SERVER_SECRET", std::string(32, 's')}}));
  EXPECT_EQ(lambda.mail.retry_budget, std::chrono::milliseconds(2000)) << "inside the function's 10 s timeout";
  EXPECT_EQ(lambda.mail.transport, config::mail_settings::kind::off) << "even on the embedded store";
  const config aws = load({{"USERS_TABLE", "users"}, {"AWS_REGION", "eu-west-1"}});
  EXPECT_EQ(aws.mail.transport, config::mail_settings::kind::off) << "nobody reads a Lambda's /tmp";
}

TEST(load_config, reads_each_mail_transport_and_refuses_anything_else) {
  EXPECT_EQ(load({{"MAIL_TRANSPORT", "file:/var/mail/gh"}}).mail.directory, "/var/mail/gh");
  EXPECT_EQ(load({{"MAIL_TRANSPORT", "off"}}).mail.transport, config::mail_settings::kind::off);
  const config smtp = load({{"MAIL_TRANSPORT", "smtp://user:p%40ss@mail.example.com:2525"},
                            {"MAIL_FROM", "Example <no-reply@example.com>"}, {"SSL_CERT_FILE", "/etc/ca.pem"}});
  EXPECT_EQ(smtp.mail.transport, config::mail_settings::kind::smtp);
  EXPECT_EQ(smtp.mail.smtp.host, "mail.example.com");
  EXPECT_EQ(smtp.mail.smtp.port, 2525);
  EXPECT_EQ(smtp.mail.smtp.password, "p@ss");
  EXPECT_EQ(smtp.mail.smtp.ca_file, "/etc/ca.pem");
  EXPECT_EQ(smtp.mail.from.display_name, "Example");
  const config ses = load({{"MAIL_TRANSPORT", "ses"}, {"MAIL_FROM", "no-reply@example.com"}, {"AWS_REGION", "eu-west-1"},
                           {"AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:4579"}, {"SES_CONFIGURATION_SET", "gh-prod"}});
  EXPECT_TRUE(ses.aws.uses_ses);
  EXPECT_TRUE(ses.aws.any()) << "SES goes through the AWS client";
  EXPECT_EQ(ses.aws.ses_endpoint, "http://127.0.0.1:4579");
  EXPECT_EQ(ses.mail.ses_configuration_set, "gh-prod");
  EXPECT_EQ(ses.mail.from.display_name, "Gatehouse") << "a bare address gets the app's name";
  for (const char* bad : {"file:", "smtp:", "sendmail", "SES", "smtp://", "http://mail.example.com"})
    EXPECT_TRUE(refused({{"MAIL_TRANSPORT", bad}, {"MAIL_FROM", "a@example.com"}}, "MAIL_TRANSPORT")) << bad;
}

TEST(load_config, an_smtp_url_is_never_repeated_in_its_error) {
  std::string message;
  ASSERT_TRUE(refused({{"MAIL_TRANSPORT", "smtp://user:Hunter2-Secret@mail.example.com:notaport"},
                       {"MAIL_FROM", "a@example.com"}},
                      "MAIL_TRANSPORT", &message));
  EXPECT_EQ(message.find("Hunter2-Secret"), std::string::npos) << message;
}

TEST(load_config, real_mail_needs_a_sender_and_ses_a_region) {
  EXPECT_TRUE(refused({{"MAIL_TRANSPORT", "smtp://127.0.0.1:25"}}, "MAIL_FROM"));
  EXPECT_TRUE(refused({{"MAIL_TRANSPORT", "ses"}, {"AWS_REGION", "eu-west-1"}}, "MAIL_FROM"));
  EXPECT_TRUE(refused({{"MAIL_TRANSPORT", "ses"}, {"MAIL_FROM", "a@example.com"}}, "AWS_REGION"));
  for (const char* bad : {"not an address", "Name <a@b.c", "Eve\r\nBcc: x@evil.com <a@example.com>", "<>"})
    EXPECT_TRUE(refused({{"MAIL_FROM", bad}}, "MAIL_FROM")) << bad;
}

TEST(load_config, reads_app_url_verification_mode_and_the_mail_limits) {
  EXPECT_EQ(load({{"APP_URL", "https://app.example.com/account"}}).mail.app_url, "https://app.example.com/account");
  for (const char* bad : {"app.example.com", "https://app.example.com/#x", "https://a b", "javascript:alert(1)"})
    EXPECT_TRUE(refused({{"APP_URL", bad}}, "APP_URL")) << bad;
  EXPECT_EQ(load({{"EMAIL_VERIFICATION", "required"}}).email_verification, accounts::verification_mode::required);
  EXPECT_EQ(load({{"EMAIL_VERIFICATION", "off"}}).email_verification, accounts::verification_mode::off);
  EXPECT_TRUE(refused({{"EMAIL_VERIFICATION", "strict"}}, "EMAIL_VERIFICATION"));
  const config limits = load({{"RATE_LIMIT_MAIL_PER_EMAIL", "2/10m"}, {"RATE_LIMIT_MAIL_PER_IP", "0"}});
  EXPECT_EQ(limits.rate_limits.mail_per_email.max, 2);
  EXPECT_EQ(limits.rate_limits.mail_per_email.window_seconds, 600);
  EXPECT_FALSE(limits.rate_limits.mail_per_ip.enabled());
  EXPECT_TRUE(refused({{"APP_NAME", "a\nb"}}, "APP_NAME"));
}

TEST(load_config, refuses_a_secret_arn_of_another_region_than_aws_region) {
  std::string message;
  ASSERT_TRUE(refused({{"JWT_SECRET_ARN", secret_arn}, {"AWS_REGION", "us-east-1"}}, "JWT_SECRET_ARN", &message));
  EXPECT_NE(message.find("eu-west-1"), std::string::npos) << message;
  EXPECT_NE(message.find("us-east-1"), std::string::npos) << message;
}

TEST(load_config, takes_the_secrets_manager_endpoint_from_its_own_variable_or_the_common_one) {
  const env_map base{{"JWT_SECRET_ARN", "jwt"}, {"AWS_REGION", "eu-west-1"}};
  EXPECT_EQ(load(base).aws.secrets_manager_endpoint, std::nullopt);
  env_map common = base;
  common["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566";
  EXPECT_EQ(load(common).aws.secrets_manager_endpoint, "http://127.0.0.1:4566");
  env_map own = common;
  own["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://127.0.0.1:4599";
  EXPECT_EQ(load(own).aws.secrets_manager_endpoint, "http://127.0.0.1:4599");
  own["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://secrets.example.com";  // plain http off loopback
  EXPECT_TRUE(refused(own, "AWS_ENDPOINT_URL_SECRETS_MANAGER"));
}

TEST(load_config, refuses_an_invalid_value_even_when_the_others_are_valid) {
  EXPECT_TRUE(refused({{"PORT", "8080"}, {"BCRYPT_COST", "12"}, {"LOG_LEVEL", "loud"}}, "LOG_LEVEL"));
}


TEST(load_config, parses_the_bcrypt_gate_and_pending_upload_settings_within_their_ranges) {
  const config d = load({});
  EXPECT_EQ(d.bcrypt_concurrency, 0u) << "one per core";
  EXPECT_EQ(d.bcrypt_queue_depth, 32u);
  EXPECT_EQ(d.max_pending_uploads, 3u);
  EXPECT_EQ(d.upload_form_ttl_seconds, 300);
  EXPECT_EQ(d.upload_sweep_interval_seconds, 600);
  EXPECT_EQ(load({{"BCRYPT_CONCURRENCY", "1"}}).bcrypt_concurrency, 1u);
  EXPECT_EQ(load({{"BCRYPT_CONCURRENCY", "256"}}).bcrypt_concurrency, 256u);
  EXPECT_EQ(load({{"BCRYPT_QUEUE_DEPTH", "0"}}).bcrypt_queue_depth, 0u);
  EXPECT_EQ(load({{"BCRYPT_QUEUE_DEPTH", "1024"}}).bcrypt_queue_depth, 1024u);
  EXPECT_EQ(load({{"MAX_PENDING_UPLOADS", "1"}}).max_pending_uploads, 1u);
  EXPECT_EQ(load({{"MAX_PENDING_UPLOADS", "100"}}).max_pending_uploads, 100u);
  EXPECT_EQ(load({{"UPLOAD_FORM_TTL", "1s"}}).upload_form_ttl_seconds, 1);
  EXPECT_EQ(load({{"UPLOAD_FORM_TTL", "1h"}}).upload_form_ttl_seconds, 3600);
  EXPECT_EQ(load({{"UPLOAD_SWEEP_INTERVAL", "1"}}).upload_sweep_interval_seconds, 1);
  EXPECT_EQ(load({{"UPLOAD_SWEEP_INTERVAL", "1d"}}).upload_sweep_interval_seconds, 86400);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"BCRYPT_CONCURRENCY", "0"},  {"BCRYPT_CONCURRENCY", "257"}, {"BCRYPT_QUEUE_DEPTH", "-1"},
      {"BCRYPT_QUEUE_DEPTH", "1025"}, {"BCRYPT_QUEUE_DEPTH", ""},   {"MAX_PENDING_UPLOADS", "0"},
      {"MAX_PENDING_UPLOADS", "101"}, {"UPLOAD_FORM_TTL", "0"},    {"UPLOAD_FORM_TTL", "61m"},
      {"UPLOAD_SWEEP_INTERVAL", "0s"}, {"UPLOAD_SWEEP_INTERVAL", "2d"},
  };
  for (const auto& [variable, value] : bad)
    EXPECT_TRUE(refused({{variable, value}}, variable)) << variable << "='" << value << "'";
}
}  // namespace
}  // namespace gatehouse::app

namespace gatehouse::app {
namespace {
TEST(load_config, keeps_embedded_data_under_tmp_on_lambda) {
  EXPECT_EQ(load(on_lambda({{"SERVER_SECRET", std::string(32, 's')}})).data_dir, "/tmp/gatehouse");
}
}  // namespace
}  // namespace gatehouse::app
