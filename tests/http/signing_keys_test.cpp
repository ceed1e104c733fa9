// The access-token signing key as operators meet it, on the real binary and
// both backends (the key lives in DATA_DIR whatever the store): generated at
// the first start and kept, rotated with `gatehouse keys rotate` across
// processes (old tokens keep working, the JWKS lists both keys, new tokens
// carry the new kid, two rotations later the first key is gone), a JWT_ALG
// that no longer matches the kept key, a key file, and the upgrade from v1,
// whose HS256 secret keeps verifying v1's tokens until the next rotation.
#include "crypto/crypto.hpp"
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace gatehouse::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using env_map = std::map<std::string, std::string>;

json::object part_of(const std::string& token, int index) {
  std::size_t begin = 0;
  for (int i = 0; i < index; ++i) begin = token.find('.', begin) + 1;
  const std::string segment = token.substr(begin, token.find('.', begin) - begin);
  return json::parse(*crypto::base64url_decode(segment)).as_object();
}
std::string kid_of(const std::string& token) {
  const auto header = part_of(token, 0);
  return header.contains("kid") ? std::string(header.at("kid").as_string()) : "";
}

std::vector<std::string> published_kids(http_client& c) {
  const auto r = c.get("/.well-known/jwks.json");
  if (r.status != 200) throw std::runtime_error("jwks: " + std::to_string(r.status));
  const json::value jwks = json::parse(r.body);
  std::vector<std::string> kids;
  for (const auto& k : jwks.at("keys").as_array()) kids.emplace_back(k.at("kid").as_string());
  return kids;
}

int me_status(http_client& c, const std::string& token) {
  return c.get("/users/me", {{"authorization", "Bearer " + token}}).status;
}

std::string log_in(http_client& c, const std::string& email) {
  const auto r = c.post_json("/login", R"({"email":")" + email + R"(","password":"correct horse battery"})");
  if (r.status != 200) throw std::runtime_error("login: " + std::to_string(r.status) + " " + r.body);
  return std::string(json::parse(r.body).at("token").as_string());
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One store and one DATA_DIR for every process of a test, and an issuer
// that does not follow each process's port.
class signing_keys : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = backend_env();
    env_["DATA_DIR"] = data_dir().string();
    env_["JWT_PRIVATE_KEY"] = unset_variable;
    env_["JWT_ISSUER"] = "http://127.0.0.1:1";
  }
  fs::path data_dir() const { return dir_.path() / "data"; }
  // `gatehouse keys rotate` as an operator runs it, with the servers' settings.
  int rotate(std::string& output, env_map extra = {}) {
    env_map env = env_;
    env.erase("JWT_PRIVATE_KEY");
    env["SERVER_SECRET"] = test_server_secret;
    for (auto& [k, v] : extra) env[k] = v;
    return run_gatehouse(env, {"keys", "rotate"}, output);
  }
  env_map with(env_map extra) const {
    env_map env = env_;
    for (auto& [k, v] : extra) env[k] = v;
    return env;
  }

  temp_dir dir_;
  env_map env_;
};

TEST_F(signing_keys, a_key_is_generated_at_the_first_start_kept_private_and_reused) {
  std::string token, kid;
  {
    gatehouse_process server(env_);
    const fs::path key = data_dir() / "jwt-key.pem";
    ASSERT_TRUE(fs::exists(key));
    EXPECT_EQ(fs::status(key).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    const std::string pem = read_text(key);
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    const std::string log = server.log_text();
    EXPECT_NE(log.find("generated a signing key"), std::string::npos) << log;
    EXPECT_EQ(log.find(pem.substr(28, 64)), std::string::npos) << "the key is never logged";

    http_client c(server.port());
    token = sign_up_and_log_in(c, "keep@example.com").token;
    kid = kid_of(token);
    EXPECT_EQ(part_of(token, 0).at("alg"), "RS256");
    EXPECT_EQ(published_kids(c), std::vector<std::string>{kid});
  }
  gatehouse_process again(env_);
  http_client c(again.port());
  EXPECT_EQ(me_status(c, token), 200) << "the same key after a restart";
  EXPECT_EQ(kid_of(log_in(c, "keep@example.com")), kid);
  EXPECT_EQ(again.log_text().find("generated a signing key"), std::string::npos);
}

TEST_F(signing_keys, a_rotation_keeps_old_tokens_working_publishes_both_keys_and_signs_with_the_new_one) {
  const std::string email = "rotate@example.com";
  std::string first_token, first_kid;
  {
    gatehouse_process server(env_);
    http_client c(server.port());
    first_token = sign_up_and_log_in(c, email).token;
    first_kid = kid_of(first_token);
  }
  std::string out;
  ASSERT_EQ(rotate(out), 0) << out;
  EXPECT_NE(out.find(first_kid), std::string::npos) << "names the key that still verifies: " << out;
  EXPECT_TRUE(fs::exists(data_dir() / "jwt-key.previous.pem"));

  std::string second_token, second_kid;
  {
    gatehouse_process server(env_);
    http_client c(server.port());
    EXPECT_EQ(me_status(c, first_token), 200) << "a token of the key before the rotation";
    second_token = log_in(c, email);
    second_kid = kid_of(second_token);
    EXPECT_NE(second_kid, first_kid);
    EXPECT_NE(out.find(second_kid), std::string::npos) << out;
    EXPECT_EQ(published_kids(c), (std::vector<std::string>{second_kid, first_kid}));
    EXPECT_EQ(me_status(c, second_token), 200);
  }
  ASSERT_EQ(rotate(out), 0) << out;
  gatehouse_process server(env_);
  http_client c(server.port());
  EXPECT_EQ(me_status(c, first_token), 401) << "two rotations later the first key verifies nothing";
  EXPECT_EQ(me_status(c, second_token), 200);
  const auto kids = published_kids(c);
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(kids[1], second_kid);
  EXPECT_EQ(std::count(kids.begin(), kids.end(), first_kid), 0);
}

TEST_F(signing_keys, a_jwt_alg_that_no_longer_matches_the_kept_key_is_refused_until_a_rotation) {
  std::string token;
  {
    gatehouse_process server(env_);
    http_client c(server.port());
    token = sign_up_and_log_in(c, "alg@example.com").token;
  }
  env_map es256 = with({{"JWT_ALG", "ES256"}});
  es256.erase("JWT_PRIVATE_KEY");
  es256["SERVER_SECRET"] = test_server_secret;
  std::string out;
  EXPECT_EQ(run_gatehouse(es256, {"serve"}, out), 2) << out;
  EXPECT_NE(out.find("JWT_ALG: "), std::string::npos) << out;
  EXPECT_NE(out.find("gatehouse keys rotate"), std::string::npos) << out;

  ASSERT_EQ(rotate(out, {{"JWT_ALG", "ES256"}}), 0) << out;
  gatehouse_process server(with({{"JWT_ALG", "ES256"}}));
  http_client c(server.port());
  const std::string fresh = log_in(c, "alg@example.com");
  EXPECT_EQ(part_of(fresh, 0).at("alg"), "ES256");
  EXPECT_EQ(me_status(c, token), 200) << "the RS256 key's tokens still verify";
  const auto jwks = json::parse(c.get("/.well-known/jwks.json").body).at("keys").as_array();
  ASSERT_EQ(jwks.size(), 2u);
  EXPECT_EQ(jwks[0].at("alg"), "ES256");
  EXPECT_EQ(jwks[1].at("alg"), "RS256");
}

TEST_F(signing_keys, keys_rotate_refuses_a_key_it_does_not_keep) {
  std::string out;
  EXPECT_EQ(rotate(out, {{"JWT_PRIVATE_KEY", test_jwt_private_key}}), 2) << out;
  EXPECT_NE(out.find("JWT_PRIVATE_KEY: "), std::string::npos) << out;
  EXPECT_EQ(out.find(test_jwt_private_key.substr(28, 64)), std::string::npos) << out;
  EXPECT_EQ(rotate(out, {{"JWT_ALG", "HS256"}}), 2) << out;
  EXPECT_NE(out.find("JWT_ALG: "), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(data_dir() / "jwt-key.pem")) << "nothing was written";
}

TEST_F(signing_keys, a_key_file_signs_and_a_broken_one_stops_the_start_without_showing_it) {
  const fs::path file = dir_.path() / "signing.pem";
  {
    std::ofstream(file) << test_jwt_private_key;
  }
  {
    gatehouse_process server(with({{"JWT_PRIVATE_KEY_FILE", file.string()}}));
    http_client c(server.port());
    const std::string token = sign_up_and_log_in(c, "file@example.com").token;
    EXPECT_EQ(published_kids(c), std::vector<std::string>{kid_of(token)});
    EXPECT_FALSE(fs::exists(data_dir() / "jwt-key.pem")) << "nothing generated beside a configured key";
  }
  const std::string broken = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGJ1dCBhIHNlY3JldCBsaW5l\n-----END PRIVATE KEY-----\n";
  {
    std::ofstream(file, std::ios::trunc) << broken;
  }
  env_map env = with({{"JWT_PRIVATE_KEY_FILE", file.string()}, {"SERVER_SECRET", test_server_secret}});
  env.erase("JWT_PRIVATE_KEY");
  std::string out;
  EXPECT_EQ(run_gatehouse(env, {"serve"}, out), 2) << out;
  EXPECT_NE(out.find("JWT_PRIVATE_KEY_FILE: " + file.string()), std::string::npos) << out;
  EXPECT_EQ(out.find("bm90IGEga2V5"), std::string::npos) << out;
}

// v1 kept an HS256 secret in DATA_DIR/jwt-secret. After the upgrade (RS256
// by default) that secret still verifies v1's tokens, is never published,
// and retires at the first rotation.
TEST_F(signing_keys, after_an_upgrade_v1s_secret_verifies_its_tokens_until_the_first_rotation) {
  fs::create_directories(data_dir());
  const std::string v1_secret = "v1-secret-made-by-an-earlier-version-0123456789";
  {
    std::ofstream(data_dir() / "jwt-secret") << v1_secret << "\n";
  }
  std::string user_id, email = "v1@example.com";
  {
    gatehouse_process server(env_);
    http_client c(server.port());
    user_id = sign_up_and_log_in(c, email).user_id;
  }
  const std::int64_t now = std::time(nullptr);
  const json::object claims{{"sub", user_id}, {"userId", user_id}, {"email", email}, {"iat", now - 60},
                            {"exp", now + 600}, {"iss", env_.at("JWT_ISSUER")}};
  const std::string input = crypto::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                            crypto::base64url_encode(json::serialize(claims));
  const std::string v1_token =
      input + "." + crypto::base64url_encode(crypto::as_bytes(crypto::hmac_sha256(v1_secret, input)));
  const std::string stranger =
      input + "." + crypto::base64url_encode(crypto::as_bytes(crypto::hmac_sha256(v1_secret + "x", input)));
  {
    gatehouse_process server(env_);
    http_client c(server.port());
    EXPECT_EQ(me_status(c, v1_token), 200) << server.log_text();
    EXPECT_EQ(me_status(c, stranger), 401);
    EXPECT_EQ(part_of(log_in(c, email), 0).at("alg"), "RS256") << "nothing new is signed with the v1 secret";
    const std::string jwks = c.get("/.well-known/jwks.json").body;
    EXPECT_EQ(json::parse(jwks).at("keys").as_array().size(), 1u);
    EXPECT_EQ(jwks.find("oct"), std::string::npos);
  }
  std::string out;
  ASSERT_EQ(rotate(out), 0) << out;
  EXPECT_FALSE(fs::exists(data_dir() / "jwt-secret"));
  gatehouse_process server(env_);
  http_client c(server.port());
  EXPECT_EQ(me_status(c, v1_token), 401);
}

}  // namespace
}  // namespace gatehouse::testing
