#include "accounts/email_change.hpp"

#include "accounts/account_state.hpp"
#include "users/validation.hpp"

namespace gatehouse::accounts {

error email_taken(std::string_view field) {
  return error(error_kind::already_exists, "email_taken", "an account with this email already exists",
               std::string(field));
}

email_change::email_change(users::user_store& users, const password_check& password, const one_time_tokens& tokens,
                           account_mail& mail, auth::login_limits& limits, std::function<std::int64_t()> now_seconds)
    : users_(users),
      password_(password),
      tokens_(tokens),
      mail_(mail),
      limits_(limits),
      now_seconds_(std::move(now_seconds)) {}

void email_change::request(const users::user& caller, std::string_view raw_new_email, std::string_view password,
                           const request_origin& origin) {
  std::string new_email;
  try {
    new_email = users::normalize_email(raw_new_email);
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_argument) throw;
    throw validation_failed("new_email", e.what());
  }
  if (new_email == caller.email) throw validation_failed("new_email", "this is already the account's address");
  password_.require(caller, password, origin);
  // Only a signed-in caller who knows the password learns that an address
  // is taken, as sign-up would tell anyone.
  if (users_.find_by_email(new_email)) throw email_taken("new_email");
  limits_.admit_mail(new_email, origin.source_ip, now_seconds_());
  const auto token = tokens_.issue(token_purpose::change_email, caller.user_id, email_change_state(caller),
                                   email_change_token_ttl_seconds, new_email);
  (void)mail_.send(mail_kind::email_change_confirm, caller, token, new_email);
  (void)mail_.send(mail_kind::email_change_notice, caller, {}, new_email);
}

users::user email_change::confirm(std::string_view token) {
  const auto claims = tokens_.read(token, token_purpose::change_email);
  if (!claims || claims->new_email.empty()) throw invalid_or_expired_token();
  auto u = users_.find_by_id(claims->user_id);
  if (!u || !tokens_.binds(*claims, email_change_state(*u))) throw invalid_or_expired_token();
  switch (users_.change_email(u->user_id, u->email, claims->new_email)) {
    case users::email_change::changed: break;
    case users::email_change::taken: throw email_taken("email");
    case users::email_change::stale: throw invalid_or_expired_token();
  }
  u->email = claims->new_email;
  u->email_verified = true;
  return *u;
}

}  // namespace gatehouse::accounts
