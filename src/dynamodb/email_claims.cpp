#include "dynamodb/email_claims.hpp"

#include "dynamodb/attribute_values.hpp"

namespace gatehouse::dynamodb {

boost::json::object email_claim_key(std::string_view email) {
  return {{claim_attribute::email, string_value(email)}};
}

boost::json::object email_claim_item(std::string_view email, std::string_view user_id, std::int64_t claimed_at) {
  return {{claim_attribute::email, string_value(email)},
          {claim_attribute::user_id, string_value(user_id)},
          {claim_attribute::claimed_at, number_value(claimed_at)}};
}

email_claim email_claim_of(std::string email, const boost::json::object& item) {
  return {std::move(email), get_string(item, claim_attribute::user_id), get_number(item, claim_attribute::claimed_at)};
}

}  // namespace gatehouse::dynamodb
