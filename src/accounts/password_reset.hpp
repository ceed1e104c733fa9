#pragma once
// A forgotten password: the mail with a reset link, and the reset that
// spends it, sets the new password and ends every session.
#include "accounts/account_mail.hpp"
#include "accounts/answer_pacing.hpp"
#include "accounts/one_time_tokens.hpp"
#include "accounts/request_origin.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "auth/refresh_tokens.hpp"
#include "users/user_store.hpp"

#include <cstdint>
#include <functional>
#include <string_view>

namespace gatehouse::accounts {

inline constexpr std::int64_t reset_token_ttl_seconds = 3600;

class password_reset {
 public:
  password_reset(users::user_store& users, const auth::password_hasher& passwords, const one_time_tokens& tokens,
                 account_mail& mail, auth::login_limits& limits, auth::refresh_token_service& sessions,
                 answer_pacing& pacing, std::function<std::int64_t()> now_seconds);

  // /password/forgot: the same answer, at about the same time, whether or
  // not the address has an account; a mail only when it has. 429 past the
  // mail limits; validation_failed for an address that is no e-mail.
  void forgot(std::string_view email, const request_origin& origin);

  // /password/reset: checks the new password first (validation_failed
  // "password"), then spends the link: the new hash replaces exactly the
  // one the link was issued for, every session ends, and the address,
  // having just received the link, counts as verified. A notice follows.
  users::user reset(std::string_view token, std::string_view new_password);

 private:
  users::user_store& users_;
  const auth::password_hasher& passwords_;
  const one_time_tokens& tokens_;
  account_mail& mail_;
  auth::login_limits& limits_;
  auth::refresh_token_service& sessions_;
  answer_pacing& pacing_;
  std::function<std::int64_t()> now_seconds_;
};

}  // namespace gatehouse::accounts
