#pragma once
// Users in DynamoDB, in the original's item shape, with e-mail
// uniqueness kept by a second table of e-mail claims.
//
// Users table (USERS_TABLE), key `userId` (S):
//   userId, name, email, password (bcrypt hash), profile_image (object key,
//   or a full S3 URL written by the Node.js version), createdAt (ISO-8601).
// E-mail claims table (USERS_EMAIL_TABLE, default <USERS_TABLE>-emails),
// key `email` (S, trimmed and lower-cased): userId, claimedAt (unix seconds).
//
// Sign-up without transactions (dynalite and other engines lack them):
//   1. PutItem claim, condition attribute_not_exists(email). A claim that
//      exists is either live (its user exists: the e-mail is taken), in
//      progress (younger than claim_takeover_after: taken, too), or stale
//      (a crashed sign-up): then it is taken over with a PutItem
//      conditioned on the stale claim's userId.
//   2. PutItem user, condition attribute_not_exists(userId). If that fails
//      the claim is deleted (condition: still ours) and the error rethrown.
//   A retried PutItem (the first attempt's answer lost) that meets its own
//   write is a success, at either step: a claim that names this sign-up's
//   own random user id, a user record that is exactly the one being written.
//   3. The claim is read back; if a takeover won meanwhile, our user is
//      deleted and the sign-up reports the e-mail taken.
// Login reads the claim then the user (two GetItems, never a Scan); an
// unknown e-mail reads a random user id too, so it costs the same.
// An e-mail change claims the new address the same way before moving the
// user, and releases the old claim after (change_email).
// `emailVerified` (BOOL) is written once the owner follows a mailed link;
// items without it (the Node.js version's) are unverified.
#include "dynamodb/dynamodb_client.hpp"
#include "users/claim_takeover.hpp"
#include "users/user_store.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace gatehouse::dynamodb {

// The tables of the DynamoDB backend (the user store uses the first two).
struct user_tables {
  std::string users;     // USERS_TABLE
  std::string emails;    // USERS_EMAIL_TABLE
  std::string tokens{};  // REFRESH_TOKENS_TABLE (dynamodb_token_store); empty: none
  std::string limits{};  // RATE_LIMITS_TABLE (dynamodb_rate_limiter); empty: none
  std::string idempotency{};  // IDEMPOTENCY_TABLE (dynamodb_idempotency_store); empty: none
};

class dynamodb_user_store final : public users::user_store {
 public:
  dynamodb_user_store(dynamodb_client& client, user_tables tables,
                      std::function<std::int64_t()> now_seconds,
                      std::chrono::seconds claim_takeover_after = std::chrono::seconds(users::claim_takeover_seconds));

  bool create(const users::user& u) override;
  std::optional<users::user> find_by_id(std::string_view user_id) override;
  std::optional<users::user> find_by_email(std::string_view email) override;
  users::user_page list(std::size_t limit, std::optional<std::string_view> cursor) override;
  users::image_swap set_profile_image(std::string_view user_id, std::string_view key) override;
  bool replace_password_hash(std::string_view user_id, std::string_view old_hash,
                             std::string_view new_hash) override;
  bool mark_email_verified(std::string_view user_id, std::string_view email) override;
  bool rename(std::string_view user_id, std::string_view name) override;
  users::email_change change_email(std::string_view user_id, std::string_view old_email,
                                   std::string_view new_email) override;
  bool remove(std::string_view user_id, std::string_view email) override;

 private:
  enum class claim_result { claimed, taken };
  claim_result claim_email(const std::string& email, const std::string& user_id);
  void release_claim(const std::string& email, const std::string& user_id);
  std::optional<std::string> claim_owner(const std::string& email);
  std::optional<std::string> stored_email_if(std::string_view user_id, std::string_view email);
  bool holds_exactly(const users::user& u);

  dynamodb_client& client_;
  user_tables tables_;
  std::function<std::int64_t()> now_seconds_;
  std::chrono::seconds claim_takeover_after_;
};

// The opaque paging cursor: base64url("d1:<userId>"). Exposed for tests and
// the fuzz target; decode_cursor throws validation_failed("cursor") on
// anything encode_cursor could not have produced.
std::string encode_cursor(const std::string& user_id);
std::string decode_cursor(std::string_view cursor);

}  // namespace gatehouse::dynamodb
