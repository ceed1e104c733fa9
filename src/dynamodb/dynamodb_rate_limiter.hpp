#pragma once
// Rate-limit counters in DynamoDB: one table (RATE_LIMITS_TABLE, default
// <USERS_TABLE>-limits), partition key `id` (S), one item per key and
// fixed window:
//
//   id "<hashed key>#<window start>": count (N), expiresAt (N, the window's end)
//
// A hit is one UpdateItem, `ADD #count :one SET #x = if_not_exists(#x, :end)`
// with ReturnValues UPDATED_NEW: DynamoDB applies concurrent ADDs one at a
// time, so each caller, in any process or Lambda instance, sees its own
// count. The window is in the key, so a new window starts from zero by
// itself; `expiresAt` is the table's TTL attribute, clean-up only. A retried
// hit whose first attempt did land counts twice: rare, and on the side of
// the limit. undo and reset are UpdateItems too (conditional, so neither
// creates an item), which keeps the role's grant to UpdateItem alone.
#include "auth/rate_limiter.hpp"
#include "dynamodb/dynamodb_client.hpp"

#include <string>

namespace gatehouse::dynamodb {

class dynamodb_rate_limiter final : public auth::rate_limiter {
 public:
  // The TTL attribute, for the table's TimeToLiveSpecification.
  static constexpr const char* ttl_attribute = "expiresAt";

  dynamodb_rate_limiter(dynamodb_client& client, std::string table);

  auth::hit_result hit(std::string_view key, const auth::rate_limit& limit, std::int64_t now) override;
  void undo(std::string_view key, std::int64_t window_start) override;
  void reset(std::string_view key, std::int64_t window_start) override;

 private:
  // UpdateItem on `id`; a failed condition is nothing to report.
  void conditional_update(const std::string& id, boost::json::object fields);

  dynamodb_client& client_;
  std::string table_;
};

}  // namespace gatehouse::dynamodb
