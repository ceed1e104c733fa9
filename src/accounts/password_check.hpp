#pragma once
// "Type your password again": what a changed password, a changed e-mail
// and a deleted account ask of a signed-in caller. Counted like a login
// (auth/login_limits), so a stolen access token cannot guess its way to
// the password faster than the login form would let it.
#include "accounts/request_origin.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "base/error.hpp"
#include "users/user.hpp"

#include <cstdint>
#include <functional>
#include <string_view>

namespace gatehouse::accounts {

// 401 invalid_credentials: one body for every failed password check.
error invalid_credentials();

class password_check {
 public:
  password_check(const auth::password_hasher& passwords, auth::login_limits& limits,
                 std::function<std::int64_t()> now_seconds);

  // Returns when `password` is the user's; throws invalid_credentials() or
  // rate_limited().
  void require(const users::user& u, std::string_view password, const request_origin& origin) const;

 private:
  const auth::password_hasher& passwords_;
  auth::login_limits& limits_;
  std::function<std::int64_t()> now_seconds_;
};

}  // namespace gatehouse::accounts
