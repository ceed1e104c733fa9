#include "accounts/account_service.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "users/validation.hpp"

#include <utility>

namespace gatehouse::accounts {
namespace {

error email_not_verified() {
  return error(error_kind::permission_denied, "email_not_verified",
               "confirm your e-mail address first: follow the link we sent, or ask for a new one");
}

}  // namespace

account_service::account_service(users::user_store& users, const auth::password_hasher& passwords,
                                 const auth::access_tokens& tokens, auth::refresh_token_service& refresh_tokens,
                                 auth::login_limits& limits, const password_check& password,
                                 email_verification& verification, account_mail& mail,
                                 std::function<std::int64_t()> now_seconds, account_settings settings)
    : users_(users),
      passwords_(passwords),
      tokens_(tokens),
      refresh_tokens_(refresh_tokens),
      limits_(limits),
      password_(password),
      verification_(verification),
      mail_(mail),
      now_seconds_(std::move(now_seconds)),
      settings_(settings) {}

users::user account_service::sign_up(const signup_form& form, const request_origin& origin) {
  users::user u;
  u.name = users::normalize_name(form.name);
  u.email = users::normalize_email(form.email);
  users::check_password(form.password);
  // Valid fields: from here on the attempt costs bcrypt and a write.
  limits_.admit_signup(origin.source_ip, now_seconds_());

  // A retry of an action whose earlier attempt created the account (its
  // answer lost) finds the address held by the action's own id: that
  // account is this sign-up's, not someone else's. By the address, not the
  // id: on DynamoDB the claim decides who owns it, and a user item whose
  // claim was lost to another sign-up is no account.
  u.user_id = origin.action.id_for("user");
  if (origin.action.may_have_run_before) {
    if (auto earlier = users_.find_by_email(u.email); earlier && earlier->user_id == u.user_id) {
      verification_.after_sign_up(*earlier, origin);
      return *earlier;
    }
  }
  u.password_hash = passwords_.hash(form.password);
  u.created_at = log::utc_timestamp_now();
  if (!users_.create(u))
    throw error(error_kind::already_exists, "email_taken", "an account with this email already exists", "email");
  verification_.after_sign_up(u, origin);
  return u;
}

session account_service::log_in(std::string_view raw_email, std::string_view password,
                                const request_origin& origin) {
  std::optional<std::string> email;
  try {
    email = users::normalize_email(raw_email);
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_argument) throw;
    // A malformed e-mail cannot belong to an account: fail like an unknown one.
  }
  // Before any lookup or bcrypt work; a malformed e-mail is limited as sent.
  const std::string limit_email = email ? *email : std::string(raw_email);
  const auto hits = limits_.admit_login(limit_email, origin.source_ip, now_seconds_());

  std::optional<users::user> found;
  if (email) found = users_.find_by_email(*email);
  if (!found) {
    passwords_.verify_dummy(password);  // same cost as a real check
    throw invalid_credentials();
  }
  if (!passwords_.verify(password, found->password_hash)) throw invalid_credentials();
  limits_.login_succeeded(limit_email, origin.source_ip, hits);
  if (verification_.mode() == verification_mode::required && !found->email_verified) throw email_not_verified();
  upgrade_password_hash(*found, password, origin);

  auto refresh = refresh_tokens_.issue(found->user_id);
  return session_for(*found, std::move(refresh));
}

// A hash of another cost or variant (bcryptjs's `$2a$` from the Node.js
// version, or one made before BCRYPT_COST changed) is replaced by one at
// the configured cost while the password is at hand. Until then a wrong
// password for that account would take that cost's time, which the dummy
// verify for unknown e-mails cannot imitate. The login does not depend on
// it: a failure is logged and the old hash keeps working.
void account_service::upgrade_password_hash(const users::user& u, std::string_view password,
                                            const request_origin& origin) {
  if (!passwords_.needs_rehash(u.password_hash)) return;
  try {
    if (!users_.replace_password_hash(u.user_id, u.password_hash, passwords_.hash(password)))
      log::info("password hash changed meanwhile; not upgraded", {{"request_id", origin.request_id}});
  } catch (const std::exception& e) {
    log::warn("could not upgrade a password hash", {{"request_id", origin.request_id}, {"why", e.what()}});
  }
}

session account_service::change_password(const users::user& caller, std::string_view current_password,
                                         std::string_view new_password, const request_origin& origin) {
  users::check_password(new_password, "new_password");
  try {
    password_.require(caller, current_password, origin);
  } catch (const error& e) {
    // A retry of a change whose earlier attempt replaced the hash (its
    // answer lost): the stored hash is the new password's. The caller sent
    // that password, so finishing the change tells it nothing new.
    if (e.code() != "invalid_credentials" || !origin.action.may_have_run_before ||
        !passwords_.verify(new_password, caller.password_hash))
      throw;
    return start_only_session(caller);
  }
  const std::string new_hash = passwords_.hash(new_password);
  // On the hash just checked: a reset racing this change wins or loses whole.
  if (!users_.replace_password_hash(caller.user_id, caller.password_hash, new_hash)) throw invalid_credentials();
  users::user u = caller;
  u.password_hash = new_hash;
  return start_only_session(u);
}

// After a password change: every session of `u` ends, one new one starts,
// and the owner is told.
session account_service::start_only_session(const users::user& u) {
  refresh_tokens_.revoke_all(u.user_id);
  auto refresh = refresh_tokens_.issue(u.user_id);
  (void)mail_.send(mail_kind::password_changed, u);
  return session_for(u, std::move(refresh));
}

users::user account_service::rename(const users::user& caller, std::string_view name) {
  users::user u = caller;
  u.name = users::normalize_name(name);
  if (!users_.rename(u.user_id, u.name)) throw error(error_kind::unauthenticated, "unauthorized", "the account no longer exists");
  return u;
}

session account_service::refresh(std::string_view refresh_token) {
  std::optional<users::user> found;
  auto next = refresh_tokens_.refresh(refresh_token, [&](const std::string& user_id) {
    found = users_.find_by_id(user_id);
    return found.has_value();
  });
  return session_for(*found, std::move(next));
}

void account_service::log_out(std::string_view refresh_token) { refresh_tokens_.revoke(refresh_token); }

std::optional<caller> account_service::authenticate(std::string_view bearer_token) {
  auto claims = tokens_.verify(bearer_token, now_seconds_());
  if (!claims) return std::nullopt;
  auto user = users_.find_by_id(claims->user_id);
  if (!user) return std::nullopt;  // the token names nobody any more
  return caller{std::move(*claims), std::move(*user)};
}

std::optional<std::string> account_service::token_subject(std::string_view bearer_token) const {
  auto claims = tokens_.verify(bearer_token, now_seconds_());
  if (!claims) return std::nullopt;
  return std::move(claims->user_id);
}

users::user_page account_service::list_users(std::size_t limit, std::optional<std::string_view> cursor) {
  return users_.list(limit, cursor);
}

bool account_service::sees_everything_of(const caller& viewer, const users::user& listed) {
  return listed.user_id == viewer.user_id;
}

session account_service::session_for(const users::user& u, auth::issued_refresh_token refresh) const {
  const std::int64_t now = now_seconds_();
  auth::access_claims claims;
  claims.user_id = u.user_id;
  claims.email = u.email;
  claims.issued_at = now;
  claims.expires_at = now + settings_.access_token_ttl_seconds;
  claims.session_id = refresh.family_id;
  return session{tokens_.sign(std::move(claims)), settings_.access_token_ttl_seconds, std::move(refresh.token), u};
}

}  // namespace gatehouse::accounts
