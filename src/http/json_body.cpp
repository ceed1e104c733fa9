#include "http/json_body.hpp"
#include "base/text.hpp"

#include "base/error.hpp"
#include "http/router.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/monotonic_resource.hpp>

#include <algorithm>
#include <cctype>

namespace gatehouse::http {
namespace {
using text::trim;
}  // namespace

bool has_media_type(const request& req, std::string_view media_type) {
  const auto type = req.header("content-type");
  if (!type) return false;
  const std::string_view base = trim(type->substr(0, type->find(';')));
  return std::equal(base.begin(), base.end(), media_type.begin(), media_type.end(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

boost::json::object parse_json_object(const request& req) {
  if (!has_media_type(req, "application/json"))
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "this route takes application/json");
  if (req.body.size() > default_json_body_limit)
    throw error(error_kind::payload_too_large, "payload_too_large",
                "JSON bodies are limited to 64 KiB");

  boost::json::parse_options options;
  options.max_depth = 32;  // our bodies are flat; deep nesting is an attack
  boost::json::parser parser({}, options);
  boost::system::error_code ec;
  parser.write(req.body.data(), req.body.size(), ec);
  if (ec) throw error(error_kind::invalid_argument, "invalid_json", "the body is not valid JSON");
  boost::json::value value = parser.release();
  if (!value.is_object())
    throw error(error_kind::invalid_argument, "invalid_json", "the body must be a JSON object");
  return std::move(value.as_object());
}

std::string required_string(const boost::json::object& body, std::string_view field) {
  const auto* v = body.if_contains(field);
  if (!v || !v->is_string())
    throw validation_failed(std::string(field), std::string(field) + " is required and must be a string");
  return std::string(v->as_string());
}

}  // namespace gatehouse::http
