#include "sqlite/sqlite_rate_limiter.hpp"

#include <utility>

namespace gatehouse::sqlite {

sqlite_rate_limiter::sqlite_rate_limiter(std::shared_ptr<database> db) : db_(std::move(db)) {}

auth::hit_result sqlite_rate_limiter::hit(std::string_view key, const auth::rate_limit& limit, std::int64_t now) {
  const std::int64_t start = auth::window_start_of(now, limit.window_seconds);
  const std::int64_t end = start + limit.window_seconds;
  auto conn = db_->acquire();
  write_transaction tx(*conn);
  {
    auto purge = conn->prepare(
        "DELETE FROM rate_limits WHERE (key, window_start) IN "
        "(SELECT key, window_start FROM rate_limits WHERE expires_at <= ? LIMIT ?)");
    purge.bind(1, now).bind(2, static_cast<std::int64_t>(purge_batch));
    purge.step();
  }
  std::int64_t count = 0;
  {
    auto st = conn->prepare(
        "INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES (?, ?, 1, ?) "
        "ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count");
    st.bind(1, key).bind(2, start).bind(3, end);
    if (!st.step()) fail(conn->handle(), "rate limit upsert returned no row");
    count = st.column_int64(0);
    while (st.step()) {
    }
  }
  tx.commit();
  return auth::judge(count, limit, start, now);
}

void sqlite_rate_limiter::undo(std::string_view key, std::int64_t window_start) {
  auto conn = db_->acquire();
  auto st = conn->prepare(
      "UPDATE rate_limits SET count = count - 1 WHERE key = ? AND window_start = ? AND count > 0");
  st.bind(1, key).bind(2, window_start);
  st.step();
}

void sqlite_rate_limiter::reset(std::string_view key, std::int64_t window_start) {
  auto conn = db_->acquire();
  auto st = conn->prepare("DELETE FROM rate_limits WHERE key = ? AND window_start = ?");
  st.bind(1, key).bind(2, window_start);
  st.step();
}

}  // namespace gatehouse::sqlite
