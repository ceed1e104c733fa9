#pragma once
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::users {

// A stored user. `password_hash` never leaves the store layer's callers:
// the API renders users through api/user_json, which omits it.
struct user {
  std::string user_id;  // UUID v4
  std::string name;
  std::string email;  // trimmed, lower-cased
  std::string password_hash;
  std::optional<std::string> profile_image_key;  // object key, not a URL
  std::string created_at;                       // ISO-8601 UTC with milliseconds
  bool email_verified = false;                  // the owner followed a link mailed to `email`
};

struct user_page {
  std::vector<user> users;
  std::optional<std::string> next_cursor;  // opaque; nullopt on the last page
};

// What replacing a user's profile image found.
// What moving a user to another e-mail found (user_store::change_email).
enum class email_change {
  changed,  // the user now has the new e-mail, verified; the old one is free
  taken,    // another account holds the new e-mail: nothing changed
  stale,    // the user is gone or no longer has the old e-mail: nothing changed
};

struct image_swap {
  bool user_found = false;
  std::optional<std::string> previous_key;  // to delete once the new key is recorded
};

}  // namespace gatehouse::users
