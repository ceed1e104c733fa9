#pragma once
// Where users live. Implementations: sqlite/ (embedded default) and,
// later, dynamodb/. Every method is safe to call from many threads.
// A backend failure or timeout throws storage_unavailable (503).
#include "users/user.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace gatehouse::users {

class user_store {
 public:
  virtual ~user_store() = default;

  // Inserts `u`. Returns false when its e-mail is already taken; the
  // store enforces that atomically, so concurrent creates of one e-mail
  // give exactly one true.
  [[nodiscard]] virtual bool create(const user& u) = 0;

  virtual std::optional<user> find_by_id(std::string_view user_id) = 0;
  virtual std::optional<user> find_by_email(std::string_view email) = 0;

  // One page of at most `limit` users in a stable order; paging with the
  // returned cursors yields every user exactly once. `cursor` is one this
  // store returned: anything else throws validation_failed("cursor").
  virtual user_page list(std::size_t limit, std::optional<std::string_view> cursor) = 0;

  // Records `key` as the user's image and returns the key it replaced,
  // atomically, so concurrent uploads each learn exactly what they replaced.
  virtual image_swap set_profile_image(std::string_view user_id, std::string_view key) = 0;
  // Replaces the user's password hash with `new_hash` only while it is
  // still `old_hash`, so upgrading a hash at login can never undo another
  // change. False when the user is gone or the hash changed meanwhile.
  virtual bool replace_password_hash(std::string_view user_id, std::string_view old_hash,
                                     std::string_view new_hash) = 0;

  // Marks the e-mail verified while the user's e-mail is still `email`, so
  // a link mailed to an address the account has since left verifies
  // nothing. False when the user is gone or has another e-mail.
  virtual bool mark_email_verified(std::string_view user_id, std::string_view email) = 0;

  // Sets the (normalised) name. False when the user is gone.
  virtual bool rename(std::string_view user_id, std::string_view name) = 0;

  // Moves the user from `old_email` to `new_email` (both normalised) and
  // marks it verified. Uniqueness holds as for create(): of concurrent
  // changes (and sign-ups) to one e-mail exactly one succeeds; the old
  // e-mail can be signed up with again afterwards.
  virtual email_change change_email(std::string_view user_id, std::string_view old_email,
                                    std::string_view new_email) = 0;

  // Deletes the record of `user_id`; where the store keeps e-mail claims
  // apart (DynamoDB), then the claim on `email` (normalised), but only
  // while it still names `user_id`: a sign-up that took the address over
  // keeps it. True when there was a record to delete. The callers
  // (`gatehouse users delete`, DELETE /users/me) remove the user's images
  // and sessions first, in the order app/users_command.cpp explains.
  virtual bool remove(std::string_view user_id, std::string_view email) = 0;
};

}  // namespace gatehouse::users
