#pragma once
// The otpauth:// URI an authenticator app scans (from a QR code) or is
// handed, in the form of Google Authenticator's "Key Uri Format", which
// 1Password, Authy and the otpauth npm package read too:
//
//   otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded as RFC 3986 asks (every byte but
// A-Z a-z 0-9 - . _ ~, so '@' is %40, '+' %2B, a space %20, never '+', and
// UTF-8 byte by byte). The issuer stands both in the label, for apps that
// read only the label, and as the parameter, which the format recommends.
// The secret is the app's to keep: the URI is shown once, at enrolment,
// and never logged.
#include <cstddef>
#include <string>
#include <string_view>

namespace gatehouse::mfa {

// What an app shows in its list; longer names would only swell the QR code.
inline constexpr std::size_t max_issuer_bytes = 100;
inline constexpr std::size_t max_account_bytes = 254;  // users::max_email_bytes

// The URI for `secret` (raw bytes, 1..64) of `account` (e.g. the user's
// e-mail) at `issuer` (e.g. APP_NAME). Both must be non-empty strict UTF-8
// without control characters, within the sizes above, and the issuer
// without ':' (apps split the label at its first colon, encoded or not,
// so a colon in the account after it is fine). std::invalid_argument
// otherwise, naming the field, never the secret.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace gatehouse::mfa
