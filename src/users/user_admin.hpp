#pragma once
// What `gatehouse users delete` asks of a user store beyond
// users::user_store: deleting a user's record (with, on DynamoDB, its
// e-mail claim) and every refresh token the user holds. Operator tooling,
// never on a request path: implementations (sqlite_user_admin,
// dynamodb_user_admin) live in files of their own, so the Lambda's IAM
// grants, derived from the request-path files, never include deleting
// users or scanning the tokens table.
#include <cstddef>
#include <functional>
#include <string_view>

namespace gatehouse::users {

// What a sweep of a user's refresh tokens removed.
struct token_sweep {
  std::size_t families = 0;  // token families (logins) revoked and deleted
  std::size_t tokens = 0;    // refresh tokens deleted
};

class user_admin {
 public:
  virtual ~user_admin() = default;

  // Deletes the record of `user_id`; where the store keeps e-mail claims
  // apart (DynamoDB), then the claim on `email` (normalised), but only
  // while it still names `user_id`: a sign-up that took the address over
  // keeps it. True when there was a record to delete.
  virtual bool delete_user(std::string_view user_id, std::string_view email) = 0;

  // Revokes every refresh-token family of `user_id`, deletes every token
  // stored for the user, then the families (a token never outlives its
  // family), reading the store page by page. `progress`, when set, gets
  // the running totals after each page. What is already gone is fine.
  virtual token_sweep delete_refresh_tokens(std::string_view user_id,
                                            const std::function<void(const token_sweep&)>& progress = {}) = 0;
};

}  // namespace gatehouse::users
