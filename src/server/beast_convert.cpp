#include "server/beast_convert.hpp"

#include "base/text.hpp"


namespace gatehouse::server {
namespace bhttp = boost::beast::http;

http::request to_request_head(const beast_request& in, std::string source_ip) {
  http::request out;
  out.method = std::string(in.method_string());
  const std::string_view target = in.target();
  const auto q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  out.source_ip = std::move(source_ip);
  out.headers.reserve(16);
  for (const auto& field : in) {
    out.headers.emplace_back(text::ascii_lower(field.name_string()), std::string(field.value()));
  }
  return out;
}

http::request to_request(beast_request& in, std::string source_ip) {
  http::request out = to_request_head(in, std::move(source_ip));
  out.body = std::move(in.body());
  return out;
}

beast_response to_beast(http::response&& res, unsigned version, bool keep_alive) {
  beast_response out{static_cast<bhttp::status>(res.status), version};
  // insert, not set: repeated headers (set-cookie) must all go out.
  for (auto& [name, value] : res.headers) out.insert(name, value);
  out.body() = std::move(res.body);
  out.keep_alive(keep_alive);
  // 204 and 304 carry neither a body nor a Content-Length (RFC 9110 8.6,
  // 15.4.5); an answer to HEAD has no body but the Content-Length a GET
  // would have, which its handler set.
  const bool bodiless_status =
      out.result() == bhttp::status::no_content || out.result() == bhttp::status::not_modified;
  const bool head_answer = out.body().empty() && out.has_content_length();
  if (!bodiless_status && !head_answer) out.prepare_payload();
  return out;
}

}  // namespace gatehouse::server
