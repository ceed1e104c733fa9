#pragma once
#include "images/object_store.hpp"
#include "users/user.hpp"

#include <boost/json/object.hpp>

namespace gatehouse::api {

// The contract's User object. The password hash is never rendered; the
// image key becomes a fresh time-limited URL.
boost::json::object user_json(const users::user& u, images::object_store& images);

}  // namespace gatehouse::api
