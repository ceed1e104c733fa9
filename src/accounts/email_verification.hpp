#pragma once
// E-mail verification (EMAIL_VERIFICATION): a mail at sign-up and on
// request, and the confirmation that spends its link.
#include "accounts/account_mail.hpp"
#include "accounts/answer_pacing.hpp"
#include "accounts/one_time_tokens.hpp"
#include "accounts/request_origin.hpp"
#include "auth/login_limits.hpp"
#include "users/user_store.hpp"

#include <cstdint>
#include <functional>
#include <string_view>

namespace gatehouse::accounts {

enum class verification_mode {
  off,       // no mail; email_verified only changes by an e-mail change
  optional,  // a mail at sign-up; login allowed either way (the default)
  required,  // login refused (403 email_not_verified) until verified
};

inline constexpr std::int64_t verification_token_ttl_seconds = 24 * 3600;

class email_verification {
 public:
  email_verification(users::user_store& users, const one_time_tokens& tokens, account_mail& mail,
                     auth::login_limits& limits, answer_pacing& pacing, verification_mode mode,
                     std::function<std::int64_t()> now_seconds);

  verification_mode mode() const { return mode_; }

  // After a sign-up: the first mail, unless the mode is off. Counts toward
  // the address's mail limit but never refuses (the account exists).
  void after_sign_up(const users::user& u, const request_origin& origin);

  // The caller asks again: 409 already_verified, 429 past the limits,
  // otherwise a mail (none with mode off).
  void request_for(const users::user& caller, const request_origin& origin);

  // Someone who cannot log in (required mode) asks by address: the same
  // answer whether or not an unverified account has it (paced), a mail
  // only when one does; 429 past the limits; validation_failed for an
  // address that is no e-mail.
  void request_for_email(std::string_view email, const request_origin& origin);

  // Spends a verification link: the user with email_verified. 400
  // invalid_or_expired_token for anything but a live link.
  users::user confirm(std::string_view token);

 private:
  void send_link(const users::user& u);

  users::user_store& users_;
  const one_time_tokens& tokens_;
  account_mail& mail_;
  auth::login_limits& limits_;
  answer_pacing& pacing_;
  verification_mode mode_;
  std::function<std::int64_t()> now_seconds_;
};

// 409 already_verified.
error already_verified();

}  // namespace gatehouse::accounts
