#include "accounts/email_verification.hpp"

#include "accounts/account_state.hpp"
#include "base/log.hpp"
#include "users/validation.hpp"

namespace gatehouse::accounts {

error already_verified() {
  return error(error_kind::already_exists, "already_verified", "this e-mail address is already verified");
}

email_verification::email_verification(users::user_store& users, const one_time_tokens& tokens, account_mail& mail,
                                       auth::login_limits& limits, answer_pacing& pacing, verification_mode mode,
                                       std::function<std::int64_t()> now_seconds)
    : users_(users),
      tokens_(tokens),
      mail_(mail),
      limits_(limits),
      pacing_(pacing),
      mode_(mode),
      now_seconds_(std::move(now_seconds)) {}

void email_verification::send_link(const users::user& u) {
  const auto token =
      tokens_.issue(token_purpose::verify_email, u.user_id, verification_state(u), verification_token_ttl_seconds);
  (void)mail_.send(mail_kind::verify_email, u, token);
}

void email_verification::after_sign_up(const users::user& u, const request_origin& origin) {
  if (mode_ == verification_mode::off) return;
  try {
    limits_.admit_mail(u.email, origin.source_ip, now_seconds_());
  } catch (const error& e) {
    // The sign-up itself was admitted by its own limit; the user can ask again.
    if (e.kind() != error_kind::resource_exhausted) throw;
    log::info("verification mail not sent at sign-up: mail limit reached", {{"request_id", origin.request_id}});
    return;
  }
  send_link(u);
}

void email_verification::request_for(const users::user& caller, const request_origin& origin) {
  if (caller.email_verified) throw already_verified();
  limits_.admit_mail(caller.email, origin.source_ip, now_seconds_());
  if (mode_ != verification_mode::off) send_link(caller);
}

void email_verification::request_for_email(std::string_view raw_email, const request_origin& origin) {
  const auto started = answer_pacing::clock::now();
  const std::string email = users::normalize_email(raw_email);
  limits_.admit_mail(email, origin.source_ip, now_seconds_());
  const auto found = mode_ == verification_mode::off ? std::nullopt : users_.find_by_email(email);
  if (found && !found->email_verified) {
    send_link(*found);
    pacing_.record(answer_pacing::clock::now() - started);
    return;
  }
  pacing_.imitate(started);
}

users::user email_verification::confirm(std::string_view token) {
  const auto claims = tokens_.read(token, token_purpose::verify_email);
  if (!claims) throw invalid_or_expired_token();
  auto u = users_.find_by_id(claims->user_id);
  if (!u || !tokens_.binds(*claims, verification_state(*u))) throw invalid_or_expired_token();
  if (!users_.mark_email_verified(u->user_id, u->email)) throw invalid_or_expired_token();  // moved meanwhile
  u->email_verified = true;
  return *u;
}

}  // namespace gatehouse::accounts
