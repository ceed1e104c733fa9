#include "accounts/password_reset.hpp"

#include "accounts/account_state.hpp"
#include "users/validation.hpp"

namespace gatehouse::accounts {

password_reset::password_reset(users::user_store& users, const auth::password_hasher& passwords,
                               const one_time_tokens& tokens, account_mail& mail, auth::login_limits& limits,
                               auth::refresh_token_service& sessions, answer_pacing& pacing,
                               std::function<std::int64_t()> now_seconds)
    : users_(users),
      passwords_(passwords),
      tokens_(tokens),
      mail_(mail),
      limits_(limits),
      sessions_(sessions),
      pacing_(pacing),
      now_seconds_(std::move(now_seconds)) {}

void password_reset::forgot(std::string_view raw_email, const request_origin& origin) {
  const auto started = answer_pacing::clock::now();
  const std::string email = users::normalize_email(raw_email);
  limits_.admit_mail(email, origin.source_ip, now_seconds_());
  if (const auto found = users_.find_by_email(email)) {
    const auto token = tokens_.issue(token_purpose::reset_password, found->user_id, reset_state(*found),
                                     reset_token_ttl_seconds);
    (void)mail_.send(mail_kind::reset_password, *found, token);
    pacing_.record(answer_pacing::clock::now() - started);
    return;
  }
  pacing_.imitate(started);
}

users::user password_reset::reset(std::string_view token, std::string_view new_password) {
  users::check_password(new_password);
  const auto claims = tokens_.read(token, token_purpose::reset_password);
  if (!claims) throw invalid_or_expired_token();
  auto u = users_.find_by_id(claims->user_id);
  if (!u || !tokens_.binds(*claims, reset_state(*u))) throw invalid_or_expired_token();
  const std::string new_hash = passwords_.hash(new_password);
  // Compare-and-set on the hash the link was issued for: of two resets
  // racing with one link (or two links), exactly one wins.
  if (!users_.replace_password_hash(u->user_id, u->password_hash, new_hash)) throw invalid_or_expired_token();
  u->password_hash = new_hash;
  sessions_.revoke_all(u->user_id);
  if (!u->email_verified && users_.mark_email_verified(u->user_id, u->email)) u->email_verified = true;
  (void)mail_.send(mail_kind::password_changed, *u);
  return *u;
}

}  // namespace gatehouse::accounts
