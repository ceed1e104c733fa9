// Gatehouse's TOTP against an independent implementation, the `otpauth` npm
// package (tests/peers/totp-check.mjs): the same codes for the same secrets
// and times, the same verdict on drift, and otpauth reads Gatehouse's
// otpauth:// URIs back to the secret, issuer, label, digits and period they
// were made from, as an authenticator app would from the QR code.
#include "mfa/base32.hpp"
#include "mfa/otpauth_uri.hpp"
#include "mfa/totp.hpp"
#include "support/node_json_check.hpp"

#include "base/clock.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::mfa {
namespace {

namespace json = boost::json;

json::object ask_otpauth(const json::object& request) {
  return gatehouse::testing::ask_node_script("totp-check.mjs", request);
}

std::vector<std::string> secrets() {
  std::vector<std::string> out{"12345678901234567890", std::string(20, '\0'), std::string(20, '\xff')};
  for (int i = 0; i < 5; ++i) out.push_back(new_totp_secret());
  return out;
}

const std::vector<std::int64_t> times = {0, 29, 30, 59, 1111111109, 1234567890, 2000000000, 20000000000};

TEST(mfa_totp_crosscheck, otpauth_generates_the_same_codes) {
  struct item {
    std::string secret;
    std::int64_t time;
    int digits;
  };
  std::vector<item> items;
  for (const auto& secret : secrets()) {
    for (const auto t : times) items.push_back({secret, t, 6});
    items.push_back({secret, system_now_seconds(), 6});
    items.push_back({secret, 1111111111, 8});
  }
  json::array request;
  for (const auto& i : items)
    request.push_back(json::object{{"secret", base32_encode(i.secret)}, {"timestamp_ms", i.time * 1000}, {"digits", i.digits}});
  const json::object answer = ask_otpauth(json::object{{"generate", std::move(request)}});
  const json::array& codes = answer.at("generate").as_array();
  ASSERT_EQ(codes.size(), items.size());
  for (std::size_t k = 0; k < items.size(); ++k) {
    const auto step = totp_step_at(items[k].time).value();
    const std::string ours = items[k].digits == totp_digits ? totp_code(items[k].secret, step)
                                                           : totp_code(items[k].secret, step, items[k].digits);
    EXPECT_EQ(ours, codes[k].as_string()) << "secret " << crypto::to_hex(items[k].secret) << " at " << items[k].time;
  }
}

TEST(mfa_totp_crosscheck, otpauth_agrees_on_drift_one_step_either_side) {
  const std::string secret = new_totp_secret();
  const std::int64_t now = system_now_seconds();
  const std::int64_t now_step = totp_step_at(now).value();
  const std::vector<std::int64_t> drifts = {-2, -1, 0, 1, 2};
  json::array request;
  for (const auto d : drifts)
    request.push_back(json::object{{"secret", base32_encode(secret)}, {"token", totp_code(secret, now_step + d)},
                                   {"timestamp_ms", now * 1000}, {"window", totp_drift_steps}});
  const json::object answer = ask_otpauth(json::object{{"validate", std::move(request)}});
  const json::array& deltas = answer.at("validate").as_array();
  ASSERT_EQ(deltas.size(), drifts.size());
  for (std::size_t k = 0; k < drifts.size(); ++k) {
    const auto verdict = check_totp(secret, totp_code(secret, now_step + drifts[k]), now, std::nullopt);
    if (verdict.accepted()) {
      ASSERT_TRUE(deltas[k].is_int64()) << drifts[k] << ": otpauth says " << json::serialize(deltas[k]);
      EXPECT_EQ(verdict.step - now_step, deltas[k].as_int64()) << drifts[k];
    } else {
      EXPECT_TRUE(deltas[k].is_null()) << drifts[k] << ": otpauth says " << json::serialize(deltas[k]);
    }
  }
}

TEST(mfa_totp_crosscheck, otpauth_reads_gatehouses_uris_back) {
  struct account {
    std::string issuer, name;
  };
  const std::vector<account> accounts = {
      {"Gatehouse", "ada@example.com"},
      {"ACME Co", "ada+mfa@example.com"},
      {"Z\xC3\xBCrich Bank \xE2\x9C\x93", "Alice Smith"},  // Zürich Bank ✓
      {"A&B=C?D#E/F%20", "x:y@example.com"},              // delimiters, and a colon after the issuer's
      {"\xE6\x97\xA5\xE6\x9C\xAC", "\xD0\xB0\xD0\xB4\xD0\xB0@example.com"},  // 日本, ада@
  };
  std::vector<std::string> used_secrets;
  json::array uris;
  for (const auto& a : accounts) {
    used_secrets.push_back(new_totp_secret());
    uris.push_back(json::value(otpauth_uri(a.issuer, a.name, used_secrets.back())));
  }
  const json::object answer = ask_otpauth(json::object{{"parse", uris}});
  const json::array& parsed = answer.at("parse").as_array();
  ASSERT_EQ(parsed.size(), accounts.size());
  for (std::size_t k = 0; k < accounts.size(); ++k) {
    SCOPED_TRACE(std::string(uris[k].as_string()));
    const json::object& p = parsed[k].as_object();
    ASSERT_TRUE(p.at("ok").as_bool()) << json::serialize(p);
    EXPECT_EQ(p.at("type").as_string(), "totp");
    EXPECT_EQ(p.at("secret").as_string(), base32_encode(used_secrets[k]));
    EXPECT_EQ(p.at("issuer").as_string(), accounts[k].issuer);
    EXPECT_EQ(p.at("label").as_string(), accounts[k].name);
    EXPECT_TRUE(p.at("issuerInLabel").as_bool());
    EXPECT_EQ(p.at("algorithm").as_string(), "SHA1");
    EXPECT_EQ(p.at("digits").as_int64(), totp_digits);
    EXPECT_EQ(p.at("period").as_int64(), totp_period_seconds);
  }
}

}  // namespace
}  // namespace gatehouse::mfa
