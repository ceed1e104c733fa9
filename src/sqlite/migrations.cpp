#include "sqlite/migrations.hpp"

namespace gatehouse::sqlite {

const std::vector<std::string_view>& migrations() {
  // Each entry runs in one transaction together with its user_version bump.
  // To change the schema, append a new entry at the end of this list.
  static const std::vector<std::string_view> list = {
      // 1: users. `id` orders the keyset paging of GET /users; the UNIQUE
      // on email is what makes concurrent sign-ups of one address safe.
      R"sql(
        CREATE TABLE users (
          id                INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id           TEXT NOT NULL UNIQUE,
          name              TEXT NOT NULL,
          email             TEXT NOT NULL UNIQUE,
          password_hash     TEXT NOT NULL,
          profile_image_key TEXT,
          created_at        TEXT NOT NULL
        );
      )sql",
  };
  return list;
}

}  // namespace gatehouse::sqlite
