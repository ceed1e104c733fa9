#include "sqlite/sqlite_token_store.hpp"

#include "base/error.hpp"

#include <string>
#include <utility>

namespace gatehouse::sqlite {
namespace {

// Inserts `r` unless its hash is there, and makes its family live at least
// as long as it. Runs inside the caller's transaction.
void insert_token_if_absent(connection& conn, const auth::refresh_token_record& r) {
  {
    auto st = conn.prepare(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, used_at, successor_hash) "
        "VALUES (?, ?, ?, ?, NULL, NULL) ON CONFLICT (token_hash) DO NOTHING");
    st.bind(1, r.token_hash).bind(2, r.family_id).bind(3, r.user_id).bind(4, r.expires_at);
    st.step();
  }
  auto extend = conn.prepare(
      "UPDATE token_families SET expires_at = ? WHERE family_id = ? AND expires_at < ?");
  extend.bind(1, r.expires_at).bind(2, r.family_id).bind(3, r.expires_at);
  extend.step();
}

// Deletes up to purge_batch expired families (with their tokens, by
// cascade) and up to purge_batch expired tokens, using the expiry indexes.
void purge_expired(connection& conn, std::int64_t now) {
  {
    auto st = conn.prepare(
        "DELETE FROM token_families WHERE family_id IN "
        "(SELECT family_id FROM token_families WHERE expires_at < ? LIMIT ?)");
    st.bind(1, now).bind(2, static_cast<std::int64_t>(sqlite_token_store::purge_batch));
    st.step();
  }
  auto st = conn.prepare(
      "DELETE FROM refresh_tokens WHERE token_hash IN "
      "(SELECT token_hash FROM refresh_tokens WHERE expires_at < ? LIMIT ?)");
  st.bind(1, now).bind(2, static_cast<std::int64_t>(sqlite_token_store::purge_batch));
  st.step();
}

std::optional<std::int64_t> optional_int(const statement& st, int index) {
  if (st.column_is_null(index)) return std::nullopt;
  return st.column_int64(index);
}

constexpr std::string_view family_columns = "family_id, user_id, created_at, created_at_ms, expires_at, revoked_at";

// A row of family_columns.
auth::token_family family_of(const statement& st) {
  auth::token_family f;
  f.family_id = st.column_text(0);
  f.user_id = st.column_text(1);
  f.created_at = st.column_int64(2);
  f.created_at_ms = st.column_int64(3);
  f.expires_at = st.column_int64(4);
  f.revoked_at = optional_int(st, 5);
  return f;
}

}  // namespace

sqlite_token_store::sqlite_token_store(std::shared_ptr<database> db) : db_(std::move(db)) {}

void sqlite_token_store::create_family(const auth::token_family& family,
                                       const auth::refresh_token_record& first) {
  auto conn = db_->acquire();
  write_transaction tx(*conn);
  purge_expired(*conn, family.created_at);
  {
    auto st = conn->prepare(
        "INSERT INTO token_families (family_id, user_id, created_at, created_at_ms, expires_at, revoked_at) "
        "VALUES (?, ?, ?, ?, ?, NULL)");
    st.bind(1, family.family_id)
        .bind(2, family.user_id)
        .bind(3, family.created_at)
        .bind(4, family.created_at_ms)
        .bind(5, family.expires_at);
    // Ids are 122 random bits: a collision is a broken generator, not a race.
    if (st.step_or_conflict() == statement::step_result::unique_conflict)
      throw error(error_kind::internal, "internal", "duplicate token family id");
  }
  {
    auto st = conn->prepare(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, used_at, successor_hash) "
        "VALUES (?, ?, ?, ?, NULL, NULL)");
    st.bind(1, first.token_hash).bind(2, first.family_id).bind(3, first.user_id).bind(4, first.expires_at);
    if (st.step_or_conflict() == statement::step_result::unique_conflict)
      throw error(error_kind::internal, "internal", "duplicate refresh token");
  }
  tx.commit();
}

std::optional<auth::refresh_token_record> sqlite_token_store::find_token(std::string_view token_hash) {
  auto conn = db_->acquire();
  auto st = conn->prepare(
      "SELECT token_hash, family_id, user_id, expires_at, used_at, successor_hash "
      "FROM refresh_tokens WHERE token_hash = ?");
  st.bind(1, token_hash);
  if (!st.step()) return std::nullopt;
  auth::refresh_token_record r;
  r.token_hash = st.column_text(0);
  r.family_id = st.column_text(1);
  r.user_id = st.column_text(2);
  r.expires_at = st.column_int64(3);
  r.used_at = optional_int(st, 4);
  r.successor_hash = st.column_optional_text(5);
  return r;
}

std::optional<auth::token_family> sqlite_token_store::find_family(std::string_view family_id) {
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT " + std::string(family_columns) + " FROM token_families WHERE family_id = ?");
  st.bind(1, family_id);
  if (!st.step()) return std::nullopt;
  return family_of(st);
}

std::vector<auth::token_family> sqlite_token_store::list_families(std::string_view user_id) {
  auto conn = db_->acquire();
  // The (user_id, created_at_ms) index: one user's rows only.
  auto st = conn->prepare("SELECT " + std::string(family_columns) +
                          " FROM token_families WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at_ms");
  st.bind(1, user_id);
  std::vector<auth::token_family> out;
  while (st.step()) out.push_back(family_of(st));
  return out;
}

bool sqlite_token_store::rotate(std::string_view token_hash, std::int64_t used_at,
                                const auth::refresh_token_record& successor) {
  auto conn = db_->acquire();
  // BEGIN IMMEDIATE: concurrent rotations queue on the write lock, and the
  // condition below is judged by each in turn.
  write_transaction tx(*conn);
  {
    auto mark = conn->prepare(
        "UPDATE refresh_tokens SET used_at = ?, successor_hash = ? "
        "WHERE token_hash = ? AND used_at IS NULL RETURNING token_hash");
    mark.bind(1, used_at).bind(2, successor.token_hash).bind(3, token_hash);
    bool marked = false;
    while (mark.step()) marked = true;
    if (!marked) return false;  // used already (or gone): nothing written, rolled back
  }
  insert_token_if_absent(*conn, successor);
  purge_expired(*conn, used_at);
  tx.commit();
  return true;
}

void sqlite_token_store::put_token_if_absent(const auth::refresh_token_record& record) {
  auto conn = db_->acquire();
  write_transaction tx(*conn);
  insert_token_if_absent(*conn, record);
  tx.commit();
}

void sqlite_token_store::revoke_family(std::string_view family_id, std::int64_t revoked_at) {
  auto conn = db_->acquire();
  auto st = conn->prepare("UPDATE token_families SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL");
  st.bind(1, revoked_at).bind(2, family_id);
  st.step();
}

}  // namespace gatehouse::sqlite
