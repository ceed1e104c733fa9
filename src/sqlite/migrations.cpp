#include "sqlite/migrations.hpp"

namespace gatehouse::sqlite {

const std::vector<std::string_view>& migrations() {
  // Each entry runs in one transaction together with its user_version bump.
  // To change the schema, append a new entry at the end of this list.
  static const std::vector<std::string_view> list = {
      // 1: users. `id` orders the keyset paging of GET /users; the UNIQUE
      // on email is what makes concurrent sign-ups of one address safe.
      R"sql(
        CREATE TABLE users (
          id                INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id           TEXT NOT NULL UNIQUE,
          name              TEXT NOT NULL,
          email             TEXT NOT NULL UNIQUE,
          password_hash     TEXT NOT NULL,
          profile_image_key TEXT,
          created_at        TEXT NOT NULL
        );
      )sql",
      // 2: refresh tokens (auth/token_store.hpp), stored only as SHA-256
      // hex. A family outlives its tokens (expires_at), so deleting expired
      // families also deletes their tokens (ON DELETE CASCADE). No foreign
      // key to users: the token store stands on its own, like DynamoDB's.
      R"sql(
        CREATE TABLE token_families (
          family_id  TEXT PRIMARY KEY,
          user_id    TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          revoked_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX token_families_expires_at ON token_families (expires_at);
        CREATE INDEX token_families_user_id ON token_families (user_id);
        CREATE TABLE refresh_tokens (
          token_hash     TEXT PRIMARY KEY,
          family_id      TEXT NOT NULL REFERENCES token_families (family_id) ON DELETE CASCADE,
          user_id        TEXT NOT NULL,
          expires_at     INTEGER NOT NULL,
          used_at        INTEGER,
          successor_hash TEXT
        ) WITHOUT ROWID;
        CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
      )sql",
      // 3: rate-limit counters (auth/rate_limiter.hpp), one row per key and
      // fixed window. Keys are HMAC hex, never an e-mail or IP in clear.
      // expires_at (the window's end) is for the opportunistic purge only:
      // the window is in the key, so an old row is never counted.
      R"sql(
        CREATE TABLE rate_limits (
          key          TEXT NOT NULL,
          window_start INTEGER NOT NULL,
          count        INTEGER NOT NULL,
          expires_at   INTEGER NOT NULL,
          PRIMARY KEY (key, window_start)
        ) WITHOUT ROWID;
        CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
      )sql",
      // 4: the login time in milliseconds, which orders a user's sessions
      // (MAX_SESSIONS_PER_USER revokes the oldest), indexed with the user.
      // Families from before it get their second's first millisecond.
      R"sql(
        ALTER TABLE token_families ADD COLUMN created_at_ms INTEGER NOT NULL DEFAULT 0;
        UPDATE token_families SET created_at_ms = created_at * 1000;
        DROP INDEX token_families_user_id;
        CREATE INDEX token_families_user_id_created ON token_families (user_id, created_at_ms);
      )sql",
      // 5: whether the owner has followed a link mailed to the address.
      R"sql(
        ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
      )sql",
      // 6: the idempotency ledger (idempotency/ledger): ids and fingerprints
      // are HMACs, answers sealed; expired rows are purged by later inserts.
      R"sql(
        CREATE TABLE idempotency_records (
          id          TEXT PRIMARY KEY,
          fingerprint TEXT NOT NULL,
          holder      TEXT NOT NULL,
          state       TEXT NOT NULL CHECK (state IN ('running', 'open', 'settled')),
          lease_until INTEGER NOT NULL,
          expires_at  INTEGER NOT NULL,
          answer      TEXT
        ) WITHOUT ROWID;
        CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);
      )sql",
  };
  return list;
}

}  // namespace gatehouse::sqlite
