#include "sqlite/sqlite_user_admin.hpp"

#include <sqlite3.h>

namespace gatehouse::sqlite {

sqlite_user_admin::sqlite_user_admin(std::shared_ptr<database> db) : db_(std::move(db)) {}

users::token_sweep sqlite_user_admin::delete_refresh_tokens(
    std::string_view user_id, const std::function<void(const users::token_sweep&)>& progress) {
  users::token_sweep swept;
  auto conn = db_->acquire();
  write_transaction tx(*conn);
  {
    // Tokens first and by user id (a token's user_id is its family's), then
    // the families; ON DELETE CASCADE would take any token left in them.
    auto st = conn->prepare("DELETE FROM refresh_tokens WHERE user_id = ?");
    st.bind(1, user_id);
    st.step();
    swept.tokens = static_cast<std::size_t>(sqlite3_changes(conn->handle()));
  }
  {
    auto st = conn->prepare("DELETE FROM token_families WHERE user_id = ?");
    st.bind(1, user_id);
    st.step();
    swept.families = static_cast<std::size_t>(sqlite3_changes(conn->handle()));
  }
  tx.commit();
  if (progress) progress(swept);
  return swept;
}

}  // namespace gatehouse::sqlite
