#include "dynamodb/email_claims.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

TEST(email_claims, the_item_has_the_shape_every_writer_used) {
  EXPECT_EQ(email_claim_item("ada@example.com", "u-1", 1795885200),
            json::parse(R"({"email":{"S":"ada@example.com"},"userId":{"S":"u-1"},"claimedAt":{"N":"1795885200"}})"));
  EXPECT_EQ(email_claim_key("ada@example.com"), json::parse(R"({"email":{"S":"ada@example.com"}})"));
}

TEST(email_claims, reads_back_what_it_writes) {
  const auto c = email_claim_of("ada@example.com", email_claim_item("ada@example.com", "u-1", 42));
  EXPECT_EQ(c.email, "ada@example.com");
  EXPECT_EQ(c.user_id, "u-1");
  EXPECT_EQ(c.claimed_at, 42);
}

TEST(email_claims, a_claim_missing_its_attributes_reads_as_nullopt) {
  const auto c = email_claim_of("ada@example.com", json::parse(R"({"email":{"S":"ada@example.com"}})").as_object());
  EXPECT_EQ(c.user_id, std::nullopt);
  EXPECT_EQ(c.claimed_at, std::nullopt);
  const auto mistyped =
      email_claim_of("x", json::parse(R"({"userId":{"N":"1"},"claimedAt":{"S":"soon"}})").as_object());
  EXPECT_EQ(mistyped.user_id, std::nullopt);
  EXPECT_EQ(mistyped.claimed_at, std::nullopt);
}

}  // namespace
}  // namespace gatehouse::dynamodb
