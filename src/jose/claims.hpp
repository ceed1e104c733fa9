#pragma once
// The claim rules of an access token (API.md "Access tokens (v1, extended)"),
// applied to a token whose signature jws.hpp's verifier has checked.
#include "jose/jws.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::jose {

struct claim_rules {
  // `iss` must equal it; nullopt skips the check.
  std::optional<std::string> issuer;
  // When set, `aud` must be this string or an array containing it.
  std::optional<std::string> audience;
  // The Node.js original's tokens (LEGACY_JWT_SECRET) carry neither: with
  // this set, a token without `iss` (or `aud`) passes, and one that has it
  // must still carry ours.
  bool allow_missing_issuer_and_audience = false;
  std::int64_t leeway_seconds = 30;
  // Header `typ` values accepted, compared as RFC 8725 3.11 suggests: case
  // aside and with an optional "application/" prefix. A token without typ
  // is accepted (v1 and Node.js tokens have "JWT" or none).
  std::vector<std::string> types{"at+jwt", "jwt"};
};

enum class claim_failure {
  not_an_object,   // the payload is not a JSON object
  expired,         // exp missing, not an integer, or more than the leeway in the past
  not_yet_valid,   // iat or nbf more than the leeway in the future (or not integers)
  wrong_issuer,
  wrong_audience,  // aud missing, malformed, or without ours, when an audience is required
  wrong_type,      // the header's typ is not one of the accepted types
};

class claims_result {
 public:
  claims_result(boost::json::object claims) : claims_(std::move(claims)) {}
  claims_result(claim_failure why) : why_(why) {}
  explicit operator bool() const noexcept { return claims_.has_value(); }
  const boost::json::object& claims() const { return claims_.value(); }
  claim_failure why() const noexcept { return why_; }

 private:
  std::optional<boost::json::object> claims_;
  claim_failure why_ = claim_failure::not_an_object;
};

// The integer claim `name` of `claims`; nullopt when absent or not an
// integer (1.0, 1e9 and numbers beyond int64 are not rounded into one).
std::optional<std::int64_t> integer_claim(const boost::json::object& claims, std::string_view name) noexcept;

// The payload's claims if `token` meets `rules` at `now` (seconds since the
// epoch). Never throws. jti, sid and role are not required (API.md).
claims_result check_claims(const verified_token& token, std::int64_t now, const claim_rules& rules) noexcept;

}  // namespace gatehouse::jose
