#pragma once
// users::user_store over the embedded SQLite database (migration 1).
#include "sqlite/database.hpp"
#include "users/user_store.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::sqlite {

class sqlite_user_store final : public users::user_store {
 public:
  // The largest page one list() call returns, whatever `limit` asks for.
  static constexpr std::size_t max_page_size = 1000;

  // `db` must have been migrated.
  explicit sqlite_user_store(std::shared_ptr<database> db);

  [[nodiscard]] bool create(const users::user& u) override;
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
  std::shared_ptr<database> db_;
};

// The opaque paging cursor: base64url("v1:<row id>"). Exposed for tests.
std::string encode_cursor(std::int64_t row_id);
// Strict inverse of encode_cursor; anything else throws validation_failed("cursor").
std::int64_t decode_cursor(std::string_view cursor);

}  // namespace gatehouse::sqlite
