#include "dynamodb/attribute_values.hpp"

#include <charconv>

namespace gatehouse::dynamodb {

boost::json::object string_value(std::string_view s) { return {{"S", s}}; }

boost::json::object number_value(std::int64_t n) { return {{"N", std::to_string(n)}}; }

std::optional<std::string> get_string(const boost::json::object& item, std::string_view name) {
  const auto* attr = item.if_contains(name);
  if (!attr || !attr->is_object()) return std::nullopt;
  const auto* s = attr->as_object().if_contains("S");
  if (!s || !s->is_string()) return std::nullopt;
  return std::string(s->as_string());
}

std::optional<std::int64_t> get_number(const boost::json::object& item, std::string_view name) {
  const auto* attr = item.if_contains(name);
  if (!attr || !attr->is_object()) return std::nullopt;
  const auto* n = attr->as_object().if_contains("N");
  if (!n || !n->is_string()) return std::nullopt;
  const std::string_view text = n->as_string();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

boost::json::object bool_value(bool b) { return {{"BOOL", b}}; }

std::optional<bool> get_bool(const boost::json::object& item, std::string_view name) {
  const auto* attr = item.if_contains(name);
  if (!attr || !attr->is_object()) return std::nullopt;
  const auto* b = attr->as_object().if_contains("BOOL");
  if (!b || !b->is_bool()) return std::nullopt;
  return b->as_bool();
}

}  // namespace gatehouse::dynamodb
