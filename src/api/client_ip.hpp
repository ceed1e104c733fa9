#pragma once
// Which address a request came from, as the rate limits see it.
#include "http/request.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::api {

// TRUST_PROXY's range: how many proxies in front of Gatehouse append to
// X-Forwarded-For.
inline constexpr std::size_t max_trusted_hops = 10;

// The rate-limit key of one address in text form, or nullopt when `text`
// (spaces and tabs around it aside) is no address inet_pton accepts: an
// IPv4 address in dotted form ("203.0.113.7"), an IPv4-mapped IPv6
// address as that IPv4 address, any other IPv6 address as its /64
// ("2001:db8:1:2::/64": one host usually holds a whole /64, so keying
// single addresses would give it 2^64 keys). Ports, brackets, zone ids
// and host names are not addresses.
std::optional<std::string> canonical_ip(std::string_view text);

// The client's key. With `trusted_hops` = 0 (TRUST_PROXY=false) it is the
// front end's source_ip: the socket peer locally, the event's sourceIp on
// Lambda. With N trusted hops, N proxies each append the address they saw
// to X-Forwarded-For (every header of that name, in order, read as one
// list), so the entry N from the right is the one the outermost trusted
// proxy wrote; everything left of it is whatever the client sent. When
// that entry is missing (fewer than N entries: the request did not come
// through the configured chain) or is no address, the key is source_ip:
// an address the client cannot choose, where a guess (the leftmost entry,
// say) could be one it chose. Always canonical_ip's form; a source_ip
// that is no address is used lower-cased as it is.
std::string client_ip(const http::request& req, std::size_t trusted_hops);

}  // namespace gatehouse::api
