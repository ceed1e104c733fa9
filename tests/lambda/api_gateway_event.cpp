#include "api_gateway_event.hpp"

#include "crypto/crypto.hpp"

#include <boost/json.hpp>

namespace gatehouse::testing {
namespace json = boost::json;

std::string to_event(const v2_request& r) {
  json::object headers;
  for (const auto& [k, v] : r.headers) headers[k] = v;
  json::object event{
      {"version", "2.0"},
      {"routeKey", "$default"},
      {"rawPath", r.path},
      {"rawQueryString", r.query},
      {"headers", headers},
      {"requestContext",
       json::object{{"accountId", "123456789012"},
                    {"apiId", "gatehouse"},
                    {"domainName", "gatehouse.execute-api.eu-west-1.amazonaws.com"},
                    {"requestId", r.request_id},
                    {"routeKey", "$default"},
                    {"stage", "$default"},
                    {"http", json::object{{"method", r.method},
                                          {"path", r.path},
                                          {"protocol", "HTTP/1.1"},
                                          {"sourceIp", r.source_ip},
                                          {"userAgent", r.user_agent}}}}},
      {"isBase64Encoded", r.binary}};
  if (!r.body.empty()) event["body"] = r.binary ? crypto::base64_encode(r.body) : r.body;
  if (!r.cookies.empty()) {
    json::array c;
    for (const auto& s : r.cookies) c.emplace_back(s);
    event["cookies"] = std::move(c);
  }
  return json::serialize(event);
}

}  // namespace gatehouse::testing
