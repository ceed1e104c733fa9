#pragma once
// Refresh tokens in DynamoDB: one table (REFRESH_TOKENS_TABLE, default
// <USERS_TABLE>-tokens), partition key `id` (S), two kinds of item:
//
//   id "token#<sha256 hex>": familyId, userId, expiresAt (N),
//                            usedAt (N, once rotated), successorHash (S, with usedAt)
//   id "family#<familyId>":  familyId, userId, createdAt (N), createdAtMs (N),
//                            expiresAt (N), revokedAt (N, once revoked),
//                            sessionUserId (S, the userId until revoked)
//
// A user's sessions are listed with a Query on the sparse global secondary
// index `user-sessions` (hash sessionUserId, range createdAtMs, projection
// ALL), never a Scan: only family items carry sessionUserId, and revoking
// removes it, so the index holds the sessions not revoked and nothing
// else. The index is eventually consistent: a session created or revoked
// a moment ago may be missing or still listed (the cap on sessions per
// user is then enforced by the next login). Families written before the
// index existed carry no sessionUserId: they are never listed, and end
// by themselves within REFRESH_TOKEN_TTL.
//
// Times are unix seconds. `expiresAt` is the table's TTL attribute: clean-up
// only, since TTL deletes items up to days late; expiry is decided on read.
// A token's plaintext is never written, only its hash (in the key).
//
// Rotation without transactions (dynalite and other engines lack them):
//   1. UpdateItem family SET expiresAt (if later), so a family always
//      outlives its tokens;
//   2. PutItem successor, condition attribute_not_exists(id) (a successor
//      is deterministic: if it is there, it is this one);
//   3. UpdateItem token SET usedAt, successorHash, condition
//      attribute_exists(id) AND attribute_not_exists(usedAt): exactly one
//      concurrent rotation wins.
// A failure after 2 leaves an unused token whose successor exists; nothing
// a client holds. A failure after 3 leaves nothing to repair.
#include "auth/token_store.hpp"
#include "dynamodb/dynamodb_client.hpp"

#include <string>

namespace gatehouse::dynamodb {

class dynamodb_token_store final : public auth::refresh_token_store {
 public:
  // The TTL attribute, for the table's TimeToLiveSpecification.
  static constexpr const char* ttl_attribute = "expiresAt";
  // The sparse index of live sessions by user, and its key attributes.
  static constexpr const char* sessions_index = "user-sessions";
  static constexpr const char* sessions_hash_attribute = "sessionUserId";
  static constexpr const char* sessions_range_attribute = "createdAtMs";

  dynamodb_token_store(dynamodb_client& client, std::string table);

  void create_family(const auth::token_family& family, const auth::refresh_token_record& first) override;
  std::optional<auth::refresh_token_record> find_token(std::string_view token_hash) override;
  std::optional<auth::token_family> find_family(std::string_view family_id) override;
  [[nodiscard]] bool rotate(std::string_view token_hash, std::int64_t used_at,
                            const auth::refresh_token_record& successor) override;
  void put_token_if_absent(const auth::refresh_token_record& record) override;
  void revoke_family(std::string_view family_id, std::int64_t revoked_at) override;
  std::vector<auth::token_family> list_families(std::string_view user_id) override;

 private:
  std::optional<boost::json::object> get(const std::string& id);
  // PutItem with attribute_not_exists(id); false when the item exists.
  bool put_new(const boost::json::object& item);
  // put_new, also true when the item there is exactly `item`: a retried
  // PutItem (the first attempt applied, its answer lost) meeting its own write.
  bool put_new_or_own(const boost::json::object& item);
  void extend_family(const std::string& family_id, std::int64_t expires_at);

  dynamodb_client& client_;
  std::string table_;
};

}  // namespace gatehouse::dynamodb
