#include "secrets/jwt_secret.hpp"

#include "base/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::secrets {
namespace {

std::string checked_length(std::string key, std::string_view what) {
  if (key.size() < min_jwt_secret_bytes)
    throw secret_error(std::string(what) + " is shorter than 32 bytes");
  if (key.size() > max_jwt_secret_bytes)
    throw secret_error(std::string(what) + " is longer than 4096 bytes");
  return key;
}

}  // namespace

std::string jwt_secret_from(std::string_view secret_string) {
  // A plain-text key that happens to start with '{' but is no JSON object
  // stays plain text: only a whole JSON object is read as one.
  if (secret_string.size() <= max_response_bytes) {
    boost::json::parse_options options;
    options.max_depth = 8;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(secret_string, ec, {}, options);
    if (!ec && v.is_object()) {
      const auto* member = v.as_object().if_contains("jwt_secret");
      if (member == nullptr || !member->is_string())
        throw secret_error("the secret is a JSON object without a \"jwt_secret\" string");
      return checked_length(std::string(member->as_string()), "its \"jwt_secret\"");
    }
  }
  return checked_length(std::string(secret_string), "the secret");
}

jwt_secrets fetch_jwt_secrets(secrets_manager_client& client, std::string_view secret_id) {
  jwt_secrets out;
  auto current = client.get_secret_string(secret_id, current_stage);
  if (!current) throw secret_error("no such secret, or it has no AWSCURRENT version (ResourceNotFoundException)");
  try {
    out.current = jwt_secret_from(*current);
  } catch (const secret_error& e) {
    throw secret_error(std::string("AWSCURRENT: ") + e.what());
  }
  if (auto previous = client.get_secret_string(secret_id, previous_stage)) {
    try {
      out.previous = jwt_secret_from(*previous);
    } catch (const secret_error& e) {
      log::warn("JWT secret: AWSPREVIOUS holds no usable key; verifying with AWSCURRENT only",
                {{"why", e.what()}});
    }
  }
  return out;
}

}  // namespace gatehouse::secrets
