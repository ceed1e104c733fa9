#pragma once
// Translation between Beast messages and the transport-neutral
// Request/Response: the only place the two meet.
#include "http/request.hpp"
#include "http/response.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace gatehouse::server {

using beast_request = boost::beast::http::request<boost::beast::http::string_body>;
using beast_response = boost::beast::http::response<boost::beast::http::string_body>;

// Moves the body out of `in`.
http::request to_request(beast_request& in, std::string source_ip);
// The method and path only (for requests refused before their body).
http::request to_request_head(const beast_request& in, std::string source_ip);

beast_response to_beast(http::response&& res, unsigned version, bool keep_alive);

}  // namespace gatehouse::server
