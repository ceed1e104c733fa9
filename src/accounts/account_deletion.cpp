#include "accounts/account_deletion.hpp"

#include "base/error.hpp"
#include "base/log.hpp"

#include "images/image_key.hpp"

namespace gatehouse::accounts {
namespace {

// More than MAX_PENDING_UPLOADS allows at once: every pending upload.
constexpr std::size_t max_pending_listed = 1000;

}  // namespace

account_deletion::account_deletion(users::user_store& users, const password_check& password,
                                   auth::refresh_token_service& sessions, images::object_store& images)
    : users_(users), password_(password), sessions_(sessions), images_(images) {}

void account_deletion::remove_images(const users::user& u) {
  if (images::is_canonical_uuid(u.user_id)) {
    for (const auto& key : images_.list_keys(images::upload_prefix_of(u.user_id), max_pending_listed))
      images_.remove(key);
  }
  if (u.profile_image_key && images::image_key_belongs_to(*u.profile_image_key, u.user_id))
    images_.remove(*u.profile_image_key);
}

void account_deletion::delete_account(const users::user& caller, std::string_view password,
                                      const request_origin& origin) {
  password_.require(caller, password, origin);
  remove_images(caller);
  sessions_.revoke_all(caller.user_id);
  // The record as it is now: a picture set since the caller's token was
  // checked is named here, and goes in the second sweep.
  const auto latest = users_.find_by_id(caller.user_id);
  (void)users_.remove(caller.user_id, caller.email);
  // After the record, no route stores anything of the user (each checks
  // it): what a concurrent request stored before goes now. A picture the
  // sweeps miss (set between the read above and the removal) is an orphan
  // `gatehouse doctor --repair` deletes. The account is gone by now, so a
  // failure here is logged and left to doctor, never answered as a failure.
  try {
    remove_images(latest.value_or(caller));
    sessions_.revoke_all(caller.user_id);
  } catch (const error& e) {
    if (e.kind() != error_kind::unavailable) throw;
    log::warn("account deleted; the second sweep failed (gatehouse doctor --repair finishes it)",
              {{"request_id", origin.request_id}});
  }
}

bool account_deletion::finished_earlier(std::string_view user_id, const request_origin& origin) {
  return origin.action.may_have_run_before && !users_.find_by_id(user_id);
}

account_export account_deletion::export_of(const users::user& caller) {
  return {caller, sessions_.live_sessions(caller.user_id)};
}

}  // namespace gatehouse::accounts
