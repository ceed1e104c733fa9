// JWT_SECRET_ARN end to end: the real gatehouse binary, served and as
// Lambda runs it, against tests/peers/secrets-stub.mjs, a GetSecretValue
// stand-in that checks every request's SigV4 signature with
// @smithy/signature-v4 and serves AWSCURRENT and AWSPREVIOUS from a file
// this test rewrites to rotate the secret. Tokens are checked here with
// OpenSSL's own HMAC against each secret, not with Gatehouse's code.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/http_client.hpp"

#include "runtime_emulator.hpp"
#include "lambda_process.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

extern char** environ;

namespace gatehouse::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

const std::string region = "eu-west-2";
const std::string access_key = "AKIDSECRETSSTUB";
const std::string secret_name = "gatehouse/test/jwt";
const std::string secret_arn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:gatehouse/test/jwt-Ab12Cd";
// Three generations of the JWT key, and one the stub never serves.
const std::string key_a = "rotation-key-A-0123456789abcdef0123456789abcdef";
const std::string key_b = "rotation-key-B-fedcba9876543210fedcba9876543210";
const std::string key_c = "rotation-key-C-00112233445566778899aabbccddeeff";
const std::string key_stranger = "rotation-key-X-never-current-never-previous-00";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((fs::path(dir) / "node").c_str(), X_OK) == 0) return (fs::path(dir) / "node").string();
  throw std::runtime_error("secrets_test: no `node` on PATH (Node.js runs the Secrets Manager stub)");
}

// ---- JWTs, checked with OpenSSL directly -------------------------------------

std::string base64url(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string base64url_decode(std::string text) {
  for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  std::size_t pad = 0;
  while (text.size() % 4 != 0) {
    text.push_back('=');
    ++pad;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw std::runtime_error("not base64url: " + text);
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

struct decoded_jwt {
  json::object header;
  json::object payload;
  std::string signing_input;  // header.payload as sent
  std::string signature;      // as sent (base64url)
};

decoded_jwt decode(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) throw std::runtime_error("not a JWT: " + token);
  decoded_jwt d;
  d.header = json::parse(base64url_decode(token.substr(0, first))).as_object();
  d.payload = json::parse(base64url_decode(token.substr(first + 1, second - first - 1))).as_object();
  d.signing_input = token.substr(0, second);
  d.signature = token.substr(second + 1);
  return d;
}

bool signed_with(const std::string& token, const std::string& key) {
  const auto d = decode(token);
  return d.header.at("alg") == "HS256" && base64url(hmac_sha256(key, d.signing_input)) == d.signature;
}

// A well-formed, unexpired access token for `user_id`, signed with `key`.
std::string forge_token(const std::string& user_id, const std::string& email, const std::string& key) {
  const std::int64_t now = std::time(nullptr);
  const json::object payload{{"sub", user_id}, {"userId", user_id}, {"email", email},
                             {"iat", now},     {"exp", now + 600},  {"iss", "gatehouse"}};
  const std::string input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(json::serialize(payload));
  return input + "." + base64url(hmac_sha256(key, input));
}

// ---- the stub ----------------------------------------------------------------

using stage_call = std::pair<std::string, std::string>;  // SecretId, VersionStage

class secrets_stub {
 public:
  // Serves the secret to requests signed with `signing_secret_key` under
  // access_key and region; starts with AWSCURRENT = key_a, no AWSPREVIOUS.
  explicit secrets_stub(std::string signing_secret_key = "stub/Secret+Key" + std::to_string(::getpid()))
      : secret_key_(std::move(signing_secret_key)) {
    const fs::path peers = fs::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers";
    if (!fs::exists(peers / "node_modules/@smithy/signature-v4/package.json"))
      throw std::runtime_error("secrets_test: tests/peers/node_modules is missing: run `npm ci` in " + peers.string());
    write(key_a, std::nullopt);
    const std::string node = find_node();
    const std::vector<std::string> args{node,
                                        (peers / "secrets-stub.mjs").string(),
                                        "--listen-port",
                                        "0",
                                        "--access-key",
                                        access_key,
                                        "--secret-key",
                                        secret_key_,
                                        "--region",
                                        region,
                                        "--secrets-file",
                                        file().string()};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string_view(*e).rfind("NODE_OPTIONS=", 0) != 0) env.emplace_back(*e);
    env.emplace_back("NODE_NO_WARNINGS=1");
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string log = log_path().string(), cwd = peers.string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      const int in = ::open("/dev/null", O_RDONLY);
      ::dup2(in, 0);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = read_text(log_path());
      if (const auto at = text.find("READY "); at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = static_cast<unsigned short>(std::stoi(text.substr(at + 6)));
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("secrets-stub.mjs exited during start-up:\n" + text);
      }
      std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("secrets-stub.mjs did not start within 20 s:\n" + read_text(log_path()));
  }

  ~secrets_stub() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  secrets_stub(const secrets_stub&) = delete;
  secrets_stub& operator=(const secrets_stub&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_text(log_path()); }

  // What the next GetSecretValue answers; the stub re-reads it per request.
  // Written to a temporary name and renamed, so no request sees half a file.
  void write(const std::optional<std::string>& current, const std::optional<std::string>& previous) {
    json::object o{{"name", secret_name}, {"arn", secret_arn}};
    if (current) o["AWSCURRENT"] = *current;
    if (previous) o["AWSPREVIOUS"] = *previous;
    const fs::path tmp = file().string() + ".tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << json::serialize(o);
    fs::rename(tmp, file());
    current_ = current;
  }
  // What Secrets Manager does on a new version: AWSCURRENT moves to it,
  // AWSPREVIOUS to the version that was current.
  void rotate_to(const std::string& next) { write(next, current_); }

  // The GetSecretValue calls whose signature verified, in order.
  std::vector<stage_call> calls() const {
    std::vector<stage_call> out;
    const json::object all = stats();
    for (const auto& c : all.at("calls").as_array())
      out.emplace_back(std::string(c.at("SecretId").as_string()), std::string(c.at("VersionStage").as_string()));
    return out;
  }
  long rejected() const { return stats().at("rejected").to_number<long>(); }
  long requests() const { return stats().at("requests").to_number<long>(); }
  void reset() const {
    http_client c(port_);
    if (c.send("POST", "/__reset").status != 204) throw std::runtime_error("secrets-stub: reset refused");
  }

  // What a gatehouse process needs to take its JWT keys from this stub.
  // These suites hold HS256 secrets (v1's JWT_SECRET_ARN); the PEM keys of
  // the asymmetric algorithms are tests/http/signing_keys_test's.
  std::map<std::string, std::string> gatehouse_env(const std::string& secret_id = secret_arn) const {
    return {{"JWT_SECRET", unset_variable},
            {"JWT_PRIVATE_KEY", unset_variable},
            {"JWT_ALG", "HS256"},
            {"JWT_SECRET_ARN", secret_id},
            {"AWS_ENDPOINT_URL_SECRETS_MANAGER", url()},
            {"AWS_ACCESS_KEY_ID", access_key},
            {"AWS_SECRET_ACCESS_KEY", secret_key_},
            {"AWS_REGION", region}};
  }

 private:
  json::object stats() const {
    http_client c(port_);
    const auto r = c.get("/__stats");
    if (r.status != 200) throw std::runtime_error("secrets-stub: no stats: " + r.body);
    return parse_json(r.body).as_object();
  }
  fs::path file() const { return dir_.path() / "secret.json"; }
  fs::path log_path() const { return dir_.path() / "stub.log"; }

  temp_dir dir_;
  std::string secret_key_;
  std::optional<std::string> current_;
  int pid_ = -1;
  unsigned short port_ = 0;
};

const std::vector<stage_call> one_cold_start{{secret_arn, "AWSCURRENT"}, {secret_arn, "AWSPREVIOUS"}};

// ---- running gatehouse ---------------------------------------------------------

struct finished_run {
  int exit_code = -1;  // -1: still running after the time limit (then killed)
  std::string output;  // stdout and stderr
};

// `gatehouse serve` with exactly `env` (and PATH), to its exit or 30 s.
finished_run run_to_exit(std::map<std::string, std::string> env) {
  temp_dir dir;
  env.emplace("PATH", "/usr/bin:/bin");
  env.emplace("DATA_DIR", (dir.path() / "data").string());
  env.emplace("PORT", std::to_string(free_loopback_port()));
  for (auto it = env.begin(); it != env.end();) it = it->second == unset_variable ? env.erase(it) : std::next(it);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(GATEHOUSE_BINARY), const_cast<char*>("serve"), nullptr};
  const std::string out = (dir.path() / "out.log").string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(GATEHOUSE_BINARY, argv, envp.data());
    ::_exit(127);
  }
  finished_run r;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.output = read_text(out);
      return r;
    }
    std::this_thread::sleep_for(10ms);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = read_text(out);
  return r;
}

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// The process refused to start: exit code 2 and one line naming
// `variable` with `reason`; none of `never` anywhere in its output.
void expect_refused_start(const finished_run& r, const std::string& reason, const std::vector<std::string>& never,
                          const std::string& variable = "JWT_SECRET_ARN") {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const auto named = lines_containing(r.output, variable);
  ASSERT_EQ(named.size(), 1u) << r.output;
  EXPECT_EQ(named.front().rfind("gatehouse: ", 0), 0u) << named.front();
  EXPECT_NE(named.front().find(reason), std::string::npos) << named.front();
  for (const auto& secret : never) EXPECT_EQ(r.output.find(secret), std::string::npos) << "leaked: " << secret;
}

std::string log_in(http_client& c, const std::string& email) {
  const auto r = c.post_json("/login", R"({"email":")" + email + R"(","password":"correct horse battery"})");
  if (r.status != 200) throw std::runtime_error("login failed: " + std::to_string(r.status) + " " + r.body);
  return std::string(parse_json(r.body).at("token").as_string());
}

int me_status(http_client& c, const std::string& token) {
  return c.get("/users/me", {{"authorization", "Bearer " + token}}).status;
}

// ---- serve ---------------------------------------------------------------------

TEST(secrets_manager_serve, a_login_token_is_signed_with_awscurrent_and_verifies) {
  secrets_stub stub;
  gatehouse_process server(stub.gatehouse_env());
  EXPECT_EQ(stub.calls(), one_cold_start) << "AWSCURRENT then AWSPREVIOUS, once, at start-up";

  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, "ada@example.com");
  const auto d = decode(user.token);
  EXPECT_EQ(json::serialize(d.header), R"({"alg":"HS256","typ":"at+jwt"})");
  EXPECT_EQ(d.payload.at("sub"), json::value(user.user_id));
  EXPECT_TRUE(signed_with(user.token, key_a));
  EXPECT_FALSE(signed_with(user.token, key_b));
  EXPECT_EQ(me_status(c, user.token), 200);
  // A never-rotated secret: nothing but AWSCURRENT verifies.
  EXPECT_EQ(me_status(c, forge_token(user.user_id, user.email, key_stranger)), 401);
  EXPECT_EQ(me_status(c, forge_token(user.user_id, user.email, key_a)), 200) << "the check above can pass";

  // Requests never go back to Secrets Manager.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(me_status(c, user.token), 200);
  (void)log_in(c, user.email);
  EXPECT_EQ(stub.calls(), one_cold_start);
  EXPECT_EQ(stub.rejected(), 0);
  // The key is kept in memory only: no generated-secret file.
  EXPECT_FALSE(fs::exists(server.data_dir() / "data" / "jwt-secret"));
  EXPECT_EQ(server.log_text().find(key_a), std::string::npos);
}

TEST(secrets_manager_serve, after_a_rotation_a_new_process_signs_with_the_new_key_and_accepts_the_old_tokens) {
  secrets_stub stub;
  temp_dir shared;  // both processes on one store, so the user carries over
  auto env = stub.gatehouse_env();
  env["DATA_DIR"] = (shared.path() / "data").string();

  gatehouse_process before(env);
  http_client old_client(before.port());
  const auto user = sign_up_and_log_in(old_client, "grace@example.com");
  ASSERT_TRUE(signed_with(user.token, key_a));

  stub.rotate_to(key_b);  // AWSCURRENT = B, AWSPREVIOUS = A
  stub.reset();
  gatehouse_process after(env);
  EXPECT_EQ(stub.calls(), one_cold_start);
  http_client c(after.port());

  EXPECT_EQ(me_status(c, user.token), 200) << "a token signed before the rotation verifies with AWSPREVIOUS";
  const std::string new_token = log_in(c, user.email);
  EXPECT_TRUE(signed_with(new_token, key_b)) << "new logins are signed with the new AWSCURRENT";
  EXPECT_FALSE(signed_with(new_token, key_a));
  EXPECT_EQ(me_status(c, new_token), 200);
  EXPECT_EQ(me_status(c, forge_token(user.user_id, user.email, key_stranger)), 401);
  const auto refused = c.get("/users/me", {{"authorization", "Bearer " + forge_token(user.user_id, user.email, key_c)}});
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(error_code_of(refused), "unauthorized");
  EXPECT_EQ(refused.header("www-authenticate"), "Bearer error=\"invalid_token\"");

  // The process started before the rotation still has A alone (cached for
  // its life): it does not know B until it is replaced.
  EXPECT_EQ(me_status(old_client, user.token), 200);
  EXPECT_EQ(me_status(old_client, new_token), 401);
  EXPECT_TRUE(signed_with(log_in(old_client, user.email), key_a));

  EXPECT_EQ(stub.calls(), one_cold_start) << "no request went back to Secrets Manager";
}

TEST(secrets_manager_serve, two_rotations_later_the_first_key_no_longer_verifies) {
  secrets_stub stub;
  temp_dir shared;
  auto env = stub.gatehouse_env();
  env["DATA_DIR"] = (shared.path() / "data").string();
  std::string token_a, token_b, email = "lin@example.com";
  {
    gatehouse_process first(env);
    http_client c(first.port());
    token_a = sign_up_and_log_in(c, email).token;
  }
  stub.rotate_to(key_b);
  {
    gatehouse_process second(env);
    http_client c(second.port());
    token_b = log_in(c, email);
  }
  stub.rotate_to(key_c);  // AWSCURRENT = C, AWSPREVIOUS = B; A is gone
  gatehouse_process third(env);
  http_client c(third.port());
  ASSERT_TRUE(signed_with(token_a, key_a));
  ASSERT_TRUE(signed_with(token_b, key_b));
  EXPECT_EQ(me_status(c, token_a), 401);
  EXPECT_EQ(me_status(c, token_b), 200);
  EXPECT_TRUE(signed_with(log_in(c, email), key_c));
}

TEST(secrets_manager_serve, a_json_secret_string_by_secret_name_signs_with_its_jwt_secret_member) {
  secrets_stub stub;
  stub.write(R"({"jwt_secret":")" + key_b + R"(","note":"made by GenerateSecretString"})", std::nullopt);
  gatehouse_process server(stub.gatehouse_env(secret_name));
  EXPECT_EQ(stub.calls(), (std::vector<stage_call>{{secret_name, "AWSCURRENT"}, {secret_name, "AWSPREVIOUS"}}));
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, "json@example.com");
  EXPECT_TRUE(signed_with(user.token, key_b));
  EXPECT_EQ(me_status(c, user.token), 200);
}

// One secret may hold both keys: SERVER_SECRET_ARN asks for AWSCURRENT
// only (the derived keys follow it), and nothing is generated locally.
TEST(secrets_manager_serve, the_server_secret_comes_from_its_member_and_only_awscurrent_is_asked) {
  secrets_stub stub;
  stub.write(R"({"jwt_secret":")" + key_a + R"(","server_secret":")" + key_b + "\"}", std::nullopt);
  auto env = stub.gatehouse_env();
  env["SERVER_SECRET"] = unset_variable;
  env["SERVER_SECRET_ARN"] = secret_arn;
  gatehouse_process server(env);
  EXPECT_EQ(stub.calls(), (std::vector<stage_call>{{secret_arn, "AWSCURRENT"}, {secret_arn, "AWSPREVIOUS"},
                                                   {secret_arn, "AWSCURRENT"}}));
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, "root@example.com");
  EXPECT_TRUE(signed_with(user.token, key_a)) << "the JWT is signed with jwt_secret, never the server secret";
  EXPECT_FALSE(fs::exists(server.data_dir() / "data" / "server-secret"));
  EXPECT_EQ(server.log_text().find(key_b), std::string::npos);
}

// ---- PEM keys (RS256, ES256): what deploy/ puts in the secret -----------------

// A throwaway P-256 key (openssl genpkey), for these tests only.
const std::string ec_private_key = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkp2mGuYjM8YalOXV
abF2yOkZssLygqjqcKXwT8i9FMmhRANCAAQqlerX8s7+eFuNb+oj1bkd3SXDALgN
a6naWn3mE/JvSaFrdAp3lkJ5TeP6s9mnZ9OwjjuDPDmLIe8Uk15hG5Qt
-----END PRIVATE KEY-----
)PEM";
const std::string pem_issuer = "https://gatehouse.test";

// The stub's settings for a PEM secret: JWT_ALG as given (RS256 by default).
std::map<std::string, std::string> pem_env(const secrets_stub& stub, const std::string& alg = "RS256") {
  auto env = stub.gatehouse_env();
  env["JWT_ALG"] = alg;
  env["JWT_ISSUER"] = pem_issuer;
  return env;
}

// v1's token: HS256, typ JWT, signed with `key`, under our issuer.
std::string v1_token(const std::string& user_id, const std::string& email, const std::string& key) {
  const std::int64_t now = std::time(nullptr);
  const json::object payload{{"sub", user_id}, {"userId", user_id}, {"email", email},
                             {"iat", now},     {"exp", now + 600},  {"iss", pem_issuer}};
  const std::string input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(json::serialize(payload));
  return input + "." + base64url(hmac_sha256(key, input));
}

std::vector<std::string> published_kids(http_client& c) {
  const json::value jwks = parse_json(c.get("/.well-known/jwks.json").body);
  std::vector<std::string> kids;
  for (const auto& k : jwks.at("keys").as_array()) kids.emplace_back(k.at("kid").as_string());
  return kids;
}

// The cut-over from v1: the PEM put as the new version signs RS256, and v1's
// HS256 secret, now AWSPREVIOUS, verifies v1's tokens but is never published.
TEST(secrets_manager_pem, a_pem_awscurrent_signs_rs256_and_v1s_secret_as_awsprevious_still_verifies) {
  secrets_stub stub;
  stub.write(test_jwt_private_key, key_a);
  gatehouse_process server(pem_env(stub));
  EXPECT_EQ(stub.calls(), one_cold_start);
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, "pem@example.com");
  const auto d = decode(user.token);
  EXPECT_EQ(d.header.at("alg"), "RS256");
  EXPECT_EQ(d.header.at("typ"), "at+jwt");
  EXPECT_EQ(d.payload.at("iss"), json::value(pem_issuer));
  const auto kids = published_kids(c);
  ASSERT_EQ(kids.size(), 1u) << "the HS256 secret is never published";
  EXPECT_EQ(d.header.at("kid"), json::value(kids.front()));

  EXPECT_EQ(me_status(c, user.token), 200);
  EXPECT_EQ(me_status(c, v1_token(user.user_id, user.email, key_a)), 200) << "v1's token through the cut-over";
  EXPECT_EQ(me_status(c, v1_token(user.user_id, user.email, key_stranger)), 401);
  EXPECT_EQ(server.log_text().find(test_jwt_private_key.substr(28, 64)), std::string::npos);
}

// A rotation between PEM keys (here to ES256, in a JSON secret string):
// the new one signs, both are published, the old one's tokens verify.
TEST(secrets_manager_pem, after_a_rotation_both_public_keys_are_published_and_the_old_tokens_verify) {
  secrets_stub stub;
  stub.write(test_jwt_private_key, std::nullopt);
  temp_dir shared;
  std::string old_token, old_kid;
  {
    auto env = pem_env(stub);
    env["DATA_DIR"] = (shared.path() / "data").string();
    gatehouse_process before(env);
    http_client c(before.port());
    old_token = sign_up_and_log_in(c, "turn@example.com").token;
    old_kid = std::string(decode(old_token).header.at("kid").as_string());
  }
  stub.rotate_to(json::serialize(json::object{{"jwt_secret", ec_private_key}}));
  auto env = pem_env(stub, "ES256");
  env["DATA_DIR"] = (shared.path() / "data").string();
  gatehouse_process after(env);
  http_client c(after.port());
  EXPECT_EQ(me_status(c, old_token), 200);
  const std::string fresh = log_in(c, "turn@example.com");
  EXPECT_EQ(decode(fresh).header.at("alg"), "ES256");
  const std::string new_kid(decode(fresh).header.at("kid").as_string());
  EXPECT_EQ(published_kids(c), (std::vector<std::string>{new_kid, old_kid}));
}

TEST(secrets_manager_pem, an_hs256_awscurrent_under_an_asymmetric_jwt_alg_stops_the_start_without_showing_it) {
  secrets_stub stub;
  stub.write(key_a, std::nullopt);
  expect_refused_start(run_to_exit(pem_env(stub)), "AWSCURRENT holds an HS256 secret but JWT_ALG is RS256", {key_a},
                       "invalid configuration: JWT_SECRET_ARN");  // not the line saying it was fetched
}

TEST(secrets_manager_pem, a_pem_of_another_algorithm_than_jwt_alg_stops_the_start) {
  secrets_stub stub;
  stub.write(ec_private_key, std::nullopt);
  expect_refused_start(run_to_exit(pem_env(stub)), "holds an ES256 key but JWT_ALG is RS256",
                       {ec_private_key.substr(28, 64)}, "JWT_ALG");
}

TEST(secrets_manager_start, a_server_secret_without_its_member_exits_2_naming_server_secret_arn) {
  secrets_stub stub;
  stub.write(R"({"jwt_secret":")" + key_a + "\"}", std::nullopt);
  auto env = stub.gatehouse_env();
  env["SERVER_SECRET"] = unset_variable;
  env["SERVER_SECRET_ARN"] = secret_arn;
  const auto r = run_to_exit(env);
  expect_refused_start(r, "\"server_secret\"", {key_a}, "SERVER_SECRET_ARN");
}

// ---- refusing to start ---------------------------------------------------------

TEST(secrets_manager_start, a_wrong_credential_is_refused_by_the_stub_and_the_process_exits_2) {
  secrets_stub stub;
  auto env = stub.gatehouse_env();
  const std::string wrong_key = "not/The+Stub's+Key0123456789";
  env["AWS_SECRET_ACCESS_KEY"] = wrong_key;
  const auto r = run_to_exit(env);
  expect_refused_start(r, "status 403 InvalidSignatureException", {key_a, wrong_key});
  EXPECT_GE(stub.rejected(), 1);
  EXPECT_TRUE(stub.calls().empty()) << "nothing got past the signature check";
}

TEST(secrets_manager_start, an_unreachable_endpoint_makes_the_process_exit_2) {
  secrets_stub stub;  // for its environment; the endpoint goes elsewhere
  auto env = stub.gatehouse_env();
  env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://127.0.0.1:" + std::to_string(free_loopback_port());
  const auto r = run_to_exit(env);
  expect_refused_start(r, "could not be fetched", {key_a});
  EXPECT_EQ(stub.requests(), 0);
}

TEST(secrets_manager_start, a_secret_the_service_does_not_have_makes_the_process_exit_2) {
  secrets_stub stub;
  const auto r = run_to_exit(stub.gatehouse_env("gatehouse/test/no-such-secret"));
  expect_refused_start(r, "ResourceNotFoundException", {key_a});
  EXPECT_EQ(stub.calls(), (std::vector<stage_call>{{"gatehouse/test/no-such-secret", "AWSCURRENT"}}));
}

TEST(secrets_manager_start, a_current_key_shorter_than_32_bytes_makes_the_process_exit_2_without_showing_it) {
  secrets_stub stub;
  const std::string short_key = "Zq8-only-31-bytes-long-secret!!";
  ASSERT_EQ(short_key.size(), 31u);
  stub.write(short_key, key_a);
  const auto r = run_to_exit(stub.gatehouse_env());
  expect_refused_start(r, "shorter than 32 bytes", {short_key, key_a});
}

TEST(secrets_manager_start, jwt_secret_and_jwt_secret_arn_together_exit_2_before_any_fetch) {
  secrets_stub stub;
  auto env = stub.gatehouse_env();
  env["JWT_SECRET"] = key_c;
  const auto r = run_to_exit(env);
  expect_refused_start(r, "JWT_SECRET is set too", {key_c});
  EXPECT_EQ(stub.requests(), 0);
}

// ---- Lambda --------------------------------------------------------------------

std::map<std::string, std::string> lambda_env(const runtime_emulator& emu, const secrets_stub& stub,
                                              const fs::path& data_dir) {
  auto env = stub.gatehouse_env();
  env.erase("JWT_SECRET");
  env.erase("JWT_PRIVATE_KEY");
  env.insert({{"AWS_LAMBDA_RUNTIME_API", emu.address()},
              {"SERVER_SECRET", test_server_secret},
              {"DATA_DIR", data_dir.string()},
              {"BCRYPT_COST", "4"},
              {"PATH", "/usr/bin:/bin"},
              {"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "0"},
              {"RATE_LIMIT_LOGIN_PER_EMAIL", "0"},
              {"RATE_LIMIT_LOGINS_PER_IP", "0"},
              {"RATE_LIMIT_LOGIN_PER_IP", "0"},
              {"RATE_LIMIT_SIGNUP_PER_IP", "0"}});
  return env;
}

std::string v2_event(const std::string& method, const std::string& path, const std::string& request_id,
                     const std::map<std::string, std::string>& headers = {}, const std::string& body = {}) {
  json::object h;
  for (const auto& [k, v] : headers) h[k] = v;
  json::object event{{"version", "2.0"},
                     {"routeKey", "$default"},
                     {"rawPath", path},
                     {"rawQueryString", ""},
                     {"headers", h},
                     {"requestContext",
                      json::object{{"requestId", request_id},
                                   {"http", json::object{{"method", method},
                                                         {"path", path},
                                                         {"protocol", "HTTP/1.1"},
                                                         {"sourceIp", "198.51.100.7"}}}}},
                     {"isBase64Encoded", false}};
  if (!body.empty()) event["body"] = body;
  return json::serialize(event);
}

int status_of(const invocation_result& r) {
  return static_cast<int>(parse_json(r.body).at("statusCode").to_number<long>());
}

TEST(secrets_manager_lambda, the_keys_are_fetched_once_at_init_and_tokens_of_either_stage_verify) {
  secrets_stub stub;
  stub.write(key_b, key_a);  // rotated once
  runtime_emulator emu;
  temp_dir dir;
  lambda_process fn(lambda_env(emu, stub, dir.path() / "data"), dir.path() / "lambda.log");

  const std::map<std::string, std::string> json_type{{"content-type", "application/json"}};
  ASSERT_EQ(status_of(emu.invoke(v2_event("POST", "/signup", "s-1", json_type,
                                          R"({"name":"Ada","email":"ada@example.com","password":"correct horse battery"})"))),
            201)
      << fn.log_text();
  const auto login = emu.invoke(v2_event("POST", "/login", "s-2", json_type,
                                         R"({"email":"ada@example.com","password":"correct horse battery"})"));
  ASSERT_EQ(status_of(login), 200) << login.body;
  const auto login_body = parse_json(std::string(parse_json(login.body).at("body").as_string()));
  const std::string token(login_body.at("token").as_string());
  const std::string user_id(login_body.at("user").at("userId").as_string());
  EXPECT_TRUE(signed_with(token, key_b));

  const auto me = [&](const std::string& t, const std::string& id) {
    return status_of(emu.invoke(v2_event("GET", "/users/me", id, {{"authorization", "Bearer " + t}})));
  };
  EXPECT_EQ(me(token, "s-3"), 200);
  EXPECT_EQ(me(forge_token(user_id, "ada@example.com", key_a), "s-4"), 200) << "AWSPREVIOUS verifies";
  EXPECT_EQ(me(forge_token(user_id, "ada@example.com", key_stranger), "s-5"), 401);
  EXPECT_EQ(stub.calls(), one_cold_start) << "fetched at init, not per invocation";
  EXPECT_TRUE(fn.running());
}

TEST(secrets_manager_lambda, a_fetch_failure_posts_init_error_naming_jwt_secret_arn_and_exits) {
  secrets_stub stub("the-stubs-own-key-not-ours-0123");
  runtime_emulator emu;
  temp_dir dir;
  auto env = lambda_env(emu, stub, dir.path() / "data");
  const std::string wrong_key = "lambda/Wrong+Key0123456789abcdef";
  env["AWS_SECRET_ACCESS_KEY"] = wrong_key;
  lambda_process fn(env, dir.path() / "lambda.log");
  const auto report = emu.wait_init_error(20s);
  ASSERT_TRUE(report) << fn.log_text();
  EXPECT_EQ(report->error_type, "Runtime.InvalidConfiguration");
  const auto body = parse_json(report->body);
  const std::string message(body.at("errorMessage").as_string());
  EXPECT_EQ(message.rfind("JWT_SECRET_ARN: ", 0), 0u) << message;
  EXPECT_NE(message.find("403"), std::string::npos) << message;
  const auto code = fn.wait_exit(10s);
  ASSERT_TRUE(code) << "still running after its init error";
  EXPECT_EQ(*code, 2);
  for (const auto& secret : {key_a, wrong_key}) {
    EXPECT_EQ(report->body.find(secret), std::string::npos);
    EXPECT_EQ(fn.log_text().find(secret), std::string::npos);
  }
  EXPECT_EQ(emu.next_requests(), 0) << "no invocation is taken after a failed init";
}

}  // namespace
}  // namespace gatehouse::testing
