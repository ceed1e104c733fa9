#include "http/entity_tags.hpp"

#include "base/text.hpp"
#include "crypto/crypto.hpp"

namespace gatehouse::http {

std::string entity_tag_of(std::string_view bytes) {
  return "\"" + crypto::to_hex(crypto::sha256(bytes)).substr(0, 32) + "\"";
}

bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view tag = text::trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

}  // namespace gatehouse::http
