#pragma once
// The account flows every route calls: sign-up, login, refresh, logout,
// and who a bearer token names. The rules live here; api/ only parses a
// request, calls one function and renders what it returns.
#include "accounts/email_verification.hpp"
#include "accounts/password_check.hpp"
#include "accounts/request_origin.hpp"
#include "auth/access_tokens.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "auth/refresh_tokens.hpp"
#include "users/user.hpp"
#include "users/user_store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::accounts {

// A sign-up as the client sent it, before normalisation.
struct signup_form {
  std::string name;
  std::string email;
  std::string password;
};

// What a login or a refresh hands the client: an access token, the
// refresh token to present next time, and the user.
struct session {
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds
  std::string refresh_token;
  users::user user;
};

// A verified bearer token and the user it names as the store has it now.
struct caller : auth::access_claims {
  users::user user;
};

struct account_settings {
  std::int64_t access_token_ttl_seconds = 900;  // ACCESS_TOKEN_TTL
};

class account_service {
 public:
  // Every reference must outlive the service. `now_seconds` is the clock.
  account_service(users::user_store& users, const auth::password_hasher& passwords, const auth::access_tokens& tokens,
                  auth::refresh_token_service& refresh_tokens, auth::login_limits& limits,
                  const password_check& password, email_verification& verification, account_mail& mail,
                  std::function<std::int64_t()> now_seconds, account_settings settings);

  // A new account. Throws validation_failed for a bad field, rate_limited
  // past the sign-up limit, already_exists "email_taken" for a taken e-mail.
  // Then the verification mail (email_verification::after_sign_up).
  users::user sign_up(const signup_form& form, const request_origin& origin);

  // A session for a right e-mail and password. Every failure is one
  // unauthenticated "invalid_credentials", at the cost of a real check.
  // With EMAIL_VERIFICATION=required, an unverified account gets 403
  // email_not_verified, after a correct password only.
  session log_in(std::string_view email, std::string_view password, const request_origin& origin);

  // /password/change: the current password (checked like a login), then
  // the new one; every session ends and a new one is returned; a notice is
  // mailed. validation_failed "new_password", invalid_credentials, rate_limited.
  session change_password(const users::user& caller, std::string_view current_password,
                          std::string_view new_password, const request_origin& origin);

  // PATCH /users/me {"name"}: the caller with the new (normalised) name.
  users::user rename(const users::user& caller, std::string_view name);

  // Rotates a refresh token (auth/refresh_tokens) into a new session.
  session refresh(std::string_view refresh_token);

  // Ends the session of a refresh token; anything unknown is silently nothing.
  void log_out(std::string_view refresh_token);

  // The caller a bearer token names, or nullopt when the token is invalid,
  // expired or names a user who no longer exists (one answer for all).
  std::optional<caller> authenticate(std::string_view bearer_token);

  // The user id a bearer token was issued to, when its signature and claims
  // verify; no store read, so the user may be gone since (a retried
  // deletion). For keeping things per caller, never for access.
  std::optional<std::string> token_subject(std::string_view bearer_token) const;

  // One page of the user list (users::user_store::list).
  users::user_page list_users(std::size_t limit, std::optional<std::string_view> cursor);

  // Whether `viewer` sees all of `listed` (e-mail included) or only its
  // public profile: sign-up is open, so everyone's e-mail would be a
  // directory of targets. The seam for roles: an admin will see all.
  static bool sees_everything_of(const caller& viewer, const users::user& listed);

 private:
  session session_for(const users::user& u, auth::issued_refresh_token refresh) const;
  session start_only_session(const users::user& u);
  void upgrade_password_hash(const users::user& u, std::string_view password, const request_origin& origin);

  users::user_store& users_;
  const auth::password_hasher& passwords_;
  const auth::access_tokens& tokens_;
  auth::refresh_token_service& refresh_tokens_;
  auth::login_limits& limits_;
  const password_check& password_;
  email_verification& verification_;
  account_mail& mail_;
  std::function<std::int64_t()> now_seconds_;
  account_settings settings_;
};

}  // namespace gatehouse::accounts
