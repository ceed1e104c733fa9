#include "auth/jwt.hpp"

#include "crypto/crypto.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace gatehouse::auth {
namespace {

namespace json = boost::json;

// The one header we write; `verify` accepts any header object that says the same.
constexpr std::string_view signed_header = R"({"alg":"HS256","typ":"JWT"})";

// Our tokens are a few hundred bytes; anything near this is an attack.
constexpr std::size_t max_token_bytes = 8 * 1024;
constexpr std::size_t hs256_signature_bytes = 32;

std::string signature_of(std::string_view secret, std::string_view signing_input) {
  return crypto::base64url_encode(crypto::as_bytes(crypto::hmac_sha256(secret, signing_input)));
}

// A JSON object or nothing; never throws on any input.
std::optional<json::object> parse_object(std::string_view text) {
  json::parse_options options;
  options.max_depth = 4;  // claims are flat; nesting is only ever hostile
  json::error_code ec;
  json::value v = json::parse(text, ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

const json::string* string_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

// Integers only: 1.0, 1e9 and out-of-range numbers parse as doubles (or
// uint64 beyond int64) and are refused rather than rounded.
std::optional<std::int64_t> integer_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = v->if_int64()) return *i;
  if (const auto* u = v->if_uint64();
      u != nullptr && *u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(*u);
  return std::nullopt;
}

// exp and iat come from the token, so `exp + leeway` must not overflow.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  if (b > 0 && a > max - b) return max;
  if (b < 0 && a < min - b) return min;
  return a + b;
}

bool acceptable_header(const json::object& header) {
  const json::string* alg = string_member(header, "alg");
  if (alg == nullptr || *alg != "HS256") return false;
  // We understand no extensions, and RFC 7515 4.1.11 says to reject what we
  // do not understand.
  if (header.contains("crit")) return false;
  if (const json::value* typ = header.if_contains("typ")) {
    const json::string* s = typ->if_string();
    if (s == nullptr || *s != "JWT") return false;
  }
  return true;
}

}  // namespace

jwt_codec::jwt_codec(std::string secret, std::string issuer)
    : jwt_codec(std::move(secret), {}, std::move(issuer)) {}

jwt_codec::jwt_codec(std::string current, std::vector<std::string> previous, std::string issuer)
    : issuer_(std::move(issuer)) {
  keys_.reserve(1 + previous.size());
  keys_.push_back(std::move(current));
  for (auto& key : previous) {
    // A stage that holds the same value as another (a secret put twice
    // unchanged) would only cost a second HMAC on every bad token.
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.push_back(std::move(key));
  }
  for (const auto& key : keys_)
    if (key.size() < 32) throw std::invalid_argument("JWT secret must be at least 32 bytes");
}

std::string jwt_codec::sign(const access_claims& claims) const {
  // Insertion order is kept, so the payload reads like the Node.js version's.
  json::object payload;
  payload["sub"] = claims.user_id;
  payload["userId"] = claims.user_id;
  payload["email"] = claims.email;
  payload["iat"] = claims.issued_at;
  payload["exp"] = claims.expires_at;
  payload["iss"] = issuer_;
  std::string token = crypto::base64url_encode(signed_header);
  token += '.';
  token += crypto::base64url_encode(json::serialize(payload));
  const std::string signature = signature_of(keys_.front(), token);
  token += '.';
  token += signature;
  return token;
}

std::optional<access_claims> jwt_codec::verify(std::string_view token, std::int64_t now,
                                               std::int64_t leeway_seconds) const {
  try {
    if (token.empty() || token.size() > max_token_bytes) return std::nullopt;
    const auto first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
      return std::nullopt;

    const auto header_text = crypto::base64url_decode(token.substr(0, first));
    const auto payload_text = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
    const auto signature = crypto::base64url_decode(token.substr(second + 1));
    if (!header_text || !payload_text || !signature) return std::nullopt;

    // The signature is checked before any JSON is parsed: the parser then
    // only ever sees bytes we signed ourselves, which also rules out
    // duplicate-key tricks ({"alg":"HS256","alg":"none"}) in forged tokens.
    // The header is still checked afterwards, so a token is valid only if
    // it says HS256 and is HS256.
    // The current key first: after a rotation, tokens signed with the
    // previous one only remain until they expire.
    if (signature->size() != hs256_signature_bytes) return std::nullopt;
    const std::string_view signing_input = token.substr(0, second);
    const bool signed_by_a_key = std::any_of(keys_.begin(), keys_.end(), [&](const std::string& key) {
      return crypto::constant_time_equal(*signature, crypto::as_bytes(crypto::hmac_sha256(key, signing_input)));
    });
    if (!signed_by_a_key) return std::nullopt;

    const auto header = parse_object(*header_text);
    if (!header || !acceptable_header(*header)) return std::nullopt;

    const auto payload = parse_object(*payload_text);
    if (!payload) return std::nullopt;
    const json::string* sub = string_member(*payload, "sub");
    const json::string* email = string_member(*payload, "email");
    const json::string* iss = string_member(*payload, "iss");
    const auto iat = integer_member(*payload, "iat");
    const auto exp = integer_member(*payload, "exp");
    if (sub == nullptr || sub->empty() || email == nullptr || iss == nullptr || !iat || !exp)
      return std::nullopt;
    if (*iss != issuer_) return std::nullopt;
    if (const json::value* user_id = payload->if_contains("userId")) {
      const json::string* s = user_id->if_string();
      if (s == nullptr || *s != *sub) return std::nullopt;
    }

    const std::int64_t leeway = std::max<std::int64_t>(leeway_seconds, 0);
    if (now > saturating_add(*exp, leeway)) return std::nullopt;
    if (*iat > saturating_add(now, leeway)) return std::nullopt;  // issued in the future

    return access_claims{std::string(*sub), std::string(*email), *iat, *exp};
  } catch (...) {
    // bad_alloc or anything unforeseen: an unverifiable token, never a crash.
    return std::nullopt;
  }
}

}  // namespace gatehouse::auth
