#include "secrets/secret_keys.hpp"

#include "base/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::secrets {
namespace {

std::string checked_length(std::string key, std::string_view what) {
  if (key.size() < min_key_bytes) throw secret_error(std::string(what) + " is shorter than 32 bytes");
  if (key.size() > max_key_bytes) throw secret_error(std::string(what) + " is longer than 4096 bytes");
  return key;
}

}  // namespace

std::string key_from(std::string_view secret_string, std::string_view member) {
  // A plain-text key that happens to start with '{' but is no JSON object
  // stays plain text: only a whole JSON object is read as one.
  if (secret_string.size() <= max_response_bytes) {
    boost::json::parse_options options;
    options.max_depth = 8;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(secret_string, ec, {}, options);
    if (!ec && v.is_object()) {
      const auto* found = v.as_object().if_contains(member);
      if (found == nullptr || !found->is_string())
        throw secret_error("the secret is a JSON object without a \"" + std::string(member) + "\" string");
      return checked_length(std::string(found->as_string()), "its \"" + std::string(member) + "\"");
    }
  }
  return checked_length(std::string(secret_string), "the secret");
}

fetched_keys fetch_keys(secrets_manager_client& client, std::string_view secret_id, std::string_view member,
                        stages wanted) {
  fetched_keys out;
  auto current = client.get_secret_string(secret_id, current_stage);
  if (!current) throw secret_error("no such secret, or it has no AWSCURRENT version (ResourceNotFoundException)");
  try {
    out.current = key_from(*current, member);
  } catch (const secret_error& e) {
    throw secret_error(std::string("AWSCURRENT: ") + e.what());
  }
  if (wanted == stages::current_only) return out;
  if (auto previous = client.get_secret_string(secret_id, previous_stage)) {
    try {
      out.previous = key_from(*previous, member);
    } catch (const secret_error& e) {
      log::warn("secret: AWSPREVIOUS holds no usable key; verifying with AWSCURRENT only",
                {{"member", std::string(member)}, {"why", e.what()}});
    }
  }
  return out;
}

}  // namespace gatehouse::secrets
