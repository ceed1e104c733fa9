#pragma once
// users::user_integrity over the embedded SQLite database, for `gatehouse
// doctor`: PRAGMA integrity_check, the schema version, users rows with an
// empty required column, and refresh tokens (and their families) whose user
// is gone, which --repair deletes.
#include "sqlite/database.hpp"
#include "users/integrity.hpp"

#include <memory>

namespace gatehouse::sqlite {

class sqlite_integrity final : public users::user_integrity {
 public:
  // `db` need not be migrated: check_storage reports an old schema.
  // `page_rows` rows are read per query.
  explicit sqlite_integrity(std::shared_ptr<database> db, std::size_t page_rows = 500);

  bool check_storage(users::integrity_report& report) override;
  void check_records(const users::integrity_options& options, users::integrity_report& report) override;
  void for_each_user(const std::function<void(const users::user_image_ref&)>& visit) override;
  std::optional<std::optional<std::string>> current_image(std::string_view user_id) override;
  bool clear_profile_image_if(std::string_view user_id, std::string_view stored) override;

 private:
  std::shared_ptr<database> db_;
  std::int64_t page_rows_;
};

}  // namespace gatehouse::sqlite
