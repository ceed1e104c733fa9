#pragma once
// What `gatehouse users delete` asks of a user store beyond
// users::user_store: deleting every refresh token the user holds. Operator
// tooling, never on a request path: implementations (sqlite_user_admin,
// dynamodb_user_admin) live in files of their own, so the Lambda's IAM
// grants, derived from the request-path files, never include scanning the
// tokens table. (Deleting the record itself is users::user_store::remove,
// which DELETE /users/me uses too.)
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

  // Revokes every refresh-token family of `user_id`, deletes every token
  // stored for the user, then the families (a token never outlives its
  // family), reading the store page by page. `progress`, when set, gets
  // the running totals after each page. What is already gone is fine.
  virtual token_sweep delete_refresh_tokens(std::string_view user_id,
                                            const std::function<void(const token_sweep&)>& progress = {}) = 0;
};

}  // namespace gatehouse::users
