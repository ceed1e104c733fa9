#pragma once
// What a user can do with the whole account: delete it (DELETE /users/me)
// and take a copy of everything stored about it (GET /users/me/export).
#include "accounts/password_check.hpp"
#include "accounts/request_origin.hpp"
#include "auth/refresh_tokens.hpp"
#include "images/object_store.hpp"
#include "users/user_store.hpp"

#include <string_view>
#include <vector>

namespace gatehouse::accounts {

// Everything stored about one user, for the export.
struct account_export {
  users::user user;
  std::vector<auth::token_family> sessions;  // live ones, newest first
};

class account_deletion {
 public:
  account_deletion(users::user_store& users, const password_check& password, auth::refresh_token_service& sessions,
                   images::object_store& images);

  // The password (checked like a login: invalid_credentials,
  // rate_limited), then, in the order of `gatehouse users delete`: the
  // images (the picture and pending uploads), the sessions, the record and
  // its e-mail claim, then images and sessions once more for what a
  // concurrent request stored meanwhile. A failure part-way (503) leaves an
  // account that still logs in and can be deleted again; after the record
  // is gone nothing of it opens anything. One-time links die with the
  // record they are bound to.
  void delete_account(const users::user& caller, std::string_view password, const request_origin& origin);

  // Whether a retry of a deletion finds it done: the action's earlier
  // attempt may have run (its answer lost) and `user_id`'s record is gone.
  // Then the retry answers as the first would have, not 401.
  bool finished_earlier(std::string_view user_id, const request_origin& origin);

  account_export export_of(const users::user& caller);

 private:
  void remove_images(const users::user& u);

  users::user_store& users_;
  const password_check& password_;
  auth::refresh_token_service& sessions_;
  images::object_store& images_;
};

}  // namespace gatehouse::accounts
