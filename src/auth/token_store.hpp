#pragma once
// Where refresh tokens live. Implementations: sqlite/ (embedded default)
// and dynamodb/. Only SHA-256 hashes of tokens are ever stored. Every
// method is safe to call from many threads and processes at once; a
// backend failure or timeout throws storage_unavailable (503).
//
// The rules (rotation, the reuse grace window, reuse detection, the
// session's maximum age, the cap on sessions per user) are not here but in
// auth/refresh_tokens, written against this interface only, so both
// backends share them. A store provides the few atomic steps those rules
// need.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

// One refresh token. Times are unix seconds.
struct refresh_token_record {
  std::string token_hash;  // lower-case hex SHA-256 of the token: the key
  std::string family_id;
  std::string user_id;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> used_at;        // set once, when it was rotated
  std::optional<std::string> successor_hash;  // set with used_at
};

// The chain of tokens one login started: a session.
struct token_family {
  std::string family_id;
  std::string user_id;
  std::int64_t created_at = 0;     // the login, unix seconds
  std::int64_t created_at_ms = 0;  // the same in milliseconds: orders the sessions of one second
  // Never before its newest token expires: the store may forget the family
  // then, and no token of it can be live after it.
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> revoked_at;
};

class refresh_token_store {
 public:
  virtual ~refresh_token_store() = default;

  // Records a new family and its first token (login). Both are new: ids
  // and hashes come from 256-bit random values.
  virtual void create_family(const token_family& family, const refresh_token_record& first) = 0;

  virtual std::optional<refresh_token_record> find_token(std::string_view token_hash) = 0;
  virtual std::optional<token_family> find_family(std::string_view family_id) = 0;

  // The rotation step. Marks `token_hash` used at `used_at` with
  // `successor.token_hash` as its successor only if it is not used yet,
  // and returns true when this call did; concurrent calls for one token
  // give exactly one true. Whenever it returns true, `successor` is
  // stored (unless a token with its hash already is) and its family lives
  // at least until successor.expires_at. A store may store the successor
  // even when it returns false: successors are deterministic, so that
  // record is the very one the winner stored.
  [[nodiscard]] virtual bool rotate(std::string_view token_hash, std::int64_t used_at,
                                    const refresh_token_record& successor) = 0;

  // Stores `record` unless a token with its hash exists (then leaves that
  // one as it is), extending its family's life like rotate does.
  virtual void put_token_if_absent(const refresh_token_record& record) = 0;

  // Sets the family's revoked_at unless it is set already (the first
  // revocation's time stays). An unknown family is left alone.
  virtual void revoke_family(std::string_view family_id, std::int64_t revoked_at) = 0;

  // The families of `user_id` that were not revoked, in any order, without
  // reading any other user's: an index lookup, never a scan. A store may
  // still return some that were revoked or expired a moment ago (an
  // eventually consistent index); callers judge each one themselves.
  virtual std::vector<token_family> list_families(std::string_view user_id) = 0;
};

}  // namespace gatehouse::auth
