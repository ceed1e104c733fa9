#pragma once
// users::user_admin over the embedded SQLite database, for `gatehouse
// users delete`. The e-mail is a column of the users row (its UNIQUE index
// is the claim), so deleting the row frees the address at once.
#include "sqlite/database.hpp"
#include "users/user_admin.hpp"

#include <memory>

namespace gatehouse::sqlite {

class sqlite_user_admin final : public users::user_admin {
 public:
  explicit sqlite_user_admin(std::shared_ptr<database> db);

  // One transaction: the families and tokens go together, so nothing is
  // left half-revoked and there is nothing to revoke first.
  users::token_sweep delete_refresh_tokens(std::string_view user_id,
                                           const std::function<void(const users::token_sweep&)>& progress) override;

 private:
  std::shared_ptr<database> db_;
};

}  // namespace gatehouse::sqlite
