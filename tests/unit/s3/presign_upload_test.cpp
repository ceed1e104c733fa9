// The S3 POST policy behind direct uploads. s3rver does not evaluate
// policies, so this is what proves the document: its exact conditions, its
// expiry, and a signature recomputed here with OpenSSL's HMAC over the
// base64 policy, using the SigV4 key chain built independently.
#include "aws/credential_providers.hpp"
#include "aws/sigv4.hpp"
#include "base/error.hpp"
#include "s3/s3_object_store.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

namespace gatehouse::s3 {
namespace {

constexpr std::int64_t now = 1764345600;  // 2025-11-28T16:00:00Z
const std::string key = "profile-images/7f0c2a4e-1b3d-4c5e-8f60-718293a4b5c6/0123456789abcdef0123456789abcdef";
const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string hmac(const std::string& k, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return "<not base64>";
  // EVP_DecodeBlock counts each '=' of padding as a zero byte.
  std::size_t padding = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && padding < 2; ++it) ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

// SigV4's key chain: HMAC("AWS4" + secret, date), then region, service, "aws4_request".
std::string signing_key_here(const std::string& date, const std::string& region) {
  return hmac(hmac(hmac(hmac("AWS4" + secret, date), region), "s3"), "aws4_request");
}

using field_list = std::vector<std::pair<std::string, std::string>>;

class presign_upload_test : public ::testing::Test {
 protected:
  images::upload_form presign(aws::credentials creds, const std::string& endpoint_url = "",
                              const std::string& sse = "AES256", std::size_t max_bytes = 5 * 1024 * 1024,
                              std::int64_t expires = 300) {
    provider_ = std::make_unique<aws::static_credentials>(std::move(creds));
    client_ = std::make_unique<aws::aws_client>(http_, *provider_, aws::retry_policy{}, [] { return now; });
    bucket_settings b;
    b.bucket = "gatehouse-images";
    b.region = "eu-west-2";
    b.service_endpoint =
        endpoint_url.empty() ? aws::regional_endpoint("s3", "eu-west-2") : *aws::parse_endpoint(endpoint_url);
    b.server_side_encryption = sse;
    store_ = std::make_unique<s3_object_store>(*client_, b, [] { return now; });
    return store_->presign_upload(key, max_bytes, expires);
  }

  static std::string field(const images::upload_form& f, const std::string& name) {
    for (const auto& [n, v] : f.fields)
      if (n == name) return v;
    return "<absent>";
  }

  aws::http_client http_;
  std::unique_ptr<aws::credentials_provider> provider_;
  std::unique_ptr<aws::aws_client> client_;
  std::unique_ptr<s3_object_store> store_;
};

const aws::credentials long_term{"AKIDEXAMPLE", secret, "", std::nullopt};

TEST(sigv4_signing_key, matches_the_aws_documented_derivation_example) {
  // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
  EXPECT_EQ(hex(aws::sigv4::signing_key(secret, "20120215", {"us-east-1", "iam"})),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST_F(presign_upload_test, policy_document_has_exactly_the_required_conditions_and_a_five_minute_expiry) {
  const auto form = presign(long_term);
  const auto policy = boost::json::parse(base64_decode(field(form, "policy")));
  const auto expected = boost::json::parse(R"({
    "expiration": "2025-11-28T16:05:00.000Z",
    "conditions": [
      {"bucket": "gatehouse-images"},
      ["eq", "$key", ")" + key + R"("],
      ["content-length-range", 1, 5242880],
      ["starts-with", "$Content-Type", "image/"],
      {"x-amz-server-side-encryption": "AES256"},
      {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
      {"x-amz-credential": "AKIDEXAMPLE/20251128/eu-west-2/s3/aws4_request"},
      {"x-amz-date": "20251128T160000Z"}
    ]})");
  EXPECT_EQ(policy, expected) << boost::json::serialize(policy);
  EXPECT_EQ(form.expires_at, now + 300);
}

TEST_F(presign_upload_test, fields_come_in_order_and_carry_the_values_the_policy_names) {
  const auto form = presign(long_term);
  std::vector<std::string> names;
  for (const auto& [n, v] : form.fields) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"key", "x-amz-server-side-encryption", "x-amz-algorithm",
                                             "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"}));
  EXPECT_EQ(field(form, "key"), key);
  EXPECT_EQ(field(form, "x-amz-server-side-encryption"), "AES256");
  EXPECT_EQ(field(form, "x-amz-algorithm"), "AWS4-HMAC-SHA256");
  EXPECT_EQ(field(form, "x-amz-credential"), "AKIDEXAMPLE/20251128/eu-west-2/s3/aws4_request");
  EXPECT_EQ(field(form, "x-amz-date"), "20251128T160000Z");
  // Virtual-hosted on AWS.
  EXPECT_EQ(form.url, "https://gatehouse-images.s3.eu-west-2.amazonaws.com/");
}

TEST_F(presign_upload_test, signature_is_hmac_of_the_base64_policy_under_the_sigv4_signing_key) {
  const auto form = presign(long_term);
  const std::string policy = field(form, "policy");
  EXPECT_EQ(field(form, "x-amz-signature"), hex(hmac(signing_key_here("20251128", "eu-west-2"), policy)));
  // And not under another day's or region's key.
  EXPECT_NE(field(form, "x-amz-signature"), hex(hmac(signing_key_here("20251127", "eu-west-2"), policy)));
  EXPECT_NE(field(form, "x-amz-signature"), hex(hmac(signing_key_here("20251128", "us-east-1"), policy)));
}

TEST_F(presign_upload_test, temporary_credentials_add_the_security_token_as_field_and_condition) {
  const auto form = presign({"ASIATEMPORARY", secret, "session/token+with=odd chars", now + 3600});
  EXPECT_EQ(field(form, "x-amz-security-token"), "session/token+with=odd chars");
  const auto policy = boost::json::parse(base64_decode(field(form, "policy")));
  const auto& conditions = policy.at("conditions").as_array();
  ASSERT_EQ(conditions.size(), 9u);
  EXPECT_EQ(conditions.back(), boost::json::parse(R"({"x-amz-security-token": "session/token+with=odd chars"})"));
  EXPECT_EQ(conditions.at(6), boost::json::parse(R"({"x-amz-credential": "ASIATEMPORARY/20251128/eu-west-2/s3/aws4_request"})"));
  EXPECT_EQ(field(form, "x-amz-signature"), hex(hmac(signing_key_here("20251128", "eu-west-2"), field(form, "policy"))));
}

TEST_F(presign_upload_test, custom_endpoint_is_path_style_and_max_bytes_and_expiry_follow_the_arguments) {
  const auto form = presign(long_term, "http://127.0.0.1:4569/base", "AES256", 65536, 60);
  EXPECT_EQ(form.url, "http://127.0.0.1:4569/base/gatehouse-images");
  const auto policy = boost::json::parse(base64_decode(field(form, "policy")));
  EXPECT_EQ(policy.at("expiration"), boost::json::value("2025-11-28T16:01:00.000Z"));
  EXPECT_EQ(policy.at("conditions").at(2), boost::json::parse(R"(["content-length-range", 1, 65536])"));
}

TEST_F(presign_upload_test, no_encryption_setting_means_no_encryption_field_or_condition) {
  const auto form = presign(long_term, "", "");
  EXPECT_EQ(field(form, "x-amz-server-side-encryption"), "<absent>");
  const auto policy = boost::json::parse(base64_decode(field(form, "policy")));
  for (const auto& c : policy.at("conditions").as_array())
    EXPECT_FALSE(c.is_object() && c.as_object().contains("x-amz-server-side-encryption")) << boost::json::serialize(c);
}

TEST_F(presign_upload_test, unusable_requests_are_bugs_not_forms) {
  for (auto [max_bytes, expires] : {std::pair<std::size_t, std::int64_t>{0, 300}, {1024, 0}, {1024, 7 * 24 * 3600 + 1}}) {
    try {
      (void)presign(long_term, "", "AES256", max_bytes, expires);
      ADD_FAILURE() << max_bytes << " " << expires;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::internal);
    }
  }
}

}  // namespace
}  // namespace gatehouse::s3
