#pragma once
// idempotency::idempotency_store over the embedded SQLite database
// (migration 6: table idempotency_records, keyed by the record id). Each
// call is one statement, atomic on its own; inserts also delete a small
// batch of expired records (SQLite has no TTL), in the same transaction.
#include "idempotency/idempotency_store.hpp"
#include "sqlite/database.hpp"

#include <memory>

namespace gatehouse::sqlite {

class sqlite_idempotency_store final : public idempotency::idempotency_store {
 public:
  static constexpr int purge_batch = 32;

  // `db` must have been migrated.
  explicit sqlite_idempotency_store(std::shared_ptr<database> db);

  bool insert(const idempotency::record& r, std::int64_t now) override;
  std::optional<idempotency::record> find(std::string_view id) override;
  bool take_over(std::string_view id, std::string_view fingerprint, std::string_view holder, std::int64_t now,
                 std::int64_t lease_until) override;
  void settle(std::string_view id, std::string_view answer) override;
  void release(std::string_view id) override;

 private:
  std::shared_ptr<database> db_;
};

}  // namespace gatehouse::sqlite
