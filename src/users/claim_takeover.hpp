#pragma once
// Where the store keeps e-mail claims apart from users (DynamoDB), a claim
// without its user may be a sign-up still in flight. Younger than this it
// is left alone: sign-up does not take it over (dynamodb_user_store) and
// `gatehouse doctor` does not judge it stale (integrity_options). One age,
// so the two never disagree about which claims are in flight.
#include <cstdint>

namespace gatehouse::users {

inline constexpr std::int64_t claim_takeover_seconds = 120;

}  // namespace gatehouse::users
