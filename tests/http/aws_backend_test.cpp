// Gatehouse on its AWS backends (dynalite and s3rver behind the
// SigV4-verifying proxies), checked from the outside: what it writes read
// back with the AWS SDK for JavaScript v3, data the Node.js version left
// served as it is after `gatehouse migrate`, e-mail uniqueness under
// concurrent sign-ups, and the behaviour when a backend is down, slow,
// throttling, failing or refusing the credentials.
#include "support/aws_peers.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/http_client.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <latch>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#ifndef GATEHOUSE_BINARY
#error "GATEHOUSE_BINARY must name the gatehouse executable"
#endif

namespace gatehouse::testing {
namespace {
namespace json = boost::json;
using env_map = std::map<std::string, std::string>;
using std::chrono::steady_clock;

const std::string password = "correct horse battery";

// ---- small helpers --------------------------------------------------------

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int s : {18, 12, 6, 0}) out += table[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string unbase64(const std::string& text) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : text) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+') d = 62;
    else if (c == '/') d = 63;
    else break;  // '=' padding ends the data
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xFF);
    }
  }
  return out;
}

std::string str(const json::value& v, const char* field) {
  const auto* f = v.as_object().if_contains(field);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

std::set<std::string> keys_of(const json::value& v) {
  std::set<std::string> keys;
  for (const auto& kv : v.as_object()) keys.emplace(kv.key());
  return keys;
}

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A v4-shaped id for items written behind Gatehouse's back.
std::string made_up_user_id() {
  static std::mt19937_64 gen{std::random_device{}()};
  std::string id = "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx";
  for (char& ch : id)
    if (ch == 'x') ch = "0123456789abcdef"[gen() % 16];
  return id;
}

http_result sign_up(http_client& c, const std::string& email, const std::string& name = "Ada") {
  return c.post_json("/signup", json::serialize(json::object{{"name", name}, {"email", email}, {"password", password}}));
}

http_result log_in(http_client& c, const std::string& email, const std::string& pw = password) {
  return c.post_json("/login", json::serialize(json::object{{"email", email}, {"password", pw}}));
}

std::string token_of(const http_result& login) { return std::string(parse_json(login.body).at("token").as_string()); }

header_list bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }

http_result upload(http_client& c, const std::string& token, const std::string& bytes) {
  return c.send("POST", "/upload_profile_pic", multipart_body({{"image", "me.bin", "application/octet-stream", bytes}}),
                multipart_headers(token));
}

// What every storage failure must look like to a client: 503
// storage_unavailable with a Retry-After, and none of the backend's words.
void expect_storage_unavailable(const http_result& r) {
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(error_code_of(r), "storage_unavailable") << r.body;
  EXPECT_FALSE(r.header("retry-after").empty()) << r.body;
  for (const char* leak : {"SignatureDoesNotMatch", "InvalidSignature", "Signature", "com.amazon", "amazonaws",
                           "Throughput", "InternalServerError", "InternalError", "SlowDown", "status 5", "status 4",
                           "127.0.0.1", "Connection refused", "timed out"})
    EXPECT_EQ(r.body.find(leak), std::string::npos) << "'" << leak << "' leaked: " << r.body;
}

// `gatehouse serve` without the `migrate --create-tables` that
// gatehouse_process runs first: for a server whose credentials are wrong,
// which could not create its tables. Killed on destruction.
class serve_only {
 public:
  explicit serve_only(env_map env) {
    port_ = free_loopback_port();
    log_ = dir_.path() / "server.log";
    env.insert({{"PORT", std::to_string(port_)},
                {"DATA_DIR", (dir_.path() / "data").string()},
                {"JWT_PRIVATE_KEY", test_jwt_private_key},
                {"BCRYPT_COST", "4"},
                {"LOG_LEVEL", "info"},
                {"PATH", "/usr/bin:/bin"}});
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(GATEHOUSE_BINARY), const_cast<char*>("serve"), nullptr};
    const std::string log_path = log_.string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(GATEHOUSE_BINARY, argv, envp.data());
      ::_exit(127);
    }
    const auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (steady_clock::now() < deadline) {
      try {
        http_client c(port_);
        if (c.get("/health").status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("gatehouse serve did not answer /health: " + log_text());
  }
  ~serve_only() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  serve_only(const serve_only&) = delete;
  serve_only& operator=(const serve_only&) = delete;
  unsigned short port() const { return port_; }
  std::string log_text() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  temp_dir dir_;
  std::filesystem::path log_;
  unsigned short port_ = 0;
  int pid_ = -1;
};

// ---- the fixture ----------------------------------------------------------

// One set of peers per suite; every test takes fresh tables.
class aws_fixture : public ::testing::Test {
 protected:
  static void start_peers() { peers_ = std::make_unique<aws_peers>(); }
  static void stop_peers() { peers_.reset(); }

  // The peers' env with a USERS_TABLE nobody else uses, plus `extra`.
  static env_map fresh_env(const env_map& extra = {}) {
    auto env = peers_->gatehouse_env();
    env["USERS_TABLE"] = peers_->new_table_name();
    for (const auto& [k, v] : extra) env[k] = v;
    return env;
  }

  // Runs `ops` through tests/peers/sdk-smoke.mjs; every op must succeed.
  static json::array sdk(const json::array& ops) {
    json::object config{{"dynamodb", peers_->dynamodb_url()}, {"s3", peers_->s3_url()},
                        {"access_key", peers_->access_key()}, {"secret_key", peers_->secret_key()},
                        {"region", peers_->region()},         {"ops", ops}};
    std::string out, err;
    const int code = peers_->run_node({"sdk-smoke.mjs", json::serialize(config)}, out, err);
    if (code != 0) throw std::runtime_error("sdk-smoke.mjs failed (" + std::to_string(code) + "): " + err);
    auto results = parse_json(out).as_array();
    if (results.size() != ops.size()) throw std::runtime_error("sdk-smoke.mjs: wrong result count: " + out);
    for (const auto& r : results)
      if (!r.at("ok").as_bool()) throw std::runtime_error("an SDK op failed: " + json::serialize(r));
    return results;
  }

  static json::value get_item(const std::string& table, const json::object& key) {
    return sdk({json::object{{"op", "dynamodb.get_item"}, {"table", table}, {"key", key}}})[0].at("item");
  }

  static std::string emails_table(const env_map& env) { return env.at("USERS_TABLE") + "-emails"; }

  // A bcryptjs hash, made by the package the Node.js version used.
  static std::string bcryptjs_hash(const std::string& pw, int cost) {
    std::string out, err;
    const int code = peers_->run_node(
        {"-e", "process.stdout.write(require('bcryptjs').hashSync(process.argv[1], Number(process.argv[2])))", pw,
         std::to_string(cost)},
        out, err);
    if (code != 0) throw std::runtime_error("bcryptjs failed: " + err);
    return out;
  }

  static inline std::unique_ptr<aws_peers> peers_;
};

// Interoperability, migration, concurrency, credentials: tests that leave
// the peers as they found them share one set.
class aws_backend : public aws_fixture {
 protected:
  static void SetUpTestSuite() { start_peers(); }
  static void TearDownTestSuite() { stop_peers(); }
};

// Faults stop, throttle and fail the peers: a set of their own, and
// short timeouts so a broken backend answers fast.
class aws_faults : public aws_fixture {
 protected:
  static void SetUpTestSuite() { start_peers(); }
  static void TearDownTestSuite() { stop_peers(); }
  void TearDown() override {
    // Whatever a failed assertion left behind, the next test gets working peers.
    peers_->start_dynamodb();
    peers_->start_s3();
    for (auto s : {aws_service::dynamodb, aws_service::s3}) {
      peers_->throttle_next(s, 0);
      peers_->fail_next(s, 0);
      peers_->delay_next(s, 0, 0);
      peers_->lose_next_answers(s, 0);
    }
  }
  static env_map fault_env() {
    return fresh_env({{"AWS_CONNECT_TIMEOUT_MS", "300"},
                      {"AWS_REQUEST_TIMEOUT_MS", "800"},
                      {"AWS_TOTAL_TIMEOUT_MS", "2000"},
                      {"AWS_MAX_ATTEMPTS", "3"}});
  }
};

// ---- interoperability -----------------------------------------------------

TEST_F(aws_backend, items_and_objects_gatehouse_writes_have_the_originals_shape_when_read_with_the_sdk) {
  const auto env = fresh_env();
  gatehouse_process gh(env);
  http_client c(gh.port());

  const auto before = unix_now();
  const auto up = sign_up(c, "ada@example.com", "Ada Lovelace");
  ASSERT_EQ(up.status, 201) << up.body;
  const auto after = unix_now();
  const auto api_user = parse_json(up.body).at("user");
  const std::string user_id = str(api_user, "userId");

  const auto results =
      sdk({json::object{{"op", "dynamodb.get_item"}, {"table", env.at("USERS_TABLE")}, {"key", {{"userId", user_id}}}},
           json::object{{"op", "dynamodb.get_item"}, {"table", emails_table(env)}, {"key", {{"email", "ada@example.com"}}}}});
  const auto item = results[0].at("item");
  ASSERT_TRUE(item.is_object()) << json::serialize(results);
  EXPECT_EQ(keys_of(item), (std::set<std::string>{"userId", "name", "email", "password", "createdAt"}));
  EXPECT_EQ(str(item, "userId"), user_id);
  EXPECT_EQ(str(item, "name"), "Ada Lovelace");
  EXPECT_EQ(str(item, "email"), "ada@example.com");
  EXPECT_TRUE(std::regex_match(str(item, "password"), std::regex(R"(\$2b\$04\$[./A-Za-z0-9]{53})")))
      << str(item, "password");
  EXPECT_TRUE(std::regex_match(str(item, "createdAt"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << str(item, "createdAt");
  EXPECT_EQ(str(item, "createdAt"), str(api_user, "createdAt"));

  const auto claim = results[1].at("item");
  ASSERT_TRUE(claim.is_object()) << json::serialize(results);
  EXPECT_EQ(keys_of(claim), (std::set<std::string>{"email", "userId", "claimedAt"}));
  EXPECT_EQ(str(claim, "email"), "ada@example.com");
  EXPECT_EQ(str(claim, "userId"), user_id);
  ASSERT_TRUE(claim.at("claimedAt").is_number());  // a DynamoDB N, unix seconds
  const auto claimed_at = claim.at("claimedAt").to_number<std::int64_t>();
  EXPECT_GE(claimed_at, before);
  EXPECT_LE(claimed_at, after);

  const auto login = log_in(c, "ada@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  // Declared as octet-stream on purpose: the stored type comes from the bytes.
  const auto r = upload(c, token_of(login), sample_png());
  ASSERT_EQ(r.status, 200) << r.body;

  const auto item2 = get_item(env.at("USERS_TABLE"), {{"userId", user_id}});
  EXPECT_EQ(keys_of(item2), (std::set<std::string>{"userId", "name", "email", "password", "createdAt", "profile_image"}));
  const std::string key = str(item2, "profile_image");
  // The object key, not a URL: URLs are minted per response.
  EXPECT_TRUE(std::regex_match(key, std::regex("profile-images/" + user_id + "/[A-Za-z0-9_-]+\\.png"))) << key;
  EXPECT_EQ(str(item2, "password"), str(item, "password"));

  const auto object = sdk({json::object{{"op", "s3.get_object_base64"}, {"bucket", peers_->bucket()}, {"key", key}}})[0];
  EXPECT_EQ(unbase64(str(object, "body_base64")), sample_png());
  EXPECT_EQ(str(object, "content_type"), "image/png");
  // s3rver 3.7.1 keeps only a fixed list of metadata (S3Object.ALLOWED_METADATA)
  // and drops x-amz-server-side-encryption, so here this check does not
  // run; against a peer that reports SSE it must say AES256.
  if (object.at("server_side_encryption").is_string()) {
    EXPECT_EQ(str(object, "server_side_encryption"), "AES256");
  }
}

TEST_F(aws_backend, users_and_images_the_nodejs_version_wrote_log_in_and_are_served_after_migrate) {
  const auto env = fresh_env();
  gatehouse_process gh(env);
  http_client c(gh.port());

  // Written the way the Node.js version did: bcryptjs $2a$ hash, the e-mail
  // as the user typed it, and multer-s3's `location` (a URL-encoded key) as
  // profile_image.
  const std::string hash = bcryptjs_hash(password, 4);
  ASSERT_EQ(hash.rfind("$2a$04$", 0), 0u) << hash;
  const std::string user_id = made_up_user_id();
  const std::string key = "uploads/" + std::to_string(::getpid()) + "-grace hopper.jpg";
  const std::string location = "https://" + peers_->bucket() + ".s3." + peers_->region() + ".amazonaws.com/uploads/" +
                               std::to_string(::getpid()) + "-grace%20hopper.jpg";
  sdk({json::object{{"op", "s3.put_object_base64"},
                    {"bucket", peers_->bucket()},
                    {"key", key},
                    {"body_base64", base64(sample_jpeg())},
                    {"content_type", "image/jpeg"}},
       json::object{{"op", "dynamodb.put_item"},
                    {"table", env.at("USERS_TABLE")},
                    {"item",
                     {{"userId", user_id},
                      {"name", "Grace Hopper"},
                      {"email", "Grace@Example.com"},
                      {"password", hash},
                      {"createdAt", "2021-03-04T05:06:07.089Z"},
                      {"profile_image", location}}}}});

  // Without a claim the user cannot be found: login does not Scan.
  const auto refused = log_in(c, "grace@example.com");
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(error_code_of(refused), "invalid_credentials");

  std::string out;
  ASSERT_EQ(run_gatehouse(env, {"migrate"}, out), 0) << out;
  EXPECT_NE(out.find("scanned 1 users, 1 claims written, 0 already present, 0 conflicts, 0 skipped"),
            std::string::npos)
      << out;
  const auto claim = get_item(emails_table(env), {{"email", "grace@example.com"}});
  ASSERT_TRUE(claim.is_object());
  EXPECT_EQ(str(claim, "userId"), user_id);

  // Any spelling of the e-mail finds her now; the $2a$ hash verifies.
  const auto login = log_in(c, "grace@example.com");
  ASSERT_EQ(login.status, 200) << login.body << gh.log_text();
  EXPECT_EQ(str(parse_json(login.body).at("user"), "userId"), user_id);
  EXPECT_EQ(log_in(c, "  GRACE@example.COM ").status, 200);
  EXPECT_EQ(log_in(c, "grace@example.com", "not her password").status, 401);
  // The first login replaced bcryptjs's $2a$ hash with a $2b$ one at the
  // server's cost (4 here), in the original's `password` attribute.
  const std::string upgraded = str(get_item(env.at("USERS_TABLE"), {{"userId", user_id}}), "password");
  EXPECT_EQ(upgraded.rfind("$2b$04$", 0), 0u) << upgraded;
  EXPECT_NE(upgraded, hash);

  const auto me = c.get("/users/me", bearer(token_of(login)));
  ASSERT_EQ(me.status, 200) << me.body;
  const auto user = parse_json(me.body).at("user");
  EXPECT_EQ(str(user, "name"), "Grace Hopper");
  EXPECT_EQ(str(user, "email"), "grace@example.com") << "the contract's e-mails are lower-cased";
  EXPECT_EQ(str(user, "createdAt"), "2021-03-04T05:06:07.089Z");
  // The stored URL is recognised as ours and served pre-signed, from the
  // endpoint Gatehouse is configured with (the S3 proxy), key encoded once.
  const std::string url = str(user, "profile_image");
  const std::string expected_prefix = peers_->s3_url() + "/" + peers_->bucket() + "/uploads/" +
                                      std::to_string(::getpid()) + "-grace%20hopper.jpg?";
  EXPECT_EQ(url.rfind(expected_prefix, 0), 0u) << url;
  EXPECT_NE(url.find("X-Amz-Signature="), std::string::npos) << url;
  const auto image = fetch_url(url);
  EXPECT_EQ(image.status, 200) << image.body;
  EXPECT_EQ(image.body, sample_jpeg());
  EXPECT_EQ(image.header("content-type"), "image/jpeg");

  // A second run finds everything in place.
  ASSERT_EQ(run_gatehouse(env, {"migrate"}, out), 0) << out;
  EXPECT_NE(out.find("scanned 1 users, 0 claims written, 1 already present, 0 conflicts, 0 skipped"),
            std::string::npos)
      << out;
  EXPECT_EQ(str(get_item(emails_table(env), {{"email", "grace@example.com"}}), "userId"), user_id);
}

// Lower-case hex SHA-256, computed here independently of Gatehouse's code.
std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

TEST_F(aws_backend, refresh_token_items_hold_only_hashes_and_carry_expires_at_for_ttl) {
  const auto env = fresh_env();
  gatehouse_process gh(env);
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "tokens@example.com").status, 201);
  const auto before = unix_now();
  const auto login = log_in(c, "tokens@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string user_id = str(parse_json(login.body).at("user"), "userId");
  const std::string first = str(parse_json(login.body), "refresh_token");
  const auto rotated = c.post_json("/token/refresh", json::serialize(json::object{{"refresh_token", first}}));
  ASSERT_EQ(rotated.status, 200) << rotated.body << gh.log_text();
  const std::string second = str(parse_json(rotated.body), "refresh_token");
  ASSERT_EQ(c.post_json("/logout", json::serialize(json::object{{"refresh_token", second}})).status, 204);
  const auto after = unix_now();
  constexpr std::int64_t ttl = 30 * 86400;

  const auto items = sdk({json::object{{"op", "dynamodb.scan"}, {"table", env.at("USERS_TABLE") + "-tokens"}}})[0]
                         .at("items")
                         .as_array();
  const std::string dump = json::serialize(items);
  ASSERT_EQ(first.size(), 43u);
  EXPECT_EQ(dump.find(first), std::string::npos) << "a token in plaintext: " << dump;
  EXPECT_EQ(dump.find(second), std::string::npos) << "a token in plaintext: " << dump;
  ASSERT_EQ(items.size(), 3u) << dump;

  std::map<std::string, json::value> by_id;
  for (const auto& item : items) by_id[str(item, "id")] = item;
  const auto in_range = [&](const json::value& item, const char* field, std::int64_t lo, std::int64_t hi) {
    const auto* v = item.as_object().if_contains(field);
    if (!v || !v->is_number()) return false;  // a DynamoDB N
    const auto n = v->to_number<std::int64_t>();
    return n >= lo && n <= hi;
  };

  const auto used = by_id["token#" + sha256_hex(first)];
  ASSERT_TRUE(used.is_object()) << dump;
  EXPECT_EQ(keys_of(used), (std::set<std::string>{"id", "familyId", "userId", "expiresAt", "usedAt", "successorHash"}));
  EXPECT_EQ(str(used, "userId"), user_id);
  EXPECT_EQ(str(used, "successorHash"), sha256_hex(second));
  EXPECT_TRUE(in_range(used, "expiresAt", before + ttl, after + ttl)) << used;
  EXPECT_TRUE(in_range(used, "usedAt", before, after)) << used;

  const auto current = by_id["token#" + sha256_hex(second)];
  ASSERT_TRUE(current.is_object()) << dump;
  EXPECT_EQ(keys_of(current), (std::set<std::string>{"id", "familyId", "userId", "expiresAt"}));
  EXPECT_EQ(str(current, "familyId"), str(used, "familyId"));
  EXPECT_TRUE(in_range(current, "expiresAt", before + ttl, after + ttl)) << current;

  const auto family = by_id["family#" + str(used, "familyId")];
  ASSERT_TRUE(family.is_object()) << dump;
  // Revoked: no sessionUserId any more, so the sessions index has let it go.
  EXPECT_EQ(keys_of(family),
            (std::set<std::string>{"id", "familyId", "userId", "createdAt", "createdAtMs", "expiresAt", "revokedAt"}));
  EXPECT_EQ(str(family, "userId"), user_id);
  EXPECT_TRUE(in_range(family, "revokedAt", before, after)) << "logout revoked it: " << family;
  // The family outlives its newest token, so TTL never takes it first.
  EXPECT_GE(family.at("expiresAt").to_number<std::int64_t>(), current.at("expiresAt").to_number<std::int64_t>());
}

TEST_F(aws_backend, migrate_names_a_tokens_table_without_the_sessions_index_and_serve_lists_sessions_by_it) {
  // A tokens table from before the index: migrate says what is missing and how to fix it.
  const auto old_env = fresh_env();
  sdk({json::object{{"op", "dynamodb.create_table"}, {"table", old_env.at("USERS_TABLE") + "-tokens"}}});
  std::string out;
  EXPECT_EQ(run_gatehouse(old_env, {"migrate", "--create-tables"}, out), 2) << out;
  EXPECT_NE(out.find(old_env.at("USERS_TABLE") + "-tokens's index user-sessions"), std::string::npos) << out;
  EXPECT_NE(out.find("deploy the stack"), std::string::npos) << out;

  // A table migrate creates has it: a live family carries sessionUserId (in the index), a revoked one not.
  const auto env = fresh_env({{"MAX_SESSIONS_PER_USER", "1"}});
  gatehouse_process gh(env);
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "index@example.com").status, 201);
  const auto first = log_in(c, "index@example.com");
  ASSERT_EQ(first.status, 200) << first.body;
  const auto second = log_in(c, "index@example.com");
  ASSERT_EQ(second.status, 200) << second.body;
  const std::string user_id = str(parse_json(second.body).at("user"), "userId");
  std::map<std::string, std::string> session_user_of;  // family id -> sessionUserId ("" when none)
  const auto scanned = sdk({json::object{{"op", "dynamodb.scan"}, {"table", env.at("USERS_TABLE") + "-tokens"}}});
  for (const auto& item : scanned[0].at("items").as_array()) {
    if (str(item, "id").rfind("family#", 0) != 0) continue;
    const auto* s = item.as_object().if_contains("sessionUserId");
    session_user_of[str(item, "familyId")] = s ? std::string(s->as_string()) : "";
    EXPECT_TRUE(item.as_object().contains("createdAtMs")) << item;
  }
  ASSERT_EQ(session_user_of.size(), 2u);
  int listed = 0;
  for (const auto& [family, session_user] : session_user_of)
    if (!session_user.empty()) {
      EXPECT_EQ(session_user, user_id);
      ++listed;
    }
  EXPECT_EQ(listed, 1) << "the cap of 1 revoked the first login's family, which left the index";
}

TEST_F(aws_backend, rate_limit_items_hold_keyed_hashes_a_count_and_expires_at_for_ttl) {
  const auto env = fresh_env({{"RATE_LIMIT_LOGIN_PER_EMAIL", "5/15m"},
                              {"RATE_LIMIT_LOGIN_PER_IP", "30/5m"},
                              {"RATE_LIMIT_SIGNUP_PER_IP", "30/1h"}});
  gatehouse_process gh(env);
  http_client c(gh.port());
  // Every request below must fall in one window of each length: stay clear of a 5-minute end.
  if (const auto left = 300 - unix_now() % 300; left < 20) std::this_thread::sleep_for(std::chrono::seconds(left + 1));
  ASSERT_EQ(sign_up(c, "limits@example.com").status, 201);
  EXPECT_EQ(log_in(c, "limits@example.com", "wrong password!").status, 401);
  EXPECT_EQ(log_in(c, "limits@example.com", "wrong password!").status, 401);

  const auto items = sdk({json::object{{"op", "dynamodb.scan"}, {"table", env.at("USERS_TABLE") + "-limits"}}})[0]
                         .at("items")
                         .as_array();
  const std::string dump = json::serialize(items);
  EXPECT_EQ(dump.find("limits@example.com"), std::string::npos) << "an e-mail in clear: " << dump;
  EXPECT_EQ(dump.find("127.0.0.1"), std::string::npos) << "an address in clear: " << dump;
  ASSERT_EQ(items.size(), 3u) << dump;

  // One counter per limit, told apart by its window's length: sign-ups per
  // IP (1 h), failed logins per e-mail (15 min) and per IP (5 min).
  const std::regex id_shape("[0-9a-f]{64}#([0-9]+)");
  std::map<std::int64_t, std::int64_t> count_by_window;
  for (const auto& item : items) {
    EXPECT_EQ(keys_of(item), (std::set<std::string>{"id", "count", "expiresAt"})) << item;
    const std::string id = str(item, "id");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(id, m, id_shape)) << id;
    const std::int64_t start = std::stoll(m[1].str());
    const std::int64_t window = item.at("expiresAt").to_number<std::int64_t>() - start;
    EXPECT_EQ(start % window, 0) << "windows start at multiples of their length: " << item;
    count_by_window[window] = item.at("count").to_number<std::int64_t>();
  }
  EXPECT_EQ(count_by_window, (std::map<std::int64_t, std::int64_t>{{3600, 1}, {900, 2}, {300, 2}})) << dump;
}

// ---- concurrency ----------------------------------------------------------

TEST_F(aws_backend, fifty_concurrent_signups_of_one_email_give_exactly_one_201) {
  const auto env = fresh_env();
  gatehouse_process gh(env);
  const auto results = all_at_once(50, gh.port(), [](http_client& c, int i) {
    return sign_up(c, "race@example.com", "Racer " + std::to_string(i));
  });
  int created = 0, taken = 0;
  std::string winner;
  for (const auto& r : results) {
    if (r.status == 201) {
      ++created;
      winner = str(parse_json(r.body).at("user"), "userId");
    } else if (r.status == 409 && error_code_of(r) == "email_taken") {
      ++taken;
    } else {
      ADD_FAILURE() << r.status << " " << r.body;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(taken, 49);

  // The one account is the one the claim names, and it logs in.
  const auto items = sdk({json::object{{"op", "dynamodb.scan"}, {"table", env.at("USERS_TABLE")}},
                          json::object{{"op", "dynamodb.scan"}, {"table", emails_table(env)}}});
  ASSERT_EQ(items[0].at("items").as_array().size(), 1u) << json::serialize(items);
  EXPECT_EQ(str(items[0].at("items").as_array()[0], "userId"), winner);
  ASSERT_EQ(items[1].at("items").as_array().size(), 1u) << json::serialize(items);
  EXPECT_EQ(str(items[1].at("items").as_array()[0], "userId"), winner);
  http_client c(gh.port());
  const auto login = log_in(c, "race@example.com");
  ASSERT_EQ(login.status, 200);
  EXPECT_EQ(str(parse_json(login.body).at("user"), "userId"), winner);
}

TEST_F(aws_backend, two_hundred_parallel_signups_over_twenty_emails_make_twenty_users_and_twenty_claims) {
  const auto env = fresh_env();
  gatehouse_process gh(env);
  const auto email = [](int i) { return "crowd" + std::to_string(i % 20) + "@example.com"; };
  const auto results =
      all_at_once(200, gh.port(), [&](http_client& c, int i) { return sign_up(c, email(i)); });
  std::map<std::string, int> created_per_email;
  int taken = 0;
  for (int i = 0; i < 200; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    if (r.status == 201)
      ++created_per_email[email(i)];
    else if (r.status == 409 && error_code_of(r) == "email_taken")
      ++taken;
    else
      ADD_FAILURE() << r.status << " " << r.body;
  }
  EXPECT_EQ(created_per_email.size(), 20u);
  for (const auto& [e, n] : created_per_email) EXPECT_EQ(n, 1) << e;
  EXPECT_EQ(taken, 180);

  // Every user exactly once through the API's pages.
  http_client c(gh.port());
  const auto login = log_in(c, email(0));
  ASSERT_EQ(login.status, 200) << login.body;
  std::set<std::string> listed;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    const auto r = c.get("/users?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor), bearer(token_of(login)));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = parse_json(r.body);
    for (const auto& u : body.at("users").as_array())
      EXPECT_TRUE(listed.insert(str(u, "userId")).second) << "seen twice: " << u;
    if (body.at("next_cursor").is_null()) break;
    cursor = std::string(body.at("next_cursor").as_string());
  }
  EXPECT_EQ(listed.size(), 20u);
  // The list shows other users' e-mails to nobody: the table has them.
  std::map<std::string, std::string> email_of_user;
  const auto items = sdk({json::object{{"op", "dynamodb.scan"}, {"table", env.at("USERS_TABLE")}}})[0].at("items");
  for (const auto& u : items.as_array()) email_of_user.emplace(str(u, "userId"), str(u, "email"));
  EXPECT_EQ(email_of_user.size(), 20u);
  for (const auto& id : listed) EXPECT_EQ(email_of_user.count(id), 1u) << id;
  std::set<std::string> emails;
  for (const auto& [id, e] : email_of_user) emails.insert(e);
  EXPECT_EQ(emails.size(), 20u);

  // And one claim per e-mail, each naming that e-mail's user.
  const auto claims = sdk({json::object{{"op", "dynamodb.scan"}, {"table", emails_table(env)}}})[0].at("items");
  ASSERT_EQ(claims.as_array().size(), 20u) << json::serialize(claims);
  for (const auto& cl : claims.as_array()) {
    const auto it = email_of_user.find(str(cl, "userId"));
    ASSERT_NE(it, email_of_user.end()) << cl;
    EXPECT_EQ(it->second, str(cl, "email"));
  }
}

TEST_F(aws_backend, a_stale_claim_without_a_user_is_taken_over_and_a_fresh_one_is_not) {
  const auto env = fresh_env();
  gatehouse_process gh(env);
  http_client c(gh.port());
  // Left by sign-ups that crashed between the claim and the user.
  const std::string stale_owner = made_up_user_id(), fresh_owner = made_up_user_id();
  sdk({json::object{{"op", "dynamodb.put_item"},
                    {"table", emails_table(env)},
                    {"item", {{"email", "stale@example.com"}, {"userId", stale_owner}, {"claimedAt", unix_now() - 3600}}}},
       json::object{{"op", "dynamodb.put_item"},
                    {"table", emails_table(env)},
                    {"item", {{"email", "fresh@example.com"}, {"userId", fresh_owner}, {"claimedAt", unix_now()}}}}});

  const auto stale = sign_up(c, "stale@example.com");
  ASSERT_EQ(stale.status, 201) << stale.body << gh.log_text();
  const std::string user_id = str(parse_json(stale.body).at("user"), "userId");
  const auto login = log_in(c, "stale@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(str(parse_json(login.body).at("user"), "userId"), user_id);
  EXPECT_EQ(str(get_item(emails_table(env), {{"email", "stale@example.com"}}), "userId"), user_id);

  // A young claim may belong to a sign-up still in progress: hands off.
  const auto fresh = sign_up(c, "fresh@example.com");
  EXPECT_EQ(fresh.status, 409) << fresh.body;
  EXPECT_EQ(error_code_of(fresh), "email_taken");
  EXPECT_EQ(str(get_item(emails_table(env), {{"email", "fresh@example.com"}}), "userId"), fresh_owner);
}

// ---- credentials ----------------------------------------------------------

TEST_F(aws_backend, a_wrong_secret_key_gives_503_without_any_aws_error_text) {
  const std::string wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  {
    // DynamoDB: the tables exist (made with the right key); serve with the wrong one.
    auto env = fresh_env();
    std::string out;
    ASSERT_EQ(run_gatehouse(env, {"migrate", "--create-tables"}, out), 0) << out;
    env["AWS_SECRET_ACCESS_KEY"] = wrong;
    serve_only gh(env);
    http_client c(gh.port());
    const auto before = peers_->stats(aws_service::dynamodb);
    expect_storage_unavailable(sign_up(c, "wrongkey@example.com"));
    expect_storage_unavailable(log_in(c, "wrongkey@example.com"));
    const auto after = peers_->stats(aws_service::dynamodb);
    // One refused request each: a 403 is final, not retried.
    EXPECT_EQ(after.rejected - before.rejected, 2) << gh.log_text();
    EXPECT_EQ(after.forwarded - before.forwarded, 0);
    // The proxy's 403 reached Gatehouse and went to its log only.
    EXPECT_NE(gh.log_text().find("\"status\":403"), std::string::npos) << gh.log_text();
    EXPECT_EQ(c.get("/health").status, 200);
  }
  {
    // S3: users in the embedded store, images in the bucket with the wrong key.
    auto env = peers_->gatehouse_env();
    env["USERS_TABLE"] = unset_variable;
    env["AWS_SECRET_ACCESS_KEY"] = wrong;
    gatehouse_process gh(env);
    http_client c(gh.port());
    ASSERT_EQ(sign_up(c, "wrongkey@example.com").status, 201);
    const auto login = log_in(c, "wrongkey@example.com");
    ASSERT_EQ(login.status, 200);
    const auto before = peers_->stats(aws_service::s3);
    expect_storage_unavailable(upload(c, token_of(login), sample_png()));
    const auto after = peers_->stats(aws_service::s3);
    EXPECT_EQ(after.rejected - before.rejected, 1) << gh.log_text();
    EXPECT_EQ(after.forwarded - before.forwarded, 0);
    EXPECT_NE(gh.log_text().find("\"status\":403"), std::string::npos) << gh.log_text();
    const auto me = c.get("/users/me", bearer(token_of(login)));
    ASSERT_EQ(me.status, 200);
    EXPECT_TRUE(parse_json(me.body).at("user").at("profile_image").is_null()) << me.body;
  }
}

// ---- faults ---------------------------------------------------------------

TEST_F(aws_faults, dynamodb_down_or_hung_gives_503_with_retry_after_and_recovers_without_a_restart) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "before@example.com").status, 201);
  ASSERT_EQ(log_in(c, "before@example.com").status, 200);

  peers_->stop_dynamodb();
  auto start = steady_clock::now();
  expect_storage_unavailable(log_in(c, "before@example.com"));
  EXPECT_LT(seconds_since(start), 10.0);
  start = steady_clock::now();
  expect_storage_unavailable(sign_up(c, "during@example.com"));
  EXPECT_LT(seconds_since(start), 10.0);
  const auto health = c.get("/health");
  EXPECT_EQ(health.status, 200) << health.body;

  peers_->start_dynamodb();
  const auto login = log_in(c, "before@example.com");
  EXPECT_EQ(login.status, 200) << login.body << gh.log_text();
  const auto signup = sign_up(c, "during@example.com");
  EXPECT_EQ(signup.status, 201) << signup.body;

  // A peer that accepts and never answers: the request timeout ends each
  // attempt (800 ms) and the total budget the retries; a read, so the late
  // requests the proxy forwards afterwards change nothing.
  peers_->delay_next(aws_service::dynamodb, 5, 5000);
  start = steady_clock::now();
  expect_storage_unavailable(log_in(c, "before@example.com"));
  EXPECT_LT(seconds_since(start), 10.0);
  peers_->delay_next(aws_service::dynamodb, 0, 0);
  EXPECT_EQ(log_in(c, "before@example.com").status, 200);
}

TEST_F(aws_faults, the_request_timeout_bounds_a_request_whose_storage_calls_would_each_take_their_own_budget) {
  // Each storage call alone may take 4 s an attempt and 12 s in all; the
  // request has 1.5 s (REQUEST_TIMEOUT_MS), every call and retry included.
  gatehouse_process gh(fresh_env({{"AWS_CONNECT_TIMEOUT_MS", "2000"},
                                  {"AWS_REQUEST_TIMEOUT_MS", "4000"},
                                  {"AWS_TOTAL_TIMEOUT_MS", "12000"},
                                  {"AWS_MAX_ATTEMPTS", "3"},
                                  {"REQUEST_TIMEOUT_MS", "1500"}}));
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "bounded@example.com").status, 201);

  // Every DynamoDB request held 5 s: longer than an attempt may take.
  peers_->delay_next(aws_service::dynamodb, 1000000, 5000);
  const auto start = steady_clock::now();
  expect_storage_unavailable(log_in(c, "bounded@example.com"));
  // The request's own deadline, with slack for a loaded machine; without
  // it the first attempt alone runs 4 s and the call's retries 12 s.
  EXPECT_LT(seconds_since(start), 1.5 + 2.0) << gh.log_text();
  peers_->delay_next(aws_service::dynamodb, 0, 0);

  const auto health = c.get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
  const auto login = log_in(c, "bounded@example.com");
  EXPECT_EQ(login.status, 200) << login.body << gh.log_text();
}

TEST_F(aws_faults, s3_down_fails_the_upload_records_nothing_and_recovers) {
  const auto env = fault_env();
  gatehouse_process gh(env);
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "pictured@example.com").status, 201);
  ASSERT_EQ(sign_up(c, "plain@example.com").status, 201);
  const auto pictured = log_in(c, "pictured@example.com");
  const auto plain = log_in(c, "plain@example.com");
  ASSERT_EQ(pictured.status, 200);
  ASSERT_EQ(plain.status, 200);
  const std::string user_id = str(parse_json(pictured.body).at("user"), "userId");
  const std::string token = token_of(pictured);
  ASSERT_EQ(upload(c, token, sample_png()).status, 200);
  const std::string first_key = str(get_item(env.at("USERS_TABLE"), {{"userId", user_id}}), "profile_image");
  ASSERT_FALSE(first_key.empty());

  peers_->stop_s3();
  const auto start = steady_clock::now();
  expect_storage_unavailable(upload(c, token, sample_gif()));
  expect_storage_unavailable(upload(c, token_of(plain), sample_gif()));
  EXPECT_LT(seconds_since(start), 20.0);
  // Nothing half-recorded: the old picture stays, the other user has none.
  auto me = c.get("/users/me", bearer(token));
  ASSERT_EQ(me.status, 200) << me.body;
  const std::string old_url = str(parse_json(me.body).at("user"), "profile_image");
  EXPECT_NE(old_url.find(first_key), std::string::npos) << old_url;
  me = c.get("/users/me", bearer(token_of(plain)));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_TRUE(parse_json(me.body).at("user").at("profile_image").is_null()) << me.body;

  peers_->start_s3();
  auto old_image = fetch_url(old_url);
  EXPECT_EQ(old_image.status, 200);
  EXPECT_EQ(old_image.body, sample_png());
  const auto r = upload(c, token, sample_gif());
  ASSERT_EQ(r.status, 200) << r.body << gh.log_text();
  const auto image = fetch_url(str(parse_json(r.body).at("user"), "profile_image"));
  EXPECT_EQ(image.status, 200);
  EXPECT_EQ(image.body, sample_gif());
  EXPECT_EQ(image.header("content-type"), "image/gif");
  // The replaced object went once the new key was recorded.
  const auto keys = sdk({json::object{{"op", "s3.list_objects"}, {"bucket", peers_->bucket()},
                                      {"prefix", "profile-images/" + user_id + "/"}}})[0].at("keys");
  ASSERT_EQ(keys.as_array().size(), 1u) << json::serialize(keys);
  EXPECT_EQ(keys.as_array()[0].as_string(), str(get_item(env.at("USERS_TABLE"), {{"userId", user_id}}), "profile_image"));
}

TEST_F(aws_faults, throttling_is_retried_and_the_request_succeeds) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());

  auto before = peers_->stats(aws_service::dynamodb);
  peers_->throttle_next(aws_service::dynamodb, 2);
  const auto signup = sign_up(c, "throttled@example.com");
  EXPECT_EQ(signup.status, 201) << signup.body << gh.log_text();
  auto after = peers_->stats(aws_service::dynamodb);
  EXPECT_EQ(after.throttled - before.throttled, 2);
  // The claim twice throttled then written, the user, the claim read back.
  EXPECT_EQ(after.forwarded - before.forwarded, 3);

  const auto login = log_in(c, "throttled@example.com");
  ASSERT_EQ(login.status, 200);
  before = peers_->stats(aws_service::s3);
  peers_->throttle_next(aws_service::s3, 2);
  const auto r = upload(c, token_of(login), sample_webp());
  ASSERT_EQ(r.status, 200) << r.body << gh.log_text();
  after = peers_->stats(aws_service::s3);
  EXPECT_EQ(after.throttled - before.throttled, 2);
  EXPECT_EQ(after.forwarded - before.forwarded, 1);
  const auto image = fetch_url(str(parse_json(r.body).at("user"), "profile_image"));
  EXPECT_EQ(image.body, sample_webp());
}

// The attack on an honest answer (issue 21): DynamoDB applies a write and the
// answer is lost on the way back, so the client retries a write that
// happened. Neither the e-mail claim nor the user record may then turn a
// created account into a 409 or a 503.
TEST_F(aws_faults, a_signup_whose_claim_write_answer_is_lost_still_creates_exactly_that_account) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1);  // the claim's PutItem
  const auto signup = sign_up(c, "lost-claim@example.com");
  EXPECT_EQ(signup.status, 201) << signup.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
  EXPECT_EQ(log_in(c, "lost-claim@example.com").status, 200);
  EXPECT_EQ(sign_up(c, "lost-claim@example.com").status, 409) << "exactly one account";
}

TEST_F(aws_faults, a_signup_whose_user_write_answer_is_lost_still_creates_exactly_that_account) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1, 1);  // the user's PutItem, after the claim's
  const auto signup = sign_up(c, "lost-user@example.com");
  EXPECT_EQ(signup.status, 201) << signup.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
  EXPECT_EQ(log_in(c, "lost-user@example.com").status, 200) << "the claim was kept with its user";
}

// Idempotency-Key over the same faults (idempotency/ledger). Every answer
// of the claim's PutItem lost: the claim was written, the client is told
// 503, and its retry with the key finds that claim as its own (the user id
// comes from the key's record) instead of answering 409 email_taken.
TEST_F(aws_faults, a_signup_answered_503_after_its_claim_was_written_converges_when_retried_with_its_key) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  const std::string body = R"({"name":"Ada","email":"ambiguous@example.com","password":"correct horse battery"})";
  const header_list key{{"idempotency-key", "signup-ambiguous"}};
  const auto before = peers_->stats(aws_service::dynamodb);
  // Past the ledger's own PutItem, every attempt of the claim's (more
  // than the client makes; the rest are cleared below).
  peers_->lose_next_answers(aws_service::dynamodb, 10, 1, "PutItem");
  const auto first = c.post_json("/signup", body, key);
  peers_->lose_next_answers(aws_service::dynamodb, 0);
  ASSERT_EQ(first.status, 503) << first.body << gh.log_text();
  EXPECT_EQ(error_code_of(first), "storage_unavailable");
  EXPECT_GE(peers_->stats(aws_service::dynamodb).lost - before.lost, 3);

  const auto retry = c.post_json("/signup", body, key);
  ASSERT_EQ(retry.status, 201) << retry.body << gh.log_text();
  EXPECT_FALSE(retry.has_header("idempotent-replayed")) << "a 503 is not kept: the retry ran";
  EXPECT_EQ(log_in(c, "ambiguous@example.com").status, 200);
  const auto replay = c.post_json("/signup", body, key);
  EXPECT_EQ(replay.body, retry.body);
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
}

// The user's PutItem applied and every answer lost: the claim stays with
// the user (before: it was released, and another sign-up could give the
// address a second user), and the retry with the key is that account.
TEST_F(aws_faults, a_signup_whose_user_write_is_never_answered_keeps_its_claim_and_converges_on_retry) {
  const auto env = fault_env();
  gatehouse_process gh(env);
  http_client c(gh.port());
  const std::string body = R"({"name":"Ada","email":"unanswered@example.com","password":"correct horse battery"})";
  const header_list key{{"idempotency-key", "signup-unanswered"}};
  peers_->lose_next_answers(aws_service::dynamodb, 10, 2, "PutItem");  // past the ledger's and the claim's
  const auto first = c.post_json("/signup", body, key);
  peers_->lose_next_answers(aws_service::dynamodb, 0);
  ASSERT_EQ(first.status, 503) << first.body << gh.log_text();
  const auto other = sign_up(c, "unanswered@example.com");
  EXPECT_EQ(other.status, 409) << "the claim is still held: " << other.body;
  const auto retry = c.post_json("/signup", body, key);
  ASSERT_EQ(retry.status, 201) << retry.body << gh.log_text();
  EXPECT_EQ(log_in(c, "unanswered@example.com").status, 200);
  std::size_t users_with_that_email = 0;
  const auto scanned = sdk({json::object{{"op", "dynamodb.scan"}, {"table", env.at("USERS_TABLE")}}});
  for (const auto& item : scanned[0].at("items").as_array())
    if (item.at("email") == json::value("unanswered@example.com")) ++users_with_that_email;
  EXPECT_EQ(users_with_that_email, 1u);
}

// The new hash written, then every answer of the new session's PutItem
// lost: 503. The retry with the key finds the change made (the stored hash
// is the new password's) and finishes it instead of 401 invalid_credentials.
TEST_F(aws_faults, a_password_change_answered_503_after_the_hash_changed_converges_on_retry) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "pw-retry@example.com").status, 201);
  const auto token = token_of(log_in(c, "pw-retry@example.com"));
  const std::string body = R"({"current_password":"correct horse battery","new_password":"a new password"})";
  const header_list headers{{"authorization", "Bearer " + token}, {"idempotency-key", "pw-change"}};
  peers_->lose_next_answers(aws_service::dynamodb, 10, 1, "PutItem");  // past the ledger's: the new family's
  const auto first = c.post_json("/password/change", body, headers);
  peers_->lose_next_answers(aws_service::dynamodb, 0);
  ASSERT_EQ(first.status, 503) << first.body << gh.log_text();
  const auto retry = c.post_json("/password/change", body, headers);
  ASSERT_EQ(retry.status, 200) << retry.body << gh.log_text();
  EXPECT_EQ(c.post_json("/login", R"({"email":"pw-retry@example.com","password":"a new password"})").status, 200);
  EXPECT_EQ(log_in(c, "pw-retry@example.com").status, 401) << "the old password is gone";
}

// The record deleted, every answer of its DeleteItem lost: 503. The retry
// with the key answers 204 as the first would have, not 401 for a token
// that names nobody now.
TEST_F(aws_faults, an_account_deletion_answered_503_after_the_record_went_converges_on_retry) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "bye-retry@example.com").status, 201);
  const auto token = token_of(log_in(c, "bye-retry@example.com"));
  const auto delete_me = [&](const std::string& key) {
    return c.send("DELETE", "/users/me", R"({"password":"correct horse battery"})",
                  {{"authorization", "Bearer " + token}, {"idempotency-key", key}, {"content-type", "application/json"}});
  };
  peers_->lose_next_answers(aws_service::dynamodb, 10, 0, "DeleteItem");
  const auto first = delete_me("bye");
  peers_->lose_next_answers(aws_service::dynamodb, 0);
  ASSERT_EQ(first.status, 503) << first.body << gh.log_text();
  const auto retry = delete_me("bye");
  EXPECT_EQ(retry.status, 204) << retry.body << gh.log_text();
  EXPECT_EQ(log_in(c, "bye-retry@example.com").status, 401);
  const auto fresh = delete_me("another");
  EXPECT_EQ(fresh.status, 401) << "only the retry of that action";
}

// The ledger's own PutItem applied, its answer lost, retried by the AWS
// client: the record is found held by this very attempt, not by "another
// attempt in progress".
TEST_F(aws_faults, a_key_whose_record_write_answer_is_lost_still_runs_its_request) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1, 0, "PutItem");
  const auto r = c.post_json("/signup", R"({"name":"Ada","email":"lost-record@example.com","password":"correct horse battery"})",
                             {{"idempotency-key", "lost-record"}});
  EXPECT_EQ(r.status, 201) << r.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
}

// The same for the conditional updates after sign-up: the first UpdateItem
// of each route is the one that matters (rate limits are off here).
TEST_F(aws_faults, a_password_change_whose_update_answer_is_lost_is_answered_as_done) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "pw@example.com").status, 201);
  const auto token = token_of(log_in(c, "pw@example.com"));
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1, 0, "UpdateItem");
  const auto changed = c.post_json("/password/change",
                                   R"({"current_password":"correct horse battery","new_password":"a new password"})",
                                   {{"authorization", "Bearer " + token}});
  EXPECT_EQ(changed.status, 200) << changed.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
  EXPECT_EQ(c.post_json("/login", R"({"email":"pw@example.com","password":"a new password"})").status, 200);
}

TEST_F(aws_faults, an_upload_whose_record_update_answer_is_lost_keeps_its_image) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "pic@example.com").status, 201);
  const auto token = token_of(log_in(c, "pic@example.com"));
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1, 0, "UpdateItem");
  const auto r = upload(c, token, sample_webp());
  ASSERT_EQ(r.status, 200) << r.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
  const auto me = c.get("/users/me", {{"authorization", "Bearer " + token}});
  const auto image = fetch_url(str(parse_json(me.body).at("user"), "profile_image"));
  EXPECT_EQ(image.status, 200) << "the recorded image was deleted as if it were the one replaced";
  EXPECT_EQ(image.body, sample_webp());
}

TEST_F(aws_faults, a_refresh_whose_rotation_answer_is_lost_still_rotates) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "rot@example.com").status, 201);
  const auto login = c.post_json("/login", R"({"email":"rot@example.com","password":"correct horse battery"})");
  const std::string refresh(parse_json(login.body).at("refresh_token").as_string());
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1, 0, "UpdateItem");
  const auto next = c.post_json("/token/refresh", "{\"refresh_token\":\"" + refresh + "\"}");
  EXPECT_EQ(next.status, 200) << next.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
  if (next.status == 200) {
    const std::string successor(parse_json(next.body).at("refresh_token").as_string());
    EXPECT_EQ(c.post_json("/token/refresh", "{\"refresh_token\":\"" + successor + "\"}").status, 200)
        << "the session goes on";
  }
}

// Found by the chaos run (tests/chaos, seed 21): a login whose new session's
// PutItem (the family, or its first refresh token) was applied but whose
// answer was lost met its own item on the retry and answered 500
// ("duplicate token family id"); a password change, which opens a session
// the same way, answered 500 after the password had changed.
TEST_F(aws_faults, a_login_whose_session_write_answer_is_lost_still_opens_that_session) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "lost-family@example.com").status, 201);
  for (int skip : {0, 1}) {  // the family's PutItem, then the first token's
    const auto before = peers_->stats(aws_service::dynamodb);
    peers_->lose_next_answers(aws_service::dynamodb, 1, skip, "PutItem");
    const auto login = log_in(c, "lost-family@example.com");
    ASSERT_EQ(login.status, 200) << "skip " << skip << ": " << login.body << gh.log_text();
    EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
    const std::string refresh(parse_json(login.body).at("refresh_token").as_string());
    EXPECT_EQ(c.post_json("/token/refresh", "{\"refresh_token\":\"" + refresh + "\"}").status, 200)
        << "skip " << skip << ": the session works";
  }
}

TEST_F(aws_faults, a_password_change_whose_new_session_write_answer_is_lost_is_answered_as_done) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "lost-session@example.com").status, 201);
  const auto token = token_of(log_in(c, "lost-session@example.com"));
  const auto before = peers_->stats(aws_service::dynamodb);
  peers_->lose_next_answers(aws_service::dynamodb, 1, 0, "PutItem");
  const auto changed = c.post_json("/password/change",
                                   R"({"current_password":"correct horse battery","new_password":"a new password"})",
                                   {{"authorization", "Bearer " + token}});
  EXPECT_EQ(changed.status, 200) << changed.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).lost - before.lost, 1);
  EXPECT_EQ(c.post_json("/login", R"({"email":"lost-session@example.com","password":"a new password"})").status, 200);
}

TEST_F(aws_faults, server_errors_beyond_max_attempts_give_503_and_pass_by_themselves) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  const long failed_at_start = peers_->stats(aws_service::dynamodb).failed;
  peers_->fail_next(aws_service::dynamodb, 10);
  // AWS_MAX_ATTEMPTS=3: three sign-ups use nine 500s and fail; the fourth
  // meets the last 500, retries and succeeds. Nothing is reset by hand.
  for (int i = 0; i < 3; ++i) {
    const auto before = peers_->stats(aws_service::dynamodb);
    expect_storage_unavailable(sign_up(c, "fail" + std::to_string(i) + "@example.com"));
    const auto after = peers_->stats(aws_service::dynamodb);
    EXPECT_EQ(after.failed - before.failed, 3) << "sign-up " << i;
    EXPECT_EQ(after.forwarded - before.forwarded, 0) << "sign-up " << i;
  }
  const auto ok = sign_up(c, "fail0@example.com");
  EXPECT_EQ(ok.status, 201) << ok.body << gh.log_text();
  EXPECT_EQ(peers_->stats(aws_service::dynamodb).failed - failed_at_start, 10);
  EXPECT_EQ(log_in(c, "fail0@example.com").status, 200);
}

TEST_F(aws_faults, a_conditional_check_failure_is_never_retried) {
  gatehouse_process gh(fault_env());
  http_client c(gh.port());
  ASSERT_EQ(sign_up(c, "twice@example.com").status, 201);

  const auto before = peers_->stats(aws_service::dynamodb);
  const auto dup = sign_up(c, "twice@example.com");
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_EQ(error_code_of(dup), "email_taken");
  const auto after = peers_->stats(aws_service::dynamodb);
  // The conditional claim (ConditionalCheckFailedException, a 400) and one
  // read of the claim that holds it; a retry would show a third request.
  EXPECT_EQ(after.verified - before.verified, 2);
  EXPECT_EQ(after.forwarded - before.forwarded, 2);
  EXPECT_EQ(after.throttled - before.throttled, 0);
  EXPECT_EQ(after.failed - before.failed, 0);
}

}  // namespace
}  // namespace gatehouse::testing
