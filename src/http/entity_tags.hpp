#pragma once
// Entity tags (RFC 9110 8.8.3) and If-None-Match, for the answers that are
// the same bytes until the process restarts: the embedded files, the JWKS.
#include <string>
#include <string_view>

namespace gatehouse::http {

// A strong tag for `bytes`, quoted: 32 hex digits of their SHA-256.
std::string entity_tag_of(std::string_view bytes);

// Whether an If-None-Match header ("*" or a comma-separated list of tags)
// names `etag`, compared weakly (RFC 9110 13.1.2), so W/"x" matches "x".
bool none_match_hits(std::string_view if_none_match, std::string_view etag);

}  // namespace gatehouse::http
