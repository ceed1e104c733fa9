#pragma once
// The account state each kind of one-time token is bound to (see
// one_time_tokens.hpp): what spending it changes, so that it works once.
#include "users/user.hpp"

#include <string>

namespace gatehouse::accounts {

// Verification: the address and whether it is verified. Verifying spends
// every verification link; a changed address ends them too.
inline std::string verification_state(const users::user& u) {
  return "verify\n" + u.email + "\n" + (u.email_verified ? "1" : "0");
}

// Reset: the address and the password hash. A new password (by any route)
// ends every reset link issued for the old one, and a link mailed to an
// address the account has since left resets nothing.
inline std::string reset_state(const users::user& u) { return "reset\n" + u.email + "\n" + u.password_hash; }

// E-mail change: the current address and the password hash, so a finished
// change, or a password change meanwhile, ends the pending links.
inline std::string email_change_state(const users::user& u) {
  return "change\n" + u.email + "\n" + u.password_hash;
}

}  // namespace gatehouse::accounts
