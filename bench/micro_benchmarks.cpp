// Google Benchmark micro-benchmarks of Gatehouse's hot paths (issue 7,
// docs/BENCHMARKS.md). Not a test: nothing here asserts a speed.
//
//   warm/*      one Lambda invocation, event JSON in, response JSON out, through
//               lambda::handle_invocation (decode_event, body limit, the real
//               router and pipeline that api::make_router builds, bearer JWT
//               verify, the handler, encode_response) with storage excluded:
//               the user store is an in-memory stand-in (fixed_user_store below).
//   multipart/  parse_multipart of a 1 MiB image upload.
//   sigv4/      header-form signing of a DynamoDB GetItem; a pre-signed S3 GET URL.
//   warm/get_users_me is RS256 (the default) with a client that repeats its
//               token, so after the first request the verified-token cache
//               answers; /uncached and /hs256 show the verification's own cost.
//   jose/       sign and verify alone, per algorithm (bench/jose_benchmarks.cpp).
//   bcrypt/     verify at the default cost (app::config's bcrypt_cost, 10; the
//               original's bcryptjs also uses 10), tens of milliseconds per call:
//               a few fixed iterations.
//
// Medians: run with --benchmark_repetitions=N (the harness passes
// --benchmark_report_aggregates_only=true and reads the `_median` rows).
// Each row has real_time and cpu_time; on a machine shared with other work,
// cpu_time is the one to read: real_time also counts the time other
// processes held the core (on an idle machine the two agree).
// Smoke mode (a few seconds): --benchmark_min_time=0.01 --benchmark_filter=-bcrypt
// (bcrypt has fixed iterations, so min_time would not shorten it).
//
// The pipeline writes one access-log line per request to stdout, as the
// binary does. Here the C stdout goes to /dev/null, so the line is built and
// written (one write(2)) inside the timing, while the benchmark's own report
// (std::cout) still goes to the original stdout. warm/get_users_me/access_log_off
// shows what that line costs.
#include "api/routes.hpp"
#include "api/services.hpp"
#include "api_gateway_event.hpp"  // tests/lambda: the events the tests and cold-start bench send
#include "app/config.hpp"
#include "auth/access_tokens.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "auth/refresh_tokens.hpp"
#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"
#include "base/clock.hpp"
#include "base/log.hpp"
#include "http/multipart.hpp"
#include "http/pipeline.hpp"
#include "images/pending_uploads.hpp"
#include "lambda/runtime_loop.hpp"
#include "s3/s3_object_store.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>
#include <ext/stdio_filebuf.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace gatehouse::bench {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// The application under test, composed as app/application.cpp composes it
// (services -> api::make_router -> http::pipeline with the default CORS
// policy), minus the storage.

const std::string user_id = "3f2c9a4e-8b1d-4c6e-9f7a-2d5b8e1c0a93";
const std::string user_email = "ada@example.com";
const std::string image_key = "profile-images/" + user_id + "/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e.png";
const std::string jwt_secret = "bench-secret-0123456789abcdef0123456789abcdef";  // >= 32 bytes
const std::string region = "eu-west-1";

// The benchmark's stand-in for the user store: in memory, one fixed user,
// so GET /users/me pays for everything but the storage round trip.
class fixed_user_store final : public users::user_store {
 public:
  explicit fixed_user_store(users::user u) : user_(std::move(u)) {}

  bool create(const users::user&) override { return false; }
  std::optional<users::user> find_by_id(std::string_view id) override {
    if (id != user_.user_id) return std::nullopt;
    return user_;
  }
  std::optional<users::user> find_by_email(std::string_view email) override {
    if (email != user_.email) return std::nullopt;
    return user_;
  }
  users::user_page list(std::size_t, std::optional<std::string_view>) override { return {{user_}, std::nullopt}; }
  users::image_swap set_profile_image(std::string_view, std::string_view) override { return {}; }
  bool replace_password_hash(std::string_view, std::string_view, std::string_view) override { return false; }
  bool mark_email_verified(std::string_view, std::string_view) override { return false; }
  bool rename(std::string_view, std::string_view) override { return false; }
  users::email_change change_email(std::string_view, std::string_view, std::string_view) override {
    return users::email_change::stale;
  }
  bool remove(std::string_view, std::string_view) override { return false; }

 private:
  users::user user_;
};

// Refresh tokens and rate limits are only reached by /login, /refresh,
// /logout and /signup, none of which is benchmarked here: these stand-ins
// make any such call a 500, which the status check below would report.
class unreachable_token_store final : public auth::refresh_token_store {
  [[noreturn]] static void unreachable() { throw std::logic_error("bench: token store not expected"); }

 public:
  void create_family(const auth::token_family&, const auth::refresh_token_record&) override { unreachable(); }
  std::optional<auth::refresh_token_record> find_token(std::string_view) override { unreachable(); }
  std::optional<auth::token_family> find_family(std::string_view) override { unreachable(); }
  bool rotate(std::string_view, std::int64_t, const auth::refresh_token_record&) override { unreachable(); }
  void put_token_if_absent(const auth::refresh_token_record&) override { unreachable(); }
  void revoke_family(std::string_view, std::int64_t) override { unreachable(); }
  std::vector<auth::token_family> list_families(std::string_view) override { unreachable(); }
};

class unreachable_rate_limiter final : public auth::rate_limiter {
  [[noreturn]] static void unreachable() { throw std::logic_error("bench: rate limiter not expected"); }

 public:
  auth::hit_result hit(std::string_view, const auth::rate_limit&, std::int64_t) override { unreachable(); }
  void undo(std::string_view, std::int64_t) override { unreachable(); }
  void reset(std::string_view, std::int64_t) override { unreachable(); }
};

class unreachable_idempotency_store final : public idempotency::idempotency_store {
  [[noreturn]] static void unreachable() { throw std::logic_error("bench: idempotency store not expected"); }

 public:
  bool insert(const idempotency::record&, std::int64_t) override { unreachable(); }
  std::optional<idempotency::record> find(std::string_view) override { unreachable(); }
  bool take_over(std::string_view, std::string_view, std::string_view, std::int64_t, std::int64_t) override {
    unreachable();
  }
  void settle(std::string_view, std::string_view) override { unreachable(); }
  void release(std::string_view) override { unreachable(); }
};

aws::credentials lambda_like_credentials() {
  // Lambda's role credentials carry a session token of several hundred
  // characters; it is signed as a header (or query parameter) too.
  return aws::credentials{"ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                          "IQoJb3JpZ2luX2VjEExample" + std::string(640, 'Q'), std::nullopt};
}

// The real S3 object store, which never touches the network here:
// url_for (the only call GET /users/me makes, for a user with a picture)
// is a pure SigV4 pre-signing.
struct s3_images {
  aws::http_client http;
  aws::static_credentials credentials{lambda_like_credentials()};
  aws::aws_client client{http, credentials, {}, system_now_seconds};
  s3::s3_object_store store{client,
                            s3::bucket_settings{"gatehouse-profile-images", region,
                                                aws::regional_endpoint("s3", region),
                                                std::chrono::seconds(app::config{}.image_url_ttl_seconds),
                                                "AES256"},
                            system_now_seconds};
};

struct application_under_test {
  explicit application_under_test(bool user_has_image, jose::algorithm alg = jose::algorithm::rs256,
                                  std::size_t cache_entries = auth::token_settings{}.cache_entries)
      : tokens(auth::token_keys{alg == jose::algorithm::hs256 ? jose::signing_key::hmac(jwt_secret)
                                                              : jose::signing_key::generate(alg),
                                {}, std::nullopt},
               auth::token_settings{.issuer = "https://gatehouse.example", .cache_entries = cache_entries}),
        users(users::user{user_id, "Ada Lovelace", user_email, "$2b$10$not-used-by-these-routes",
                          user_has_image ? std::optional<std::string>(image_key) : std::nullopt,
                          "2024-03-01T12:00:00.000Z"}) {}

  const app::config defaults{};
  auth::access_tokens tokens;
  fixed_user_store users;
  s3_images images;
  images::pending_uploads uploads{images.store,
                                  images::upload_settings{defaults.max_pending_uploads, defaults.upload_form_ttl_seconds},
                                  system_now_seconds};
  unreachable_token_store token_store;
  unreachable_rate_limiter limiter;
  unreachable_idempotency_store idempotency_records;  // the benchmarked requests send no Idempotency-Key
  idempotency::ledger idempotency{idempotency_records, std::string(32, 'i'), std::string(32, 'a'), system_now_seconds};
  auth::password_hasher passwords{defaults.bcrypt_cost};
  auth::refresh_token_service refresh_tokens{
      token_store, std::string(32, 'r'),
      auth::refresh_settings{defaults.refresh_token_ttl_seconds, defaults.refresh_reuse_grace_seconds},
      [] { return std::chrono::seconds(system_now_seconds()); }};
  auth::login_limits limits{limiter, std::string(32, 'l'), defaults.rate_limits};
  // Mail off: none of the benchmarked routes sends any.
  accounts::account_mail mail{nullptr, accounts::mail_settings{}};
  accounts::one_time_tokens one_time{std::string(32, 'o'), system_now_seconds};
  accounts::answer_pacing pacing;
  accounts::password_check password{passwords, limits, system_now_seconds};
  accounts::email_verification verification{users, one_time, mail, limits, pacing, defaults.email_verification,
                                            system_now_seconds};
  accounts::password_reset resets{users, passwords, one_time, mail, limits, refresh_tokens, pacing, system_now_seconds};
  accounts::email_change email_changes{users, password, one_time, mail, limits, system_now_seconds};
  accounts::account_deletion deletion{users, password, refresh_tokens, images.store};
  accounts::account_service accounts{users,    passwords,    tokens, refresh_tokens,
                                     limits,   password,     verification, mail,
                                     system_now_seconds, accounts::account_settings{defaults.access_token_ttl_seconds}};
  accounts::profile_pictures pictures{users, images.store, uploads, accounts::picture_settings{defaults.max_image_bytes}};
  api::services services{accounts,    pictures,    verification, resets, email_changes, deletion, images.store,
                         idempotency, tokens,      api::api_settings{defaults.trust_proxy}};
  http::pipeline pipeline{api::make_router(services, nullptr), http::cors_policy{defaults.cors_origins}};

  std::string bearer_token() const {
    const std::int64_t now = system_now_seconds();
    auth::access_claims claims;
    claims.user_id = user_id;
    claims.email = user_email;
    claims.issued_at = now;
    claims.expires_at = now + defaults.access_token_ttl_seconds;
    claims.session_id = "5d0c1f9e-2b7a-4c3d-9e8f-0a1b2c3d4e5f";
    return tokens.sign(claims);
  }
};

// An HTTP API payload 2.0 event with the headers and request context API
// Gateway really sends (tests/lambda's to_event, plus the context fields
// it leaves out), so decode_event parses a document of realistic size.
std::string api_gateway_event(const std::string& method, const std::string& path, const std::string& token) {
  testing::v2_request r;
  r.method = method;
  r.path = path;
  r.request_id = "LV7fzho-PHcEJPw=";
  r.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
  r.headers = {{"accept", "application/json"},
               {"accept-encoding", "gzip, deflate, br"},
               {"accept-language", "en-GB,en;q=0.9"},
               {"content-length", "0"},
               {"host", "gatehouse.execute-api.eu-west-1.amazonaws.com"},
               {"origin", "https://app.example.com"},
               {"user-agent", r.user_agent},
               {"x-amzn-trace-id", "Root=1-65e1f3a2-0b3c4d5e6f708192a3b4c5d6"},
               {"x-forwarded-for", r.source_ip},
               {"x-forwarded-port", "443"},
               {"x-forwarded-proto", "https"}};
  if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
  json::value event = json::parse(testing::to_event(r));
  json::object& context = event.as_object()["requestContext"].as_object();
  context["domainPrefix"] = "gatehouse";
  context["time"] = "01/Mar/2024:12:00:00 +0000";
  context["timeEpoch"] = 1709294400000;
  return json::serialize(event);
}

bool answered(const std::string& document, int status) {
  const json::value v = json::parse(document);
  return v.as_object().at("statusCode").as_int64() == status;
}

// One warm invocation per iteration, exactly what the runtime loop does
// between GET /next and POST /response.
void run_invocations(benchmark::State& state, const http::pipeline& pipeline, const std::string& event) {
  lambda::invocation inv;
  inv.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
  inv.event = event;
  const std::string first = lambda::handle_invocation(pipeline, inv);
  if (!answered(first, 200)) {
    state.SkipWithError(("unexpected answer: " + first).c_str());
    return;
  }
  for (auto _ : state) {
    std::string out = lambda::handle_invocation(pipeline, inv);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::to_string(event.size()) + " B event, " + std::to_string(first.size()) + " B response");
}

void warm_users_me(benchmark::State& state, bool user_has_image, bool access_log, jose::algorithm alg, bool cached) {
  application_under_test app(user_has_image, alg, cached ? auth::token_settings{}.cache_entries : 0);
  const std::string event = api_gateway_event("GET", "/users/me", app.bearer_token());
  if (!access_log) log::set_min_level(log::level::warn);
  run_invocations(state, app.pipeline, event);
  log::set_min_level(log::level::info);
}

void warm_health(benchmark::State& state) {
  application_under_test app(false);
  run_invocations(state, app.pipeline, api_gateway_event("GET", "/health", ""));
}

// ---------------------------------------------------------------------------
// multipart/form-data: a 1 MiB PNG as a browser sends it (POST /profile_pic).

void multipart_1mib(benchmark::State& state) {
  const std::string boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
  // PNG signature, then deterministic noise (compressed image data looks
  // like noise); the seed is fixed so every run parses the same bytes.
  std::string image = "\x89PNG\r\n\x1a\n";
  std::mt19937_64 rng(7);
  while (image.size() < 1024 * 1024) {
    const std::uint64_t word = rng();
    image.append(reinterpret_cast<const char*>(&word), sizeof word);
  }
  image.resize(1024 * 1024);
  const std::string body = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"me.png\"\r\n"
                           "Content-Type: image/png\r\n\r\n" +
                           image + "\r\n--" + boundary + "--\r\n";
  const auto parsed = http::multipart_boundary("multipart/form-data; boundary=" + boundary);
  if (!parsed) {
    state.SkipWithError("boundary not accepted");
    return;
  }
  const auto check = http::parse_multipart(body, *parsed);
  if (check.size() != 1 || check[0].body != image) {
    state.SkipWithError("the body did not parse to the one image part");
    return;
  }
  for (auto _ : state) {
    auto parts = http::parse_multipart(body, *parsed);
    benchmark::DoNotOptimize(parts.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
}

// ---------------------------------------------------------------------------
// SigV4

constexpr std::int64_t signing_time = 1709294400;  // 2024-03-01T12:00:00Z

// What dynamodb_user_store::find_by_id sends, signed as aws_client::send
// signs every attempt: a copy of the request, Host set, then signed.
void sigv4_dynamodb_get_item(benchmark::State& state) {
  const aws::credentials creds = lambda_like_credentials();
  const aws::endpoint ep = aws::regional_endpoint("dynamodb", region);
  aws::http_request req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.0"}, {"x-amz-target", "DynamoDB_20120810.GetItem"}};
  req.body = json::serialize(json::object{{"TableName", "gatehouse-users"},
                                          {"Key", {{"userId", {{"S", user_id}}}}},
                                          {"ConsistentRead", true}});
  for (auto _ : state) {
    aws::http_request signed_req = req;
    signed_req.set_header("Host", ep.authority());
    auto steps = aws::sigv4::sign_request(signed_req, creds, {region, "dynamodb"}, signing_time);
    benchmark::DoNotOptimize(steps.signature.data());
  }
}

// The profile_image URL: what s3_object_store::url_for signs (S3 path
// rules, UNSIGNED-PAYLOAD, the default 900 s lifetime), signing alone.
void sigv4_s3_presigned_get(benchmark::State& state) {
  const aws::credentials creds = lambda_like_credentials();
  aws::sigv4::options opts;
  opts.s3_paths = true;
  opts.unsigned_payload = true;
  const std::string host = "gatehouse-profile-images.s3." + region + ".amazonaws.com";
  const std::string path = "/" + aws::sigv4::uri_encode(image_key, true);
  for (auto _ : state) {
    aws::http_request req;
    req.method = "GET";
    req.path = path;
    req.set_header("host", host);
    auto steps = aws::sigv4::presign_request(req, creds, {region, "s3"}, signing_time,
                                             app::config{}.image_url_ttl_seconds, opts);
    std::string url = "https://" + host + req.path + "?" + req.query;
    benchmark::DoNotOptimize(url.data());
  }
}

// ---------------------------------------------------------------------------
// bcrypt verify of a right password (the login path), at `cost`.

void bcrypt_verify(benchmark::State& state, int cost) {
  const auth::password_hasher hasher(cost);
  const std::string password = "correct horse battery staple";
  const std::string hash = hasher.hash(password);
  for (auto _ : state) {
    const bool ok = hasher.verify(password, hash);
    benchmark::DoNotOptimize(ok);
    if (!ok) {
      state.SkipWithError("verify refused the right password");
      break;
    }
  }
}

void register_benchmarks() {
  using benchmark::kMicrosecond;
  using benchmark::kMillisecond;
  benchmark::RegisterBenchmark("warm/get_users_me", warm_users_me, false, true, jose::algorithm::rs256, true)->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("warm/get_users_me/uncached", warm_users_me, false, true, jose::algorithm::rs256, false)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("warm/get_users_me/hs256", warm_users_me, false, true, jose::algorithm::hs256, true)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("warm/get_health", warm_health)->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("warm/get_users_me/access_log_off", warm_users_me, false, false, jose::algorithm::rs256, true)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("warm/get_users_me/profile_image_s3", warm_users_me, true, true, jose::algorithm::rs256, true)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("multipart/parse_1mib", multipart_1mib)->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("sigv4/dynamodb_get_item", sigv4_dynamodb_get_item)->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("sigv4/s3_presigned_get", sigv4_s3_presigned_get)->Unit(kMicrosecond);

  // The default cost is what `gatehouse` uses without BCRYPT_COST
  // (app::config::bcrypt_cost); the original hashes with bcryptjs at 10.
  // When the two are the same, one benchmark serves both.
  const int default_cost = app::config{}.bcrypt_cost;
  const auto add_bcrypt = [](const std::string& name, int cost) {
    benchmark::RegisterBenchmark(name.c_str(), bcrypt_verify, cost)
        ->Unit(kMillisecond)
        ->Iterations(cost >= 12 ? 2 : 4)
        ->UseRealTime();
  };
  add_bcrypt("bcrypt/verify/cost:" + std::to_string(default_cost) + "/default", default_cost);
  if (default_cost != 10) add_bcrypt("bcrypt/verify/cost:10/bcryptjs_default", 10);
}

}  // namespace
}  // namespace gatehouse::bench

int main(int argc, char** argv) {
  // The access log (C stdout) goes to /dev/null; the report (std::cout)
  // keeps the original stdout. See the comment at the top.
  std::fflush(stdout);
  const int report_fd = ::dup(STDOUT_FILENO);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (report_fd < 0 || null_fd < 0 || ::dup2(null_fd, STDOUT_FILENO) < 0) {
    std::perror("micro_benchmarks: redirecting stdout");
    return 2;
  }
  ::close(null_fd);
  __gnu_cxx::stdio_filebuf<char> report(report_fd, std::ios::out);
  std::streambuf* const original = std::cout.rdbuf(&report);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    std::cout.rdbuf(original);
    return 1;
  }
  gatehouse::bench::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::cout.flush();
  std::cout.rdbuf(original);
  return 0;
}
