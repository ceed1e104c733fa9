#pragma once
// idempotency::idempotency_store in DynamoDB: one table
// (IDEMPOTENCY_TABLE, default <USERS_TABLE>-idempotency), partition key
// `id` (S), one item per record:
//
//   id: fingerprint, holder, state (S), leaseUntil (N), expiresAt (N, TTL), answer (S)
//
// Every step is one conditional PutItem or UpdateItem, so concurrent
// attempts from any Lambda instance agree on who holds a record. The TTL
// is clean-up only (DynamoDB deletes late): expiry is judged on every read
// and in every condition.
#include "dynamodb/dynamodb_client.hpp"
#include "idempotency/idempotency_store.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace gatehouse::dynamodb {

class dynamodb_idempotency_store final : public idempotency::idempotency_store {
 public:
  // The TTL attribute, for the table's TimeToLiveSpecification.
  static constexpr const char* ttl_attribute = "expiresAt";

  dynamodb_idempotency_store(dynamodb_client& client, std::string table);

  bool insert(const idempotency::record& r, std::int64_t now) override;
  std::optional<idempotency::record> find(std::string_view id) override;
  bool take_over(std::string_view id, std::string_view fingerprint, std::string_view holder, std::int64_t now,
                 std::int64_t lease_until) override;
  void settle(std::string_view id, std::string_view answer) override;
  void release(std::string_view id) override;

 private:
  // UpdateItem on `id`; whether its condition held.
  bool conditional_update(std::string_view id, boost::json::object fields);

  dynamodb_client& client_;
  std::string table_;
};

}  // namespace gatehouse::dynamodb
