#pragma once
// Moving an account to another address: a confirmation link to the new
// address, a notice to the old one, and the confirmation that moves it
// with the same uniqueness guarantee as sign-up (users::user_store::change_email).
#include "accounts/account_mail.hpp"
#include "accounts/one_time_tokens.hpp"
#include "accounts/password_check.hpp"
#include "accounts/request_origin.hpp"
#include "auth/login_limits.hpp"
#include "users/user_store.hpp"

#include <cstdint>
#include <functional>
#include <string_view>

namespace gatehouse::accounts {

inline constexpr std::int64_t email_change_token_ttl_seconds = 3600;

class email_change {
 public:
  email_change(users::user_store& users, const password_check& password, const one_time_tokens& tokens,
               account_mail& mail, auth::login_limits& limits, std::function<std::int64_t()> now_seconds);

  // /email/change: validation_failed "new_email" (malformed, or the
  // caller's own address), 401 invalid_credentials, 409 email_taken, 429;
  // then the two mails. Nothing changes until the link is followed.
  void request(const users::user& caller, std::string_view new_email, std::string_view password,
               const request_origin& origin);

  // /email/change/confirm: the user at the new address, verified. 409
  // email_taken if another account took it meanwhile; 400
  // invalid_or_expired_token for anything but a live link.
  users::user confirm(std::string_view token);

 private:
  users::user_store& users_;
  const password_check& password_;
  const one_time_tokens& tokens_;
  account_mail& mail_;
  auth::login_limits& limits_;
  std::function<std::int64_t()> now_seconds_;
};

// 409 email_taken, as sign-up answers it.
error email_taken(std::string_view field);

}  // namespace gatehouse::accounts
