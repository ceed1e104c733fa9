#pragma once
// bcrypt through libxcrypt: hashes are `$2b$`, verification accepts the
// `$2a$`, `$2b$` and `$2y$` hashes bcryptjs and others write. With a gate,
// every hash and verify (the dummy one too) waits its turn there, and a
// full gate is 503 `server_busy` before any hashing (auth/bcrypt_gate).
#include "auth/bcrypt_gate.hpp"
#include "base/password_limits.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace gatehouse::auth {

inline constexpr int min_bcrypt_cost = 4;
inline constexpr int max_bcrypt_cost = 14;

class password_hasher {
 public:
  // `cost` 4..14, else std::invalid_argument. `gate` (may be null: no
  // limit) must outlive the hasher.
  explicit password_hasher(int cost, bcrypt_gate* gate = nullptr);

  // A new `$2b$` hash with a fresh random salt. The caller has validated
  // the password (no NUL byte, at most 72 bytes).
  std::string hash(std::string_view password) const;

  // True when `password` matches `hash`. Any malformed hash, or a password
  // with a NUL byte or over 72 bytes, is simply false.
  bool verify(std::string_view password, std::string_view hash) const;

  // Spends the same time as one `verify` against a real hash of this cost,
  // so a login for an unknown e-mail cannot be told apart by timing.
  void verify_dummy(std::string_view password) const;

  // True when `hash` (one `verify` accepted) is not what `hash` would make
  // now: another cost, or another variant (`$2a$`, `$2y$` of bcryptjs and
  // others). A login replaces such a hash, so every account ends up at
  // the configured cost and a wrong password takes the same time for
  // every account as for an unknown e-mail.
  bool needs_rehash(std::string_view hash) const;

  int cost() const { return cost_; }

 private:
  template <typename Work>
  decltype(auto) gated(Work&& work) const {
    return gate_ ? gate_->run(std::forward<Work>(work)) : work();
  }

  int cost_;
  bcrypt_gate* gate_;
};

}  // namespace gatehouse::auth
