#include "jose/jws.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace gatehouse::jose {
namespace {

namespace json = boost::json;

// Our headers are under 120 bytes; a kilobyte is room for any honest issuer's.
constexpr std::size_t max_header_segment = 1024;
constexpr std::size_t max_kid_bytes = 256;

// A string member, absent, or (as nullopt) present with another type.
std::optional<std::string_view> optional_string(const json::object& header, std::string_view name) {
  const json::value* v = header.if_contains(name);
  if (v == nullptr) return std::string_view();
  if (!v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

}  // namespace

std::string sign_compact(const signing_key& key, std::string_view header_json, std::string_view payload) {
  std::string token = crypto::base64url_encode(header_json);
  token += '.';
  token += crypto::base64url_encode(payload);
  const std::string signature = key.sign(token);
  token += '.';
  token += crypto::base64url_encode(signature);
  return token;
}

std::string signer::sign(std::string_view typ, std::string_view payload) const {
  json::object header;
  header["alg"] = name_of(key_.alg());
  if (is_asymmetric(key_.alg())) header["kid"] = key_.kid();
  if (!typ.empty()) header["typ"] = typ;
  return sign_compact(key_, json::serialize(header), payload);
}

verifier::verifier(std::vector<verification_key> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw key_error("verifier: no keys");
  for (std::size_t i = 0; i < keys_.size(); ++i)
    for (std::size_t j = i + 1; j < keys_.size(); ++j)
      if (!keys_[i].kid().empty() && keys_[i].kid() == keys_[j].kid())
        throw key_error("verifier: two keys with one kid");
}

verify_result verifier::verify(std::string_view token) const noexcept {
  try {
    if (token.empty() || token.size() > max_token_bytes) return rejection::malformed;
    const auto first = token.find('.');
    if (first == std::string_view::npos) return rejection::malformed;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
      return rejection::malformed;
    const std::string_view header_segment = token.substr(0, first);
    if (header_segment.size() > max_header_segment) return rejection::malformed;
    const auto header_text = crypto::base64url_decode(header_segment);
    if (!header_text) return rejection::malformed;

    // The header is parsed into a stack buffer: no heap for the common case.
    unsigned char arena[2048];
    json::monotonic_resource resource(arena, sizeof arena);
    json::parse_options options;
    options.max_depth = 8;
    json::error_code ec;
    const json::value parsed = json::parse(*header_text, ec, &resource, options);
    if (ec || !parsed.is_object()) return rejection::bad_header;
    // A member given twice counts with its last value, as RFC 7515 4 allows
    // and as JSON.parse (so jose) reads it too: no parser differential.
    const json::object& header = parsed.get_object();

    const auto alg_name = optional_string(header, "alg");
    const auto kid = optional_string(header, "kid");
    const auto typ = optional_string(header, "typ");
    if (!alg_name || !kid || !typ || !header.contains("alg")) return rejection::bad_header;
    if (kid->size() > max_kid_bytes) return rejection::bad_header;
    const auto alg = algorithm_named(*alg_name);
    if (!alg) return rejection::unsupported_alg;
    if (header.contains("crit")) return rejection::critical_header;

    // The keys that may have signed it (see the class comment).
    std::vector<const verification_key*> candidates;
    if (header.contains("kid")) {
      const auto named = std::find_if(keys_.begin(), keys_.end(), [&](const verification_key& k) {
        return !k.kid().empty() && k.kid() == *kid;
      });
      if (named == keys_.end()) return rejection::unknown_key;
      candidates.push_back(&*named);
    } else if (*alg == algorithm::hs256) {
      for (const auto& k : keys_)
        if (k.alg() == algorithm::hs256) candidates.push_back(&k);
      if (candidates.empty()) return rejection::alg_mismatch;
    } else {
      if (keys_.size() != 1) return rejection::unknown_key;
      candidates.push_back(&keys_.front());
    }
    for (const verification_key* k : candidates)
      if (k->alg() != *alg) return rejection::alg_mismatch;

    auto payload = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
    const auto signature = crypto::base64url_decode(token.substr(second + 1));
    if (!payload || !signature) return rejection::malformed;
    const std::string_view signing_input = token.substr(0, second);
    const auto signed_by = std::find_if(candidates.begin(), candidates.end(), [&](const verification_key* k) {
      return k->verify(signing_input, *signature);
    });
    if (signed_by == candidates.end()) return rejection::bad_signature;
    return verified_token{std::move(*payload), std::string(*typ), *alg, (*signed_by)->kid()};
  } catch (...) {
    // bad_alloc or anything unforeseen: an unverifiable token, never a crash.
    return rejection::malformed;
  }
}

}  // namespace gatehouse::jose
