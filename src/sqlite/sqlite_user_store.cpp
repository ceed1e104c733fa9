#include "sqlite/sqlite_user_store.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"

#include <sqlite3.h>

#include <charconv>
#include <string>
#include <utility>

namespace gatehouse::sqlite {
namespace {

constexpr std::string_view cursor_prefix = "v1:";
// base64url of "v1:" plus the 19 digits of the largest int64 is 30 characters.
constexpr std::size_t max_cursor_chars = 32;

const std::string select_columns =
    "SELECT user_id, name, email, password_hash, profile_image_key, created_at, email_verified FROM users ";

// Reads the select_columns, the first of them at column `first`.
users::user read_user(const statement& st, int first = 0) {
  users::user u;
  u.user_id = st.column_text(first);
  u.name = st.column_text(first + 1);
  u.email = st.column_text(first + 2);
  u.password_hash = st.column_text(first + 3);
  u.profile_image_key = st.column_optional_text(first + 4);
  u.created_at = st.column_text(first + 5);
  u.email_verified = st.column_int64(first + 6) != 0;
  return u;
}

[[noreturn]] void bad_cursor() {
  throw validation_failed("cursor", "cursor is not one this server returned");
}

}  // namespace

std::string encode_cursor(std::int64_t row_id) {
  return crypto::base64url_encode(std::string(cursor_prefix) + std::to_string(row_id));
}

std::int64_t decode_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > max_cursor_chars) bad_cursor();
  const auto text = crypto::base64url_decode(cursor);
  if (!text || !std::string_view(*text).starts_with(cursor_prefix)) bad_cursor();
  const std::string_view digits = std::string_view(*text).substr(cursor_prefix.size());
  // Canonical digits only: no sign, no leading zero, so each id has one cursor.
  if (digits.empty() || digits.size() > 19 || digits.front() == '0') bad_cursor();
  for (char c : digits)
    if (c < '0' || c > '9') bad_cursor();
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) bad_cursor();
  return id;
}

sqlite_user_store::sqlite_user_store(std::shared_ptr<database> db) : db_(std::move(db)) {}

bool sqlite_user_store::create(const users::user& u) {
  auto conn = db_->acquire();
  auto st = conn->prepare(
      "INSERT INTO users (user_id, name, email, password_hash, profile_image_key, created_at, email_verified) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, u.user_id)
      .bind(2, u.name)
      .bind(3, u.email)
      .bind(4, u.password_hash)
      .bind_optional(5, u.profile_image_key)
      .bind(6, u.created_at)
      .bind(7, std::int64_t{u.email_verified ? 1 : 0});
  // One autocommit INSERT: the UNIQUE index decides the race, not a prior SELECT.
  if (st.step_or_conflict() != statement::step_result::unique_conflict) return true;
  if (st.error_message().find("users.email") != std::string::npos) return false;
  // A user_id collision means the id generator is broken: a bug, not a conflict.
  log::error("sqlite: user_id already exists", {{"detail", st.error_message()}});
  throw error(error_kind::internal, "internal", "duplicate user id");
}

std::optional<users::user> sqlite_user_store::find_by_id(std::string_view user_id) {
  auto conn = db_->acquire();
  auto st = conn->prepare(select_columns + "WHERE user_id = ?");
  st.bind(1, user_id);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

std::optional<users::user> sqlite_user_store::find_by_email(std::string_view email) {
  auto conn = db_->acquire();
  auto st = conn->prepare(select_columns + "WHERE email = ?");
  st.bind(1, email);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

users::user_page sqlite_user_store::list(std::size_t limit,
                                         std::optional<std::string_view> cursor) {
  if (limit == 0) throw validation_failed("limit", "limit must be at least 1");
  if (limit > max_page_size) limit = max_page_size;
  // Decode before touching the database: a bad cursor is the client's fault.
  const std::int64_t after = cursor ? decode_cursor(*cursor) : 0;

  auto conn = db_->acquire();
  // Keyset paging on the row id; one extra row tells whether a next page exists.
  auto st = conn->prepare("SELECT id, user_id, name, email, password_hash, profile_image_key, "
                          "created_at, email_verified FROM users WHERE id > ? ORDER BY id LIMIT ?");
  st.bind(1, after).bind(2, static_cast<std::int64_t>(limit + 1));

  users::user_page page;
  std::int64_t last_id = 0;
  while (st.step()) {
    if (page.users.size() == limit) {
      page.next_cursor = encode_cursor(last_id);
      break;
    }
    last_id = st.column_int64(0);
    page.users.push_back(read_user(st, 1));
  }
  return page;
}

users::image_swap sqlite_user_store::set_profile_image(std::string_view user_id,
                                                       std::string_view key) {
  auto conn = db_->acquire();
  write_transaction tx(*conn);
  users::image_swap swap;
  {
    auto read = conn->prepare("SELECT profile_image_key FROM users WHERE user_id = ?");
    read.bind(1, user_id);
    if (!read.step()) return swap;  // unknown user: nothing written, rolled back
    swap.previous_key = read.column_optional_text(0);
  }
  auto write = conn->prepare("UPDATE users SET profile_image_key = ? WHERE user_id = ?");
  write.bind(1, key).bind(2, user_id);
  write.step();
  tx.commit();
  swap.user_found = true;
  return swap;
}

bool sqlite_user_store::replace_password_hash(std::string_view user_id, std::string_view old_hash,
                                              std::string_view new_hash) {
  auto conn = db_->acquire();
  auto write = conn->prepare("UPDATE users SET password_hash = ? WHERE user_id = ? AND password_hash = ?");
  write.bind(1, new_hash).bind(2, user_id).bind(3, old_hash);
  write.step();
  return sqlite3_changes(conn->handle()) == 1;
}

bool sqlite_user_store::mark_email_verified(std::string_view user_id, std::string_view email) {
  auto conn = db_->acquire();
  auto write = conn->prepare("UPDATE users SET email_verified = 1 WHERE user_id = ? AND email = ?");
  write.bind(1, user_id).bind(2, email);
  write.step();
  return sqlite3_changes(conn->handle()) == 1;
}

bool sqlite_user_store::rename(std::string_view user_id, std::string_view name) {
  auto conn = db_->acquire();
  auto write = conn->prepare("UPDATE users SET name = ? WHERE user_id = ?");
  write.bind(1, name).bind(2, user_id);
  write.step();
  return sqlite3_changes(conn->handle()) == 1;
}

users::email_change sqlite_user_store::change_email(std::string_view user_id, std::string_view old_email,
                                                    std::string_view new_email) {
  auto conn = db_->acquire();
  // One autocommit UPDATE: the UNIQUE index on email decides a race, as for
  // create(), and the old address is free the moment it commits.
  auto write = conn->prepare("UPDATE users SET email = ?, email_verified = 1 WHERE user_id = ? AND email = ?");
  write.bind(1, new_email).bind(2, user_id).bind(3, old_email);
  if (write.step_or_conflict() == statement::step_result::unique_conflict) return users::email_change::taken;
  return sqlite3_changes(conn->handle()) == 1 ? users::email_change::changed : users::email_change::stale;
}

bool sqlite_user_store::remove(std::string_view user_id, std::string_view /*email: the row holds it*/) {
  auto conn = db_->acquire();
  // The user's sessions (revoked by the callers already) go in the same
  // transaction: one file, so a deleted account leaves no rows of it that
  // `gatehouse doctor` would rightly call orphans (tokens.user). DynamoDB's
  // tokens expire by the table's TTL instead.
  write_transaction tx(*conn);
  auto st = conn->prepare("DELETE FROM users WHERE user_id = ?");
  st.bind(1, user_id);
  st.step();
  const bool removed = sqlite3_changes(conn->handle()) > 0;
  for (const char* sql : {"DELETE FROM refresh_tokens WHERE user_id = ?", "DELETE FROM token_families WHERE user_id = ?"}) {
    auto sessions = conn->prepare(sql);
    sessions.bind(1, user_id);
    sessions.step();
  }
  tx.commit();
  return removed;
}

}  // namespace gatehouse::sqlite
