#include "sqlite/database.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"
#include "sqlite/migrations.hpp"

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>

namespace gatehouse::sqlite {
namespace {

// How long a connection waits for another writer's lock (busy handler) and
// how long a thread waits for a pooled connection, unless the request's
// deadline (base/request_deadline) comes first. Past either: 503.
constexpr int busy_timeout_ms = 5000;

// The busy handler: SQLite's own back-off (sqliteDefaultBusyCallback, what
// sqlite3_busy_timeout installs), with the request's deadline as a second
// limit, so a writer waiting for the lock gives up when its caller would.
// Runs on the thread that steps the statement, inside the request.
int wait_while_busy(void*, int count) {
  static constexpr std::array<int, 12> delays{1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  static constexpr std::array<int, 12> totals{0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228};
  constexpr int last = static_cast<int>(delays.size()) - 1;
  const int delay = count <= last ? delays[count] : delays[last];
  const int waited = count <= last ? totals[count] : totals[last] + delays[last] * (count - last);
  const int allowed = std::min(delay, busy_timeout_ms - waited);
  if (allowed <= 0) return 0;
  const auto sleep = request_deadline::cap(std::chrono::milliseconds(allowed));
  if (sleep.count() <= 0) return 0;
  std::this_thread::sleep_for(sleep);
  return 1;
}

constexpr const char* generic_message = "storage is unavailable";

[[noreturn]] void fail_plain(std::string_view what, std::string_view detail) {
  log::error("sqlite failure", {{"what", what}, {"detail", detail}});
  throw storage_unavailable(generic_message);
}

// Creates `file` with mode 0600 if it does not exist yet, so the database
// (password hashes) is never readable by others whatever the umask; SQLite
// gives its -wal and -shm files the database file's mode.
void create_private_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  if (errno != EEXIST) fail_plain("create database file", std::strerror(errno));
}

}  // namespace

void fail(sqlite3* db, std::string_view what) {
  boost::json::object fields{{"what", what}};
  if (db != nullptr) {
    fields["sqlite_code"] = sqlite3_extended_errcode(db);
    fields["sqlite_message"] = sqlite3_errmsg(db);
  }
  log::error("sqlite failure", std::move(fields));
  throw storage_unavailable(generic_message);
}

// ---- statement ----

statement::statement(statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

statement::~statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

statement& statement::bind(int index, std::string_view text) {
  // A null data pointer would bind SQL NULL, not an empty string.
  const char* data = text.data() != nullptr ? text.data() : "";
  if (sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) !=
      SQLITE_OK)
    fail(db_, "bind text");
  return *this;
}

statement& statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind integer");
  return *this;
}

statement& statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "bind null");
  return *this;
}

statement& statement::bind_optional(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

statement::step_result statement::step_or_conflict() {
  const int rc = sqlite3_step(stmt_);
  switch (rc) {
    case SQLITE_ROW: return step_result::row;
    case SQLITE_DONE: return step_result::done;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return step_result::unique_conflict;
    default: fail(db_, "step");
  }
}

bool statement::step() {
  const auto result = step_or_conflict();
  if (result == step_result::unique_conflict) fail(db_, "step (unexpected conflict)");
  return result == step_result::row;
}

bool statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::int64_t statement::column_int64(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

std::string statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);  // after column_text, as SQLite asks
  if (text == nullptr || size <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::string> statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

std::string statement::error_message() const { return sqlite3_errmsg(db_); }

// ---- connection ----

void connection::finalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

connection::connection(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) fail_plain("create database directory", ec.message());
  }
  create_private_file(file);

  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    // SQLite may hand back a handle even on failure; it carries the message.
    sqlite3* failed = db_;
    db_ = nullptr;
    try {
      fail(failed, "open");
    } catch (...) {
      sqlite3_close_v2(failed);
      throw;
    }
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    // Before the pragmas: switching to WAL itself needs a lock.
    sqlite3_busy_handler(db_, wait_while_busy, nullptr);
    auto wal = prepare("PRAGMA journal_mode=WAL");
    if (wal.step() && wal.column_text(0) != "wal")
      log::warn("sqlite: WAL not available, using the rollback journal",
                {{"journal_mode", wal.column_text(0)}});
    while (wal.step()) {
    }
    execute_script("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  } catch (...) {
    cache_.clear();
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

connection::~connection() {
  cache_.clear();  // statements first: close_v2 would otherwise defer the close
  sqlite3_close_v2(db_);
}

statement connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &raw, nullptr) != SQLITE_OK)
      fail(db_, "prepare");
    if (raw == nullptr) fail_plain("prepare", "empty statement");
    it = cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, finalizer>(raw)).first;
  }
  return statement(db_, it->second.get());
}

void connection::execute_script(std::string_view script) {
  const char* rest = script.data();
  const char* const end = script.data() + script.size();
  while (rest < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(db_, rest, static_cast<int>(end - rest), &raw, &next) != SQLITE_OK)
      fail(db_, "prepare script");
    std::unique_ptr<sqlite3_stmt, finalizer> owned(raw);
    if (next == nullptr || next <= rest) break;  // nothing consumed: only trailing space left
    rest = next;
    if (raw == nullptr) continue;  // whitespace or a comment
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail(db_, "run script");
  }
}

bool connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

// ---- write_transaction ----

write_transaction::write_transaction(connection& conn) : conn_(conn) {
  conn_.prepare("BEGIN IMMEDIATE").step();
}

write_transaction::~write_transaction() {
  if (!open_ || !conn_.in_transaction()) return;  // some errors roll back by themselves
  try {
    conn_.prepare("ROLLBACK").step();
  } catch (const std::exception&) {
    // Logged by fail(); the pool drops a connection still in a transaction.
  }
}

void write_transaction::commit() {
  conn_.prepare("COMMIT").step();
  open_ = false;
}

// ---- database ----

database::database(std::filesystem::path file, std::size_t max_connections)
    : file_(std::move(file)), max_connections_(max_connections == 0 ? 1 : max_connections) {}

database::~database() = default;

std::shared_ptr<database> database::open(std::filesystem::path file, std::size_t max_connections) {
  auto db = std::make_shared<database>(std::move(file), max_connections);
  db->migrate();
  return db;
}

database::lease::~lease() {
  if (conn_) owner_->give_back(std::move(conn_));
}

database::lease database::acquire() {
  std::unique_lock lock(mutex_);
  const auto give_up = request_deadline::cap(std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms));
  const bool ready = idle_changed_.wait_until(lock, give_up, [&] {
    return !idle_.empty() || open_count_ < max_connections_;
  });
  if (!ready) fail_plain("acquire connection", "every pooled connection stayed busy");
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return lease(*this, std::move(conn));
  }
  ++open_count_;
  lock.unlock();
  try {
    return lease(*this, std::make_unique<connection>(file_));
  } catch (...) {
    lock.lock();
    --open_count_;
    lock.unlock();
    idle_changed_.notify_one();
    throw;
  }
}

void database::give_back(std::unique_ptr<connection> conn) noexcept {
  // A connection left inside a transaction (a bug, or a failed rollback)
  // would hold the write lock forever: try once more, else drop it.
  if (conn->in_transaction()) {
    try {
      conn->execute_script("ROLLBACK");
    } catch (const std::exception&) {
    }
    if (conn->in_transaction()) conn.reset();
  }
  {
    std::lock_guard lock(mutex_);
    if (conn) {
      try {
        idle_.push_back(std::move(conn));
      } catch (const std::bad_alloc&) {
        --open_count_;  // `conn` is still ours and closes below
      }
    } else {
      --open_count_;
    }
  }
  conn.reset();
  idle_changed_.notify_one();
}

namespace {
int read_user_version(connection& conn) {
  auto st = conn.prepare("PRAGMA user_version");
  if (!st.step()) fail(conn.handle(), "read user_version");
  const auto version = st.column_int64(0);
  if (version < 0 || version > 1'000'000) fail_plain("read user_version", "out of range");
  return static_cast<int>(version);
}
}  // namespace

int database::schema_version() {
  auto conn = acquire();
  return read_user_version(*conn);
}

void database::migrate() {
  const auto& list = migrations();
  const int known = static_cast<int>(list.size());
  auto conn = acquire();
  for (;;) {
    if (read_user_version(*conn) >= known) break;
    write_transaction tx(*conn);
    // Read again under the write lock: another process may have migrated meanwhile.
    const int version = read_user_version(*conn);
    if (version >= known) {
      tx.commit();
      break;
    }
    conn->execute_script(list[static_cast<std::size_t>(version)]);
    conn->execute_script("PRAGMA user_version = " + std::to_string(version + 1));
    tx.commit();
    log::info("sqlite: migrated", {{"schema_version", version + 1}});
  }
  const int version = read_user_version(*conn);
  if (version > known)
    log::warn("sqlite: database schema is newer than this binary",
              {{"schema_version", version}, {"known", known}});
}

}  // namespace gatehouse::sqlite
