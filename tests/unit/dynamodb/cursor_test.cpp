// The DynamoDB store's opaque paging cursor: what it returns it accepts,
// and anything else is a 400 on the `cursor` field.
#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "dynamodb/dynamodb_user_store.hpp"

#include <gtest/gtest.h>

namespace gatehouse::dynamodb {
namespace {

void expect_rejected(const std::string& cursor) {
  try {
    decode_cursor(cursor);
    ADD_FAILURE() << "accepted: " << cursor;
  } catch (const error& e) {
    EXPECT_EQ(e.kind(), error_kind::invalid_argument) << cursor;
    EXPECT_EQ(e.code(), "validation_failed") << cursor;
    EXPECT_EQ(e.field(), "cursor") << cursor;
  }
}

TEST(dynamodb_cursor, round_trips_the_user_ids_it_encodes) {
  for (const std::string id : {"7f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f", "legacy-node-id", "x"}) {
    const std::string cursor = encode_cursor(id);
    EXPECT_EQ(decode_cursor(cursor), id);
    EXPECT_EQ(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << "URL-safe: " << cursor;
  }
}

TEST(dynamodb_cursor, rejects_what_it_could_not_have_produced) {
  expect_rejected("");
  expect_rejected("!!!");
  expect_rejected(std::string(10000, 'A'));
  expect_rejected(crypto::base64url_encode("v1:7"));         // the SQLite store's cursor
  expect_rejected(crypto::base64url_encode("d1:"));          // no id
  expect_rejected(crypto::base64url_encode("d1:a b"));       // a space
  expect_rejected(crypto::base64url_encode(std::string("d1:a\0b", 6)));
  expect_rejected(encode_cursor("abc") + "=");               // padding
}

}  // namespace
}  // namespace gatehouse::dynamodb
