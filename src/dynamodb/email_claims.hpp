#pragma once
// The item shape of the e-mail claims table (USERS_EMAIL_TABLE), in one
// place: sign-up and e-mail change write it (dynamodb_user_store), doctor
// audits and repairs it (dynamodb_integrity), migrate backfills it
// (dynamodb_schema). A claim says who holds an address and since when;
// the age decides a takeover (users/claim_takeover.hpp).
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::dynamodb {

namespace claim_attribute {
inline constexpr std::string_view email = "email";           // the table's key: the normalised address
inline constexpr std::string_view user_id = "userId";        // the holder
inline constexpr std::string_view claimed_at = "claimedAt";  // Unix seconds of the (last) claim
}  // namespace claim_attribute

// A claim as read; the attributes other than the key may be missing from
// items other programs wrote.
struct email_claim {
  std::string email;
  std::optional<std::string> user_id;
  std::optional<std::int64_t> claimed_at;
};

// {"email": {"S": email}}: the key for GetItem, DeleteItem.
boost::json::object email_claim_key(std::string_view email);
// The whole item for PutItem.
boost::json::object email_claim_item(std::string_view email, std::string_view user_id, std::int64_t claimed_at);
// The claim on `email` that `item` (as GetItem or Scan returned it) holds.
email_claim email_claim_of(std::string email, const boost::json::object& item);

}  // namespace gatehouse::dynamodb
