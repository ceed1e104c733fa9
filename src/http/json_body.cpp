#include "http/json_body.hpp"
#include "base/text.hpp"

#include "base/error.hpp"
#include "http/router.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/monotonic_resource.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::http {
namespace {
using text::trim;

constexpr std::size_t max_depth = 32;  // our bodies are flat; deep nesting is an attack
// No body of ours holds a number at all; a double round-trips in 17
// significant digits, so 64 characters leave room for signs, zeros and
// exponents while a 10,000-digit literal is refused.
constexpr std::size_t max_number_chars = 64;

// What Boost.JSON's DOM parser lets through silently, found by a second
// pass over the (already well-formed) body with its SAX parser:
// - a repeated key, of which the DOM keeps the last, so two readers of one
//   body (a proxy, a log, this service) could act on different values;
// - a number too long, or too large for a double, which the DOM reads as
//   Infinity.
class body_checker {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  const char* problem() const { return problem_; }

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) {
    keys_.emplace_back();  // at most max_depth levels: the parser enforces it
    return true;
  }
  bool on_object_end(std::size_t, boost::json::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  // Keys arrive unescaped, so "email" and "\u0065mail" are the same key.
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
    key_.append(s.data(), s.size());
    const bool fresh = keys_.back().insert(std::move(key_)).second;
    key_.clear();
    return fresh || fail(ec, "the body repeats a key");
  }
  bool on_number_part(boost::json::string_view s, boost::json::error_code& ec) { return count(s, ec); }
  bool on_int64(std::int64_t, boost::json::string_view s, boost::json::error_code& ec) { return end_number(s, ec); }
  bool on_uint64(std::uint64_t, boost::json::string_view s, boost::json::error_code& ec) {
    return end_number(s, ec);
  }
  bool on_double(double d, boost::json::string_view s, boost::json::error_code& ec) {
    if (!std::isfinite(d)) return fail(ec, "the body has a number out of range");
    return end_number(s, ec);
  }
  bool on_bool(bool, boost::json::error_code&) { return true; }
  bool on_null(boost::json::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  bool fail(boost::json::error_code& ec, const char* why) {
    problem_ = why;
    ec = boost::json::make_error_code(boost::json::error::syntax);
    return false;
  }
  bool count(boost::json::string_view s, boost::json::error_code& ec) {
    number_chars_ += s.size();
    return number_chars_ <= max_number_chars || fail(ec, "the body has a number that is too long");
  }
  bool end_number(boost::json::string_view s, boost::json::error_code& ec) {
    const bool ok = count(s, ec);
    number_chars_ = 0;
    return ok;
  }

  std::vector<std::set<std::string, std::less<>>> keys_;  // one per open object
  std::string key_;
  std::size_t number_chars_ = 0;
  const char* problem_ = nullptr;
};

}  // namespace

bool has_media_type(const request& req, std::string_view media_type) {
  const auto type = req.header("content-type");
  if (!type) return false;
  const std::string_view base = trim(type->substr(0, type->find(';')));
  return text::ascii_iequals(base, media_type);
}

boost::json::object parse_json_object(const request& req) {
  if (!has_media_type(req, "application/json"))
    throw error(error_kind::unsupported_media_type, "unsupported_media_type",
                "this route takes application/json");
  if (req.body.size() > default_json_body_limit)
    throw error(error_kind::payload_too_large, "payload_too_large",
                "JSON bodies are limited to 64 KiB");

  boost::json::parse_options options;
  options.max_depth = max_depth;
  boost::json::parser parser({}, options);
  boost::system::error_code ec;
  parser.write(req.body.data(), req.body.size(), ec);
  if (ec) throw error(error_kind::invalid_argument, "invalid_json", "the body is not valid JSON");
  boost::json::value value = parser.release();
  if (!value.is_object())
    throw error(error_kind::invalid_argument, "invalid_json", "the body must be a JSON object");

  boost::json::basic_parser<body_checker> checker(options);
  checker.write_some(false, req.body.data(), req.body.size(), ec);
  if (const char* problem = checker.handler().problem())
    throw error(error_kind::invalid_argument, "invalid_json", problem);
  return std::move(value.as_object());
}

std::string required_string(const boost::json::object& body, std::string_view field) {
  const auto* v = body.if_contains(field);
  if (!v || !v->is_string())
    throw validation_failed(std::string(field), std::string(field) + " is required and must be a string");
  return std::string(v->as_string());
}

}  // namespace gatehouse::http
