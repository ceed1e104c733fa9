#pragma once
// auth::refresh_token_store over the embedded SQLite database (migration 2:
// tables token_families and refresh_tokens; 4: created_at_ms and the
// (user_id, created_at_ms) index a user's sessions are listed by).
//
// Rotation is one write transaction: the conditional mark
// (UPDATE ... WHERE used_at IS NULL), the successor's insert and the
// family's new expiry commit together or not at all. SQLite has no TTL, so
// create_family and rotate also delete a small batch of expired families
// (their tokens go with them) and tokens in the same transaction: the
// clean-up keeps pace with the writes that grow the tables.
#include "auth/token_store.hpp"
#include "sqlite/database.hpp"

#include <memory>

namespace gatehouse::sqlite {

class sqlite_token_store final : public auth::refresh_token_store {
 public:
  // Rows deleted per table by one clean-up batch.
  static constexpr int purge_batch = 32;

  // `db` must have been migrated.
  explicit sqlite_token_store(std::shared_ptr<database> db);

  // Also purges what expired before family.created_at.
  void create_family(const auth::token_family& family, const auth::refresh_token_record& first) override;
  std::optional<auth::refresh_token_record> find_token(std::string_view token_hash) override;
  std::optional<auth::token_family> find_family(std::string_view family_id) override;
  // Also purges what expired before `used_at`.
  [[nodiscard]] bool rotate(std::string_view token_hash, std::int64_t used_at,
                            const auth::refresh_token_record& successor) override;
  void put_token_if_absent(const auth::refresh_token_record& record) override;
  void revoke_family(std::string_view family_id, std::int64_t revoked_at) override;
  std::vector<auth::token_family> list_families(std::string_view user_id) override;

 private:
  std::shared_ptr<database> db_;
};

}  // namespace gatehouse::sqlite
