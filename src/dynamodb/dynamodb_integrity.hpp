#pragma once
// users::user_integrity over the DynamoDB tables, for `gatehouse doctor`
// (run with an operator's credentials: it scans both tables and deletes and
// writes e-mail claims, which the Lambda's role may not).
//
// What the sign-up scheme (dynamodb_user_store.hpp) can leave behind when a
// process dies between its steps, and what --repair does about it:
//   - a claim whose user was never written (died between steps 1 and 2):
//     stale once older than the grace; deleted, conditioned on the claim
//     being still that one (userId and claimedAt), so a takeover is kept;
//   - a user without its claim (written by other means, or a claim deleted
//     by hand): the claim is written back, conditioned on nobody holding
//     the e-mail, and only when no other user has that e-mail;
//   - users sharing an e-mail, a claim naming a user with another e-mail,
//     a user item lacking a required attribute: reported, never resolved.
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "users/integrity.hpp"

#include <functional>

namespace gatehouse::dynamodb {

class dynamodb_integrity final : public users::user_integrity {
 public:
  // Scans read `scan_page` items per request (bounded responses, progress between pages).
  dynamodb_integrity(dynamodb_client& client, user_tables tables, std::function<std::int64_t()> now_seconds,
                     std::size_t scan_page = 500);

  // DescribeTable on each configured table.
  bool check_storage(users::integrity_report& report) override;
  void check_records(const users::integrity_options& options, users::integrity_report& report) override;
  void for_each_user(const std::function<void(const users::user_image_ref&)>& visit) override;
  std::optional<std::optional<std::string>> current_image(std::string_view user_id) override;
  bool clear_profile_image_if(std::string_view user_id, std::string_view stored) override;

 private:
  dynamodb_client& client_;
  user_tables tables_;
  std::function<std::int64_t()> now_seconds_;
  std::int64_t scan_page_;
};

}  // namespace gatehouse::dynamodb
