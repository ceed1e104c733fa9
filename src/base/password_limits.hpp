#pragma once
// bcrypt reads at most 72 bytes of a password. Sign-up validation (users)
// rejects a longer one and the hasher (auth) refuses it, so that none is
// ever silently truncated; the two layers see only base, so the number
// lives here, once, and cannot drift between them.
#include <cstddef>

namespace gatehouse {

inline constexpr std::size_t max_password_bytes = 72;

}  // namespace gatehouse
