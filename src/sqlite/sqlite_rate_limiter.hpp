#pragma once
// auth::rate_limiter over the embedded SQLite database (migration 3: table
// rate_limits, keyed by (key, window_start)).
//
// A hit is one BEGIN IMMEDIATE transaction: an upsert that adds one to the
// window's row and returns the new count, so concurrent hits, from threads
// or from server processes sharing the file (WAL), queue on the write lock
// and each sees its own count. SQLite has no TTL: each hit also deletes a
// small batch of rows whose window has ended, in the same transaction.
#include "auth/rate_limiter.hpp"
#include "sqlite/database.hpp"

#include <memory>

namespace gatehouse::sqlite {

class sqlite_rate_limiter final : public auth::rate_limiter {
 public:
  // Rows of ended windows deleted by one hit.
  static constexpr int purge_batch = 32;

  // `db` must have been migrated.
  explicit sqlite_rate_limiter(std::shared_ptr<database> db);

  auth::hit_result hit(std::string_view key, const auth::rate_limit& limit, std::int64_t now) override;
  void undo(std::string_view key, std::int64_t window_start) override;
  void reset(std::string_view key, std::int64_t window_start) override;

 private:
  std::shared_ptr<database> db_;
};

}  // namespace gatehouse::sqlite
