#pragma once
#include "images/object_store.hpp"
#include "users/user.hpp"

#include <boost/json/object.hpp>

namespace gatehouse::api {

// How much of a user a response shows (shared/API.md, "User object").
enum class user_view {
  full,            // the user themself (and, with roles, an admin)
  public_profile,  // anyone else: userId, name, profile_image, createdAt; no e-mail
};

// The contract's User object. The password hash is never rendered; the
// image key becomes a fresh time-limited URL.
boost::json::object user_json(const users::user& u, images::object_store& images,
                              user_view view = user_view::full);

}  // namespace gatehouse::api
