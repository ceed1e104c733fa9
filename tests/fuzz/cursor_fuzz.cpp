// The paging cursors of both stores (SQLite's "v1:<row id>", DynamoDB's
// "d1:<userId>"). A decoded cursor must re-encode to the same text: each
// position has exactly one cursor.
#include "base/error.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "sqlite/sqlite_user_store.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  const std::string_view cursor(reinterpret_cast<const char*>(data), size);
  try {
    const auto row_id = sqlite::decode_cursor(cursor);
    if (sqlite::encode_cursor(row_id) != cursor) std::abort();
  } catch (const error&) {
  }
  try {
    const auto user_id = dynamodb::decode_cursor(cursor);
    if (dynamodb::encode_cursor(user_id) != cursor) std::abort();
  } catch (const error&) {
  }
  return 0;
}
