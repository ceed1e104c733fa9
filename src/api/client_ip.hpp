#pragma once
// Which address a request came from, as the rate limits see it.
#include "http/request.hpp"

#include <string>

namespace gatehouse::api {

// The front end's source_ip (the socket peer locally, the event's sourceIp
// on Lambda), unless `trust_proxy`: then the first address of the first
// X-Forwarded-For header, which a proxy that sets the header (rather than
// appending to what the client sent) makes the client's. A first entry
// that is no plausible IP address (1..45 characters of hex digits, '.' and
// ':') is ignored in favour of source_ip. Lower-cased, so one IPv6 address
// is one key.
std::string client_ip(const http::request& req, bool trust_proxy);

}  // namespace gatehouse::api
