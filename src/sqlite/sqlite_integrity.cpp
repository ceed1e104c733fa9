#include "sqlite/sqlite_integrity.hpp"

#include "sqlite/migrations.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

namespace gatehouse::sqlite {
namespace {

using users::check_status;

// integrity_check stops after this many problems: enough to act on.
constexpr int max_integrity_messages = 20;

// The required columns of a users row (migration 1), by name.
constexpr const char* required_columns[] = {"user_id", "name", "email", "password_hash", "created_at"};

bool is_blank(const statement& st, int column) {
  if (st.column_is_null(column)) return true;
  for (char c : st.column_text(column))
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

std::int64_t count_of(connection& conn, const std::string& sql) {
  auto st = conn.prepare(sql);
  return st.step() ? st.column_int64(0) : 0;
}

const std::string orphan_tokens = "FROM refresh_tokens WHERE user_id NOT IN (SELECT user_id FROM users)";
const std::string orphan_families = "FROM token_families WHERE user_id NOT IN (SELECT user_id FROM users)";

}  // namespace

sqlite_integrity::sqlite_integrity(std::shared_ptr<database> db, std::size_t page_rows)
    : db_(std::move(db)), page_rows_(static_cast<std::int64_t>(std::clamp<std::size_t>(page_rows, 1, 100'000))) {}

bool sqlite_integrity::check_storage(users::integrity_report& report) {
  // Opening a connection reads the header: a file SQLite cannot read at
  // all throws storage_unavailable here, for the caller to report.
  auto conn = db_->acquire();

  std::vector<std::string> problems;
  {
    auto st = conn->prepare("PRAGMA integrity_check(" + std::to_string(max_integrity_messages) + ")");
    while (st.step()) problems.push_back(st.column_text(0));
  }
  if (problems.size() == 1 && problems.front() == "ok") {
    report.line(check_status::ok, "sqlite.integrity", "PRAGMA integrity_check: ok");
  } else {
    std::string detail = "PRAGMA integrity_check found " + std::to_string(problems.size()) +
                         (problems.size() >= max_integrity_messages ? " or more" : "") + " problem(s); first: ";
    // SQLite's own words, about pages and indexes: no row data.
    detail += problems.empty() ? "none listed" : problems.front().substr(0, 200);
    detail += " (restore from a backup; not repairable here)";
    report.line(check_status::fail, "sqlite.integrity", detail);
  }

  const int known = static_cast<int>(migrations().size());
  int version = 0;
  {
    auto st = conn->prepare("PRAGMA user_version");
    if (st.step()) version = static_cast<int>(st.column_int64(0));
  }
  const std::string versions = "schema version " + std::to_string(version) + ", this binary's is " + std::to_string(known);
  if (version == known) {
    report.line(check_status::ok, "sqlite.schema", "schema version " + std::to_string(version) + " (current)");
  } else if (version > known) {
    report.line(check_status::warn, "sqlite.schema", versions + ": written by a newer gatehouse");
  } else {
    report.line(check_status::fail, "sqlite.schema", versions + ": run `gatehouse migrate` (serve also migrates on start)");
    return false;  // the tables the audit reads may not exist yet
  }
  return true;
}

void sqlite_integrity::check_records(const users::integrity_options& options, users::integrity_report& report) {
  const std::size_t every = std::max<std::size_t>(1, options.progress_every);
  std::size_t seen = 0, incomplete = 0;
  std::int64_t after = 0;
  for (;;) {
    auto conn = db_->acquire();
    auto st = conn->prepare(
        "SELECT id, user_id, name, email, password_hash, created_at FROM users WHERE id > ? ORDER BY id LIMIT ?");
    st.bind(1, after).bind(2, page_rows_);
    std::int64_t rows = 0;
    while (st.step()) {
      ++rows;
      after = st.column_int64(0);
      std::string missing;
      for (int c = 0; c < 5; ++c)
        if (is_blank(st, c + 1)) missing += std::string(missing.empty() ? "" : ", ") + required_columns[c];
      if (!missing.empty()) {
        ++incomplete;
        const std::string who = is_blank(st, 1) ? "row " + std::to_string(after) : "user " + st.column_text(1);
        // No value can be made up for a name, an e-mail or a password hash.
        report.line(check_status::fail, "users.row",
                    who + " has no " + missing + " (not repairable here: restore it from a backup or delete the row)");
      }
      if (++seen % every == 0) report.progress("users", seen);
    }
    if (rows < page_rows_) break;
  }
  if (incomplete == 0)
    report.line(check_status::ok, "users.row", std::to_string(seen) + " users, every one complete");

  auto conn = db_->acquire();
  const auto tokens = count_of(*conn, "SELECT COUNT(*) " + orphan_tokens);
  const auto families = count_of(*conn, "SELECT COUNT(*) " + orphan_families);
  const std::string what = std::to_string(tokens) + " refresh token(s) and " + std::to_string(families) +
                           " token famil" + (families == 1 ? "y" : "ies") + " of users that are gone";
  if (tokens == 0 && families == 0) {
    report.line(check_status::ok, "tokens.user", "every refresh token belongs to a user");
  } else if (!options.repair) {
    report.line(check_status::fail, "tokens.user", what);
  } else {
    // Nobody can use them (refresh needs the user), so nothing is lost.
    write_transaction tx(*conn);
    conn->prepare("DELETE " + orphan_tokens).step();
    conn->prepare("DELETE " + orphan_families).step();
    tx.commit();
    report.line(check_status::ok, "tokens.user", std::string(users::repaired_prefix) + "deleted " + what);
  }
}

void sqlite_integrity::for_each_user(const std::function<void(const users::user_image_ref&)>& visit) {
  std::int64_t after = 0;
  for (;;) {
    std::vector<users::user_image_ref> page;
    {
      // The page is read whole before `visit` runs, so a visitor may use
      // the database itself without holding this connection.
      auto conn = db_->acquire();
      auto st = conn->prepare("SELECT id, user_id, profile_image_key FROM users WHERE id > ? ORDER BY id LIMIT ?");
      st.bind(1, after).bind(2, page_rows_);
      while (st.step()) {
        after = st.column_int64(0);
        page.push_back({st.column_text(1), st.column_optional_text(2)});
      }
    }
    for (const auto& u : page) visit(u);
    if (static_cast<std::int64_t>(page.size()) < page_rows_) break;
  }
}

std::optional<std::optional<std::string>> sqlite_integrity::current_image(std::string_view user_id) {
  auto conn = db_->acquire();
  auto st = conn->prepare("SELECT profile_image_key FROM users WHERE user_id = ?");
  st.bind(1, user_id);
  if (!st.step()) return std::nullopt;
  return st.column_optional_text(0);
}

bool sqlite_integrity::clear_profile_image_if(std::string_view user_id, std::string_view stored) {
  auto conn = db_->acquire();
  auto st = conn->prepare("UPDATE users SET profile_image_key = NULL WHERE user_id = ? AND profile_image_key = ?");
  st.bind(1, user_id).bind(2, stored);
  st.step();
  return sqlite3_changes(conn->handle()) > 0;
}

}  // namespace gatehouse::sqlite
