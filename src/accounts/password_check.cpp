#include "accounts/password_check.hpp"

namespace gatehouse::accounts {

error invalid_credentials() {
  return error(error_kind::unauthenticated, "invalid_credentials", "invalid email or password");
}

password_check::password_check(const auth::password_hasher& passwords, auth::login_limits& limits,
                               std::function<std::int64_t()> now_seconds)
    : passwords_(passwords), limits_(limits), now_seconds_(std::move(now_seconds)) {}

void password_check::require(const users::user& u, std::string_view password, const request_origin& origin) const {
  const auto hits = limits_.admit_login(u.email, origin.source_ip, now_seconds_());
  if (!passwords_.verify(password, u.password_hash)) throw invalid_credentials();
  limits_.login_succeeded(u.email, origin.source_ip, hits);
}

}  // namespace gatehouse::accounts
