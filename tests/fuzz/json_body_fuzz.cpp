// A JSON request body through parse_json_object, then every string member
// through the validators the routes apply to names, e-mails and passwords.
#include "base/error.hpp"
#include "http/json_body.hpp"
#include "http/request.hpp"
#include "users/validation.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  http::request req;
  req.method = "POST";
  req.path = "/auth/signup";
  req.headers = {{"content-type", "application/json"}};
  req.body.assign(reinterpret_cast<const char*>(data), size);
  boost::json::object body;
  try {
    body = http::parse_json_object(req);
  } catch (const error&) {
    return 0;  // invalid_json / payload_too_large: the documented refusals
  }
  for (const auto& member : body) {
    const auto* text = member.value().if_string();
    if (!text) continue;
    try { (void)users::normalize_name(*text); } catch (const error&) {}
    try { (void)users::normalize_email(*text); } catch (const error&) {}
    try { users::check_password(*text); } catch (const error&) {}
  }
  return 0;
}
