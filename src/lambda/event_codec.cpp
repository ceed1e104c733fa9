#include "lambda/event_codec.hpp"
#include "base/text.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "http/pipeline.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <cstdint>

namespace gatehouse::lambda {
namespace json = boost::json;

namespace {

// API Gateway events nest about six levels deep; anything far deeper is hostile.
constexpr std::size_t max_event_depth = 24;
// Longer than any method the router knows; bounds what reaches the access log.
constexpr std::size_t max_method_length = 16;

[[noreturn]] void invalid(std::string message) {
  throw error(error_kind::invalid_argument, "invalid_event", std::move(message));
}

// Absent and JSON null are the same thing in API Gateway events (1.0 sends
// `"queryStringParameters": null` for a request without a query).
const json::value* member(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

const json::object& required_object(const json::object& obj, std::string_view key) {
  const json::value* v = member(obj, key);
  if (!v || !v->is_object()) invalid(std::string(key) + " must be an object");
  return v->as_object();
}

const json::object* optional_object(const json::object& obj, std::string_view key) {
  const json::value* v = member(obj, key);
  if (!v) return nullptr;
  if (!v->is_object()) invalid(std::string(key) + " must be an object");
  return &v->as_object();
}

std::string_view required_string(const json::object& obj, std::string_view key) {
  const json::value* v = member(obj, key);
  if (!v || !v->is_string()) invalid(std::string(key) + " must be a string");
  return v->as_string();
}

std::string_view optional_string(const json::object& obj, std::string_view key) {
  const json::value* v = member(obj, key);
  if (!v) return {};
  if (!v->is_string()) invalid(std::string(key) + " must be a string");
  return v->as_string();
}

std::string_view string_of(const json::value& v, std::string_view what) {
  if (!v.is_string()) invalid(std::string(what) + " values must be strings");
  return v.as_string();
}

json::value parse_event(std::string_view text) {
  json::parse_options options;
  options.max_depth = max_event_depth;
  json::parser parser({}, options);
  boost::system::error_code ec;
  // write() takes one complete text: trailing bytes are an error too.
  parser.write(text.data(), text.size(), ec);
  if (ec) invalid("the event is not valid JSON");
  return parser.release();
}

std::string method_of(std::string_view text) {
  if (text.empty() || text.size() > max_method_length) invalid("the HTTP method is missing or too long");
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalpha(u)) invalid("the HTTP method must be letters");
    out += static_cast<char>(std::toupper(u));
  }
  return out;
}

std::string path_of(std::string_view text) {
  if (text.empty() || text.front() != '/') invalid("the path must start with '/'");
  return std::string(text);
}

// API Gateway's REST request ids are UUIDs; HTTP API ids look like
// "LV7fzho-PHcEJPw=" (base64 with padding). Both are safe in headers and
// logs, so base64 padding is allowed on top of the sane-id alphabet:
// these ids are what lets a client's x-request-id be found in API
// Gateway's own access log.
bool usable_request_id(std::string_view id) {
  std::size_t padding = 0;
  while (padding < 2 && padding < id.size() && id[id.size() - 1 - padding] == '=') ++padding;
  return id.size() <= 128 && http::is_sane_request_id(id.substr(0, id.size() - padding));
}

std::string request_id_of(const json::object& context) {
  const std::string_view id = optional_string(context, "requestId");
  return usable_request_id(id) ? std::string(id) : crypto::uuid_v4();
}

std::string body_of(const json::object& event) {
  const std::string_view body = optional_string(event, "body");
  const json::value* encoded = member(event, "isBase64Encoded");
  if (encoded && !encoded->is_bool()) invalid("isBase64Encoded must be a boolean");
  if (!encoded || !encoded->as_bool()) return std::string(body);
  auto decoded = crypto::base64_decode(body);
  if (!decoded) invalid("the body is not valid base64");
  return std::move(*decoded);
}

void add_header(http::request& req, std::string_view name, std::string_view value) {
  req.headers.emplace_back(text::ascii_lower(name), std::string(value));
}

// Percent-encoded (RFC 3986 unreserved characters stay), so the router's
// query parsing sees what a browser would have sent.
void append_query_pair(std::string& query, std::string_view name, std::string_view value) {
  if (!query.empty()) query += '&';
  query += text::percent_encode(name);
  query += '=';
  query += text::percent_encode(value);
}

decoded_event decode_v2(const json::object& event) {
  decoded_event out;
  out.version = payload_version::v2;
  http::request& req = out.request;
  const json::object& context = required_object(event, "requestContext");
  const json::object& http_context = required_object(context, "http");
  req.method = method_of(required_string(http_context, "method"));
  req.source_ip = std::string(optional_string(http_context, "sourceIp"));
  req.path = path_of(required_string(event, "rawPath"));
  req.query = std::string(optional_string(event, "rawQueryString"));

  // Payload 2.0 headers are single-valued already (repeats comma-joined).
  if (const json::object* headers = optional_object(event, "headers"))
    for (const auto& [name, value] : *headers) add_header(req, name, string_of(value, "headers"));

  // 2.0 moves Cookie headers into `cookies`; handlers expect one Cookie header.
  if (const json::value* cookies = member(event, "cookies")) {
    if (!cookies->is_array()) invalid("cookies must be an array");
    std::string joined;
    for (const json::value& c : cookies->as_array()) {
      if (!joined.empty()) joined += "; ";
      joined += string_of(c, "cookies");
    }
    if (!joined.empty()) add_header(req, "cookie", joined);
  }

  req.body = body_of(event);
  req.request_id = request_id_of(context);
  return out;
}

std::string query_of_v1(const json::object& event) {
  std::string query;
  if (const json::object* multi = optional_object(event, "multiValueQueryStringParameters")) {
    for (const auto& [name, values] : *multi) {
      if (!values.is_array()) invalid("multiValueQueryStringParameters values must be arrays");
      for (const json::value& v : values.as_array())
        append_query_pair(query, name, string_of(v, "multiValueQueryStringParameters"));
    }
    return query;
  }
  if (const json::object* single = optional_object(event, "queryStringParameters"))
    for (const auto& [name, value] : *single)
      append_query_pair(query, name, string_of(value, "queryStringParameters"));
  return query;
}

decoded_event decode_v1(const json::object& event) {
  decoded_event out;
  out.version = payload_version::v1;
  http::request& req = out.request;
  const json::object& context = required_object(event, "requestContext");
  req.method = method_of(required_string(event, "httpMethod"));
  // `path` is what the client asked for (without a custom domain's base
  // path mapping); requestContext.path would add the stage name.
  req.path = path_of(required_string(event, "path"));
  req.query = query_of_v1(event);

  // multiValueHeaders holds every value of a repeated header; `headers` only the last.
  if (const json::object* multi = optional_object(event, "multiValueHeaders")) {
    for (const auto& [name, values] : *multi) {
      if (!values.is_array()) invalid("multiValueHeaders values must be arrays");
      for (const json::value& v : values.as_array()) add_header(req, name, string_of(v, "multiValueHeaders"));
    }
  } else if (const json::object* headers = optional_object(event, "headers")) {
    for (const auto& [name, value] : *headers) add_header(req, name, string_of(value, "headers"));
  }

  if (const json::object* identity = optional_object(context, "identity"))
    req.source_ip = std::string(optional_string(*identity, "sourceIp"));
  req.body = body_of(event);
  req.request_id = request_id_of(context);
  return out;
}


// JSON and text/* bodies go as text; everything else (served images) as base64.
bool is_textual(std::string_view content_type) {
  const std::string type = text::ascii_lower(content_type.substr(0, content_type.find(';')));
  std::string_view t = type;
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return t.rfind("text/", 0) == 0 || t == "application/json" ||
         (t.rfind("application/", 0) == 0 && t.size() > 5 && t.substr(t.size() - 5) == "+json");
}

void set_body(json::object& doc, const http::response& res) {
  const auto type = res.header("content-type");
  if (res.body.empty() || (type && is_textual(*type) && text::is_valid_utf8(res.body))) {
    doc["body"] = res.body;
    doc["isBase64Encoded"] = false;
  } else {
    doc["body"] = crypto::base64_encode(res.body);
    doc["isBase64Encoded"] = true;
  }
}

}  // namespace

decoded_event decode_event(std::string_view event_json) {
  const json::value root = parse_event(event_json);
  if (!root.is_object()) invalid("the event must be a JSON object");
  const json::object& event = root.as_object();
  const std::string_view version = optional_string(event, "version");
  if (version == "2.0") return decode_v2(event);
  // REST API proxy events carry no version; HTTP API payload 1.0 says "1.0".
  if (version.empty() || version == "1.0") return decode_v1(event);
  invalid("unknown payload version");
}

std::string encode_response(const http::response& res, payload_version version) {
  json::object doc;
  doc["statusCode"] = res.status;
  json::object headers;
  json::array cookies;
  json::object multi;
  for (const auto& [name, value] : res.headers) {
    if (version == payload_version::v2 && name == "set-cookie") {
      cookies.emplace_back(value);
      continue;
    }
    if (version == payload_version::v2) {
      // 2.0 headers are single-valued: repeats are comma-joined, as HTTP allows.
      if (auto* existing = headers.if_contains(name)) {
        json::string& joined = existing->as_string();
        joined.append(", ");
        joined.append(value);
      } else {
        headers[name] = value;
      }
      continue;
    }
    // 1.0: a repeated header moves to multiValueHeaders with all its values.
    if (auto* values = multi.if_contains(name)) {
      values->as_array().emplace_back(value);
    } else if (auto* first = headers.if_contains(name)) {
      json::array all{*first, json::value(value)};
      headers.erase(name);
      multi[name] = std::move(all);
    } else {
      headers[name] = value;
    }
  }
  doc["headers"] = std::move(headers);
  if (!multi.empty()) doc["multiValueHeaders"] = std::move(multi);
  if (!cookies.empty()) doc["cookies"] = std::move(cookies);
  set_body(doc, res);
  return json::serialize(doc);
}

}  // namespace gatehouse::lambda
