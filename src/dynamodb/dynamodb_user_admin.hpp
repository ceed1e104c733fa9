#pragma once
// users::user_admin over the DynamoDB tables, for `gatehouse users delete`
// (run with an operator's credentials: it deletes users and e-mail claims
// and scans the refresh tokens table, none of which the Lambda's role may).
//
// The tokens table (dynamodb_token_store.hpp) is keyed by token hash and
// family id only, with no index by user: a user's tokens are found by a
// Scan filtered on userId, page by page. That is an operator's cost, paid
// so the request path (and its IAM grants) need no index.
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "users/user_admin.hpp"

namespace gatehouse::dynamodb {

class dynamodb_user_admin final : public users::user_admin {
 public:
  // Scans read `scan_page` items per request (bounded responses, progress between pages).
  dynamodb_user_admin(dynamodb_client& client, user_tables tables, std::function<std::int64_t()> now_seconds,
                      std::size_t scan_page = 500);

  // DeleteItem on the user, then on the claim conditioned on its userId.
  // Each family is revoked as the scan meets it and each token deleted;
  // the families are deleted once the scan is done. A sweep that stops
  // halfway leaves only revoked families and tokens nobody can use.
  users::token_sweep delete_refresh_tokens(std::string_view user_id,
                                           const std::function<void(const users::token_sweep&)>& progress) override;

 private:
  boost::json::object call(std::string_view operation, const std::string& table, const boost::json::object& request);

  dynamodb_client& client_;
  user_tables tables_;
  std::function<std::int64_t()> now_seconds_;
  std::int64_t scan_page_;
};

}  // namespace gatehouse::dynamodb
