// Account enumeration through POST /login: a client must not learn
// whether an e-mail has an account, neither from the answer nor from its
// time. An unknown e-mail costs a bcrypt verify against a dummy hash of
// the server's own cost (auth::password_hasher::verify_dummy), so it should
// take as long as a known e-mail with a wrong password.
//
// The timing comparison is statistical, never against a fixed duration:
// the two cases and a second run of the first (its noise floor) are
// interleaved, so a machine that slows down slows all three alike.
//
// Not covered on purpose: POST /signup answers 409 email_taken for a taken
// e-mail. That is part of the API contract (API.md); its mitigation is the
// per-IP sign-up limit (RATE_LIMIT_SIGNUP_PER_IP), tested in rate_limit_test.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/operator_commands.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::testing {
namespace {
namespace json = boost::json;

// A realistic cost: at the suite's default of 4 a bcrypt takes about a
// millisecond and would hide in the noise of the HTTP round trip.
constexpr const char* bcrypt_cost = "10";
constexpr int tries = 30;
constexpr int warm_up = 5;

// The two e-mails have the same length, and both cases send the same
// wrong password: the requests differ in nothing but the account.
const std::string known_email = "known-user@example.com";
const std::string unknown_email = "ghost-user@example.com";
const std::string right_password = "the right password";
const std::string wrong_password = "not the password!!";

http_result log_in(http_client& c, const std::string& email) {
  return c.post_json("/login", json::serialize(json::object{{"email", email}, {"password", wrong_password}}));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Headers whose values differ between any two responses.
bool per_response(const std::string& name) { return name == "x-request-id" || name == "date"; }

class enumeration : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<gatehouse_process>(std::map<std::string, std::string>{{"BCRYPT_COST", bcrypt_cost}});
    client_ = std::make_unique<http_client>(server_->port());
    sign_up_and_log_in(*client_, known_email, right_password);
  }

  // One timed login; every one must be the same 401.
  double timed_login(const std::string& email, http_result& out) {
    const auto start = std::chrono::steady_clock::now();
    out = log_in(*client_, email);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(out.status, 401) << email << ": " << out.body;
    EXPECT_EQ(error_code_of(out), "invalid_credentials") << email;
    return took.count();
  }

  std::unique_ptr<gatehouse_process> server_;
  std::unique_ptr<http_client> client_;
};

TEST_F(enumeration, unknown_email_and_wrong_password_get_byte_identical_401s) {
  const auto unknown = log_in(*client_, unknown_email);
  const auto wrong = log_in(*client_, known_email);
  ASSERT_EQ(unknown.status, 401) << unknown.body;
  EXPECT_EQ(error_code_of(unknown), "invalid_credentials");
  EXPECT_EQ(wrong.status, unknown.status);
  EXPECT_EQ(wrong.body, unknown.body);
  std::set<std::string> unknown_names, wrong_names;
  for (const auto& [name, value] : unknown.headers) unknown_names.insert(name);
  for (const auto& [name, value] : wrong.headers) wrong_names.insert(name);
  EXPECT_EQ(wrong_names, unknown_names);
  for (const auto& [name, value] : unknown.headers) {
    if (per_response(name)) continue;
    EXPECT_EQ(wrong.header(name), value) << "header " << name;
  }
  // Nothing in the answer names the e-mail either.
  EXPECT_EQ(unknown.body.find("ghost"), std::string::npos) << unknown.body;
  EXPECT_EQ(wrong.body.find("known"), std::string::npos) << wrong.body;
}

TEST_F(enumeration, unknown_email_takes_as_long_as_a_wrong_password_within_the_noise) {
  http_result r;
  // The first unknown e-mail also makes the dummy hash: not part of the measurement.
  for (int i = 0; i < warm_up; ++i) {
    timed_login(unknown_email, r);
    timed_login(known_email, r);
  }

  // A = unknown e-mail, B = known e-mail with a wrong password, A2 = A
  // again. Interleaved, with the order rotating each round so no case
  // always runs first (after a pause) or last.
  std::vector<double> a, b, a2;
  const std::vector<std::pair<std::vector<double>*, const std::string*>> cases = {
      {&a, &unknown_email}, {&b, &known_email}, {&a2, &unknown_email}};
  for (int round = 0; round < tries; ++round)
    for (std::size_t k = 0; k < cases.size(); ++k) {
      const auto& [samples, email] = cases[(k + static_cast<std::size_t>(round)) % cases.size()];
      samples->push_back(timed_login(*email, r));
    }

  const double median_a = median(a), median_b = median(b), median_a2 = median(a2);
  const double noise = std::abs(median_a - median_a2);
  const double allowed = std::max({3 * noise, 0.10 * median_a, 2.0});
  std::printf("[ timing   ] BCRYPT_COST=%s, %d tries each: median unknown e-mail (A) %.2f ms, wrong password (B) "
              "%.2f ms, unknown again (A2) %.2f ms; |A-B| %.2f ms, allowed %.2f ms (noise |A-A2| %.2f ms)\n",
              bcrypt_cost, tries, median_a, median_b, median_a2, std::abs(median_a - median_b), allowed, noise);
  EXPECT_LE(std::abs(median_a - median_b), allowed)
      << "an unknown e-mail and a wrong password can be told apart by their time";
}

// A hash made at another cost (the Node.js version's, or one from before
// BCRYPT_COST changed) would verify in that cost's time, which the dummy
// verify for unknown e-mails cannot imitate. The first successful login
// replaces it; a failed one leaves it alone.
TEST(enumeration_rehash, a_login_replaces_a_hash_of_another_cost_and_a_failed_one_does_not) {
  temp_dir dir;
  const std::string data = (dir.path() / "data").string();
  const auto stored_hash = [&] {
    return run_program_checked({"sqlite3", "-batch", "-cmd", ".timeout 5000", data + "/gatehouse.db",
                                "SELECT password_hash FROM users WHERE email = '" + known_email + "';"});
  };
  {
    gatehouse_process old_server({{"DATA_DIR", data}, {"BCRYPT_COST", "4"}});
    http_client c(old_server.port());
    sign_up_and_log_in(c, known_email, right_password);
  }
  ASSERT_EQ(stored_hash().rfind("$2b$04$", 0), 0u) << stored_hash();

  gatehouse_process server({{"DATA_DIR", data}, {"BCRYPT_COST", "6"}});
  http_client c(server.port());
  EXPECT_EQ(log_in(c, known_email).status, 401);
  EXPECT_EQ(stored_hash().rfind("$2b$04$", 0), 0u) << "a wrong password changes nothing";

  const auto right = json::serialize(json::object{{"email", known_email}, {"password", right_password}});
  ASSERT_EQ(c.post_json("/login", right).status, 200);
  EXPECT_EQ(stored_hash().rfind("$2b$06$", 0), 0u) << stored_hash();
  EXPECT_EQ(c.post_json("/login", right).status, 200) << "the new hash verifies";
  EXPECT_EQ(log_in(c, known_email).status, 401);
}

}  // namespace
}  // namespace gatehouse::testing
