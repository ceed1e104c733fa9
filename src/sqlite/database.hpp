#pragma once
// One SQLite file shared by the embedded stores, behind a small pool of
// connections. A thread leases a connection, uses it alone (so connections
// are opened SQLITE_OPEN_NOMUTEX), and gives it back when the lease ends.
// Every SQLite failure the stores do not handle themselves becomes
// gatehouse::storage_unavailable; SQLite's own text goes to the log only.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace gatehouse::sqlite {

// Logs SQLite's message for `what` (never SQL parameters) and returns the
// generic error the client sees.
[[noreturn]] void fail(sqlite3* db, std::string_view what);

// A cached prepared statement in use. Destruction resets it and clears its
// bindings so the next user of the cache starts clean.
class statement {
 public:
  enum class step_result { row, done, unique_conflict };

  statement(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement(statement&& other) noexcept;
  statement& operator=(statement&&) = delete;
  ~statement();

  // Parameters are numbered from 1, as in SQLite.
  statement& bind(int index, std::string_view text);
  statement& bind(int index, std::int64_t value);
  statement& bind_null(int index);
  statement& bind_optional(int index, const std::optional<std::string>& text);  // NULL when empty

  // True while there is a row to read; false when done. A uniqueness
  // conflict is a failure here; use step_or_conflict where it is expected.
  bool step();
  step_result step_or_conflict();

  // Columns are numbered from 0, as in SQLite.
  bool column_is_null(int index) const;
  std::int64_t column_int64(int index) const;
  std::string column_text(int index) const;
  std::optional<std::string> column_optional_text(int index) const;

  // SQLite's text for the last failure, e.g. "UNIQUE constraint failed: users.email",
  // for telling apart which constraint a conflict hit. Never sent to clients.
  std::string error_message() const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One open connection with its statement cache (keyed by SQL text).
class connection {
 public:
  explicit connection(const std::filesystem::path& file);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // A prepared statement from the cache, prepared on first use. The cache
  // holds one sqlite3_stmt per SQL text, so one text may be in use only once
  // at a time per connection (let the first `statement` die before reusing it).
  statement prepare(const std::string& sql);

  // Runs every statement of `script` in order (migrations, BEGIN/COMMIT).
  // Each is prepared on the spot and not cached.
  void execute_script(std::string_view script);

  // True while a transaction is open (sqlite3_get_autocommit is 0).
  bool in_transaction() const;

  sqlite3* handle() const noexcept { return db_; }

 private:
  struct finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, finalizer>> cache_;
};

// A write transaction: BEGIN IMMEDIATE takes the write lock up front, so
// concurrent writers wait in the busy timeout instead of failing with
// SQLITE_BUSY when a read would have to upgrade. Rolled back unless committed.
class write_transaction {
 public:
  explicit write_transaction(connection& conn);
  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;
  ~write_transaction();

  void commit();

 private:
  connection& conn_;
  bool open_ = true;
};

class database {
 public:
  static constexpr std::size_t default_max_connections = 8;

  // Nothing is opened until first use (cold start); the parent directories
  // of `file` are created then.
  explicit database(std::filesystem::path file,
                    std::size_t max_connections = default_max_connections);
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database();

  // The composition root's shorthand: a shared database with every
  // migration applied (so this one does open the file and write).
  static std::shared_ptr<database> open(std::filesystem::path file,
                                        std::size_t max_connections = default_max_connections);

  // Exclusive use of one connection until destroyed.
  class lease {
   public:
    lease(database& owner, std::unique_ptr<connection> conn) noexcept
        : owner_(&owner), conn_(std::move(conn)) {}
    lease(lease&& other) noexcept = default;
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease();

    connection& operator*() const noexcept { return *conn_; }
    connection* operator->() const noexcept { return conn_.get(); }

   private:
    database* owner_;
    std::unique_ptr<connection> conn_;
  };

  // Waits for an idle connection or opens one while under the cap; waiting
  // longer than the busy timeout (or past the request's deadline) throws
  // storage_unavailable.
  lease acquire();

  // Applies every migration newer than the file's PRAGMA user_version, each
  // in its own transaction. Safe to call repeatedly and from several processes.
  void migrate();

  // The file's PRAGMA user_version: how many migrations it has.
  int schema_version();

  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  void give_back(std::unique_ptr<connection> conn) noexcept;

  std::filesystem::path file_;
  std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable idle_changed_;
  std::vector<std::unique_ptr<connection>> idle_;
  std::size_t open_count_ = 0;  // idle + leased
};

}  // namespace gatehouse::sqlite
