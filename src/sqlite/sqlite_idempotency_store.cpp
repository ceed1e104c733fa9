#include "sqlite/sqlite_idempotency_store.hpp"

#include <utility>

namespace gatehouse::sqlite {

sqlite_idempotency_store::sqlite_idempotency_store(std::shared_ptr<database> db) : db_(std::move(db)) {}

bool sqlite_idempotency_store::insert(const idempotency::record& r, std::int64_t now) {
  auto conn = db_->acquire();
  write_transaction tx(*conn);
  {
    auto purge = conn->prepare(
        "DELETE FROM idempotency_records WHERE id IN "
        "(SELECT id FROM idempotency_records WHERE expires_at <= ? LIMIT ?)");
    purge.bind(1, now).bind(2, static_cast<std::int64_t>(purge_batch));
    purge.step();
  }
  bool written = false;
  {
    // The upsert's WHERE makes it replace an expired record only; RETURNING
    // gives a row exactly when something was written.
    auto st = conn->prepare(
        "INSERT INTO idempotency_records (id, fingerprint, holder, state, lease_until, expires_at, answer) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL) "
        "ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, holder = excluded.holder, "
        "state = excluded.state, "
        "lease_until = excluded.lease_until, expires_at = excluded.expires_at, answer = NULL "
        "WHERE idempotency_records.expires_at <= ? RETURNING id");
    st.bind(1, r.id).bind(2, r.fingerprint).bind(3, r.holder).bind(4, idempotency::state_name(r.state));
    st.bind(5, r.lease_until).bind(6, r.expires_at).bind(7, now);
    written = st.step();
    while (st.step()) {
    }
  }
  tx.commit();
  return written;
}

std::optional<idempotency::record> sqlite_idempotency_store::find(std::string_view id) {
  auto conn = db_->acquire();
  auto st = conn->prepare(
      "SELECT fingerprint, holder, state, lease_until, expires_at, answer FROM idempotency_records WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  idempotency::record r;
  r.id = std::string(id);
  r.fingerprint = st.column_text(0);
  r.holder = st.column_text(1);
  r.state = idempotency::state_named(st.column_text(2));
  r.lease_until = st.column_int64(3);
  r.expires_at = st.column_int64(4);
  r.answer = st.column_optional_text(5).value_or("");
  return r;
}

bool sqlite_idempotency_store::take_over(std::string_view id, std::string_view fingerprint, std::string_view holder,
                                         std::int64_t now, std::int64_t lease_until) {
  auto conn = db_->acquire();
  auto st = conn->prepare(
      "UPDATE idempotency_records SET state = 'running', holder = ?, lease_until = ? "
      "WHERE id = ? AND fingerprint = ? AND expires_at > ? "
      "AND (state = 'open' OR (state = 'running' AND lease_until <= ?)) RETURNING id");
  st.bind(1, holder).bind(2, lease_until).bind(3, id).bind(4, fingerprint).bind(5, now).bind(6, now);
  const bool taken = st.step();
  while (st.step()) {
  }
  return taken;
}

void sqlite_idempotency_store::settle(std::string_view id, std::string_view answer) {
  auto conn = db_->acquire();
  auto st = conn->prepare("UPDATE idempotency_records SET state = 'settled', answer = ? WHERE id = ?");
  st.bind(1, answer).bind(2, id);
  st.step();
}

void sqlite_idempotency_store::release(std::string_view id) {
  auto conn = db_->acquire();
  auto st = conn->prepare(
      "UPDATE idempotency_records SET state = 'open', lease_until = 0 WHERE id = ? AND state = 'running'");
  st.bind(1, id);
  st.step();
}

}  // namespace gatehouse::sqlite
