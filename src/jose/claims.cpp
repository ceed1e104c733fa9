#include "jose/claims.hpp"

#include "base/saturating.hpp"
#include "base/text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <limits>

namespace gatehouse::jose {
namespace {

namespace json = boost::json;

// "application/at+jwt" and "AT+JWT" are "at+jwt" (RFC 8725 3.11, RFC 7515 4.1.9).
std::string normalized_type(std::string_view typ) {
  std::string t = text::ascii_lower(typ);
  constexpr std::string_view prefix = "application/";
  if (t.size() > prefix.size() && t.compare(0, prefix.size(), prefix) == 0) t.erase(0, prefix.size());
  return t;
}

bool has_audience(const json::value& aud, std::string_view ours) {
  if (const auto* s = aud.if_string()) return *s == ours;
  if (const auto* list = aud.if_array())
    return std::any_of(list->begin(), list->end(), [&](const json::value& v) {
      return v.is_string() && v.get_string() == ours;
    });
  return false;
}

}  // namespace

// Integers only: 1.0, 1e9 and out-of-range numbers parse as doubles (or
// uint64 beyond int64) and are refused rather than rounded.
std::optional<std::int64_t> integer_claim(const boost::json::object& claims, std::string_view name) noexcept {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = v->if_int64()) return *i;
  if (const auto* u = v->if_uint64();
      u != nullptr && *u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(*u);
  return std::nullopt;
}

claims_result check_claims(const verified_token& token, std::int64_t now, const claim_rules& rules) noexcept {
  try {
    if (!token.typ.empty()) {
      const std::string typ = normalized_type(token.typ);
      if (std::none_of(rules.types.begin(), rules.types.end(),
                       [&](const std::string& t) { return normalized_type(t) == typ; }))
        return claim_failure::wrong_type;
    }

    json::parse_options options;
    options.max_depth = 8;  // claims are flat; aud is the one array
    json::error_code ec;
    json::value parsed = json::parse(token.payload, ec, {}, options);
    if (ec || !parsed.is_object()) return claim_failure::not_an_object;
    json::object& claims = parsed.get_object();

    const std::int64_t leeway = std::max<std::int64_t>(rules.leeway_seconds, 0);
    const auto expires = integer_claim(claims, "exp");
    if (!expires || now > saturating_add(*expires, leeway)) return claim_failure::expired;
    for (const char* name : {"iat", "nbf"}) {
      if (!claims.contains(name)) continue;
      const auto at = integer_claim(claims, name);
      if (!at || *at > saturating_add(now, leeway)) return claim_failure::not_yet_valid;
    }

    if (rules.issuer) {
      const json::value* iss = claims.if_contains("iss");
      const bool excused = iss == nullptr && rules.allow_missing_issuer_and_audience;
      if (!excused && (iss == nullptr || !iss->is_string() || iss->get_string() != *rules.issuer))
        return claim_failure::wrong_issuer;
    }
    if (rules.audience) {
      const json::value* aud = claims.if_contains("aud");
      const bool excused = aud == nullptr && rules.allow_missing_issuer_and_audience;
      if (!excused && (aud == nullptr || !has_audience(*aud, *rules.audience))) return claim_failure::wrong_audience;
    }
    return std::move(claims);
  } catch (...) {
    return claim_failure::not_an_object;
  }
}

}  // namespace gatehouse::jose
