#include "api/user_json.hpp"

namespace gatehouse::api {

boost::json::object user_json(const users::user& u, images::object_store& images, user_view view) {
  boost::json::object o;
  o["userId"] = u.user_id;
  o["name"] = u.name;
  if (view == user_view::full) {
    o["email"] = u.email;
    o["email_verified"] = u.email_verified;
  }
  if (u.profile_image_key)
    o["profile_image"] = images.url_for(*u.profile_image_key);
  else
    o["profile_image"] = nullptr;
  o["createdAt"] = u.created_at;
  return o;
}

}  // namespace gatehouse::api
