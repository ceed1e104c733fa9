#pragma once
// Reading JSON request bodies the way every JSON route must: the right
// content type (415), bounded size (413), well-formed (400 invalid_json),
// an object at the top, bounded nesting, no repeated key, and no number
// longer than 64 characters or beyond a double.
#include "http/request.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace gatehouse::http {

boost::json::object parse_json_object(const request& req);

// A required string member; validation_failed naming `field` otherwise.
std::string required_string(const boost::json::object& body, std::string_view field);

// True when the content type's media type (before ';') equals `media_type`,
// ignoring case and surrounding spaces.
bool has_media_type(const request& req, std::string_view media_type);

}  // namespace gatehouse::http
