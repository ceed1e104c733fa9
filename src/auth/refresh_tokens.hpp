#pragma once
// Refresh tokens: issue at login, rotate on refresh, revoke on logout.
//
// A token is 32 random bytes, base64url (43 characters), opaque to
// clients and stored only as its SHA-256. Each login starts a family;
// every refresh marks the presented token used and hands out its
// successor in the same family. The successor is deterministic,
// base64url(HMAC-SHA256(key, "successor\n" + token)), so concurrent
// refreshes of one token (browser tabs) all get the same successor
// without the plaintext ever being stored.
//
// Presenting a used token again less than `reuse_grace_seconds` after its
// use returns that same successor; later, it is reuse (the token leaked,
// or a client kept an old one): the whole family is revoked and 401.
// Expiry is checked on every read, never left to a store's clean-up.
//
// A session (a family) also ends `session_max_age_seconds` after its
// login, however often it is refreshed: no successor outlives that end.
// A login keeps at most `max_sessions_per_user` live sessions of its user:
// its own, and the newest others; older ones are revoked. Parallel logins
// may briefly leave more (each counts what it sees), but every login ends
// by trimming, so the count comes back to the cap with the last of them.
#include "auth/token_store.hpp"
#include "base/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

inline constexpr std::size_t refresh_token_chars = 43;  // base64url of 32 bytes

struct refresh_settings {
  std::int64_t ttl_seconds = 30 * 86400;              // REFRESH_TOKEN_TTL
  std::int64_t reuse_grace_seconds = 10;              // REFRESH_REUSE_GRACE; 0: none
  std::int64_t session_max_age_seconds = 90 * 86400;  // SESSION_MAX_AGE, from the login
  std::int64_t max_sessions_per_user = 50;            // MAX_SESSIONS_PER_USER
};

// A token for the client (its only appearance in plaintext) and what it belongs to.
struct issued_refresh_token {
  std::string token;
  std::string user_id;
  std::string family_id;
};

// 401 `invalid_refresh_token`: one answer for malformed, unknown, expired,
// revoked and reused tokens.
error invalid_refresh_token();

class refresh_token_service {
 public:
  // `key` makes successors; derive it from the JWT secret (at least 32
  // bytes, std::invalid_argument otherwise). `store` must outlive the
  // service. `now` is the wall clock (milliseconds order the sessions of
  // one second).
  refresh_token_service(refresh_token_store& store, std::string key, refresh_settings settings,
                        std::function<std::chrono::milliseconds()> now);

  // A new family for `user_id` with its first token (login); then revokes
  // the user's oldest sessions beyond max_sessions_per_user. That trimming
  // never fails the login (the session exists by then): a store failure
  // there is logged, and the next login trims again.
  issued_refresh_token issue(std::string_view user_id);

  // The live sessions of `user_id` (not revoked, not expired, not past
  // their maximum age), newest first.
  std::vector<token_family> live_sessions(std::string_view user_id);

  // Rotates `presented` and returns its successor. `accept_user` is asked
  // about the token's user before anything is written: false (the user is
  // gone) revokes the family. Throws invalid_refresh_token() for a
  // malformed, unknown, expired or revoked token and on reuse (after
  // revoking the family).
  issued_refresh_token refresh(std::string_view presented,
                               const std::function<bool(const std::string& user_id)>& accept_user);

  // Logout: revokes the family of `presented` when it is a known, unexpired
  // token; anything else is silently nothing, so the answer reveals nothing.
  void revoke(std::string_view presented);

  // Ends every live session of `user_id` (a reset or changed password):
  // their refresh tokens are refused from now on.
  void revoke_all(std::string_view user_id);

  // The successor of `token`; exposed for tests.
  std::string successor_of(std::string_view token) const;

  const refresh_settings& settings() const noexcept { return settings_; }

 private:
  std::int64_t now_seconds() const;
  // The expiry of a token issued at `now` in a session that began at `created_at`.
  std::int64_t token_expiry(std::int64_t now, std::int64_t created_at) const;
  bool is_live(const token_family& f, std::int64_t now) const;
  void trim_sessions(const std::string& user_id, const std::string& kept_family_id);
  refresh_token_record record_for(const std::string& token, const refresh_token_record& family_of,
                                  std::int64_t expires_at) const;
  [[noreturn]] void revoke_and_reject(const refresh_token_record& presented, std::int64_t now,
                                     std::string_view reason);

  refresh_token_store& store_;
  std::string key_;
  refresh_settings settings_;
  std::function<std::chrono::milliseconds()> now_;
};

// Lower-case hex SHA-256: the form tokens are stored and looked up in.
std::string hash_refresh_token(std::string_view token);

// True for exactly 43 characters of the base64url alphabet: the only
// shape worth a store lookup.
bool is_well_formed_refresh_token(std::string_view token);

}  // namespace gatehouse::auth
