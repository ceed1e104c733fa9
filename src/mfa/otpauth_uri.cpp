#include "mfa/otpauth_uri.hpp"

#include "base/text.hpp"
#include "mfa/base32.hpp"
#include "mfa/hotp.hpp"
#include "mfa/totp.hpp"

#include <stdexcept>

namespace gatehouse::mfa {
namespace {

// Strict UTF-8 without C0, DEL or C1 controls: such a name would show as
// nothing, or as something else, in the app.
bool is_printable_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto cp = text::utf8_at(s, i);
    if (!cp || cp->value < 0x20 || (cp->value >= 0x7F && cp->value <= 0x9F)) return false;
    i += cp->length;
  }
  return true;
}

void check_name(std::string_view value, std::size_t max_bytes, const char* what) {
  if (value.empty() || value.size() > max_bytes || !is_printable_utf8(value))
    throw std::invalid_argument(std::string("otpauth_uri: the ") + what +
                                " must be 1 to " + std::to_string(max_bytes) +
                                " bytes of UTF-8 without control characters");
}

}  // namespace

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  check_name(issuer, max_issuer_bytes, "issuer");
  check_name(account, max_account_bytes, "account");
  if (issuer.find(':') != std::string_view::npos)
    throw std::invalid_argument("otpauth_uri: the issuer must not contain a colon");
  if (secret.empty() || secret.size() > max_secret_bytes)
    throw std::invalid_argument("otpauth_uri: the secret must be 1 to 64 bytes");
  const std::string encoded_issuer = text::percent_encode(issuer);
  // Algorithm, digits and period are the defaults, written out all the
  // same: some apps ignore what is absent, none misread what is present.
  return "otpauth://totp/" + encoded_issuer + ':' + text::percent_encode(account) +
         "?secret=" + base32_encode(secret) + "&issuer=" + encoded_issuer + "&algorithm=SHA1&digits=" +
         std::to_string(totp_digits) + "&period=" + std::to_string(totp_period_seconds);
}

}  // namespace gatehouse::mfa
