#pragma once
// DynamoDB's typed attribute values ({"S": "..."}, {"N": "..."}), read
// defensively: items written by other programs may lack or mistype fields.
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::dynamodb {

boost::json::object string_value(std::string_view s);
boost::json::object number_value(std::int64_t n);
boost::json::object bool_value(bool b);

// The string of attribute `name` in `item`, when it is there as {"S": ...}.
std::optional<std::string> get_string(const boost::json::object& item, std::string_view name);
std::optional<std::int64_t> get_number(const boost::json::object& item, std::string_view name);
std::optional<bool> get_bool(const boost::json::object& item, std::string_view name);

}  // namespace gatehouse::dynamodb
