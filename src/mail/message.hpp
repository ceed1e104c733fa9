#pragma once
// Composing a mail: RFC 5322 headers, a multipart/alternative body with a
// text and an HTML part (RFC 2045/2046), every header encoded so that no
// field a user controls (a name, an address) can add a header or break a
// line (RFC 2047 encoded-words for anything outside printable ASCII).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::mail {

// "Display Name <local@domain>". The name may be any UTF-8 (it is encoded
// on the way out); the address is checked by is_safe_address.
struct mailbox {
  std::string display_name;
  std::string address;
};

// An address that may travel in an SMTP envelope and a header as it is:
// local@domain, 3..254 bytes, printable ASCII without spaces, controls,
// quotes, angle brackets, commas, semicolons, parentheses or backslashes,
// exactly one '@' with a non-empty part either side, the domain made of
// dot-separated labels of letters, digits and hyphens. Sign-up admits
// more (users/validation: UTF-8 and quotes in the local part, as RFC 6531
// allows); mail to such an address is refused here, before any byte is
// sent, and the mailer logs it as not sent: no transport speaks SMTPUTF8.
bool is_safe_address(std::string_view address);

// "Name <a@b.c>" or "a@b.c" (MAIL_FROM). nullopt when the address is not
// safe or the name holds a control character.
// (Also: the name may be a quoted-string, "\"Name\" <a@b.c>", whose quotes
// and backslash escapes are removed; nullopt when the name is not valid
// UTF-8 or is longer than max_header_text_bytes. Spaces around the name
// and the whole text are dropped.)
std::optional<mailbox> parse_mailbox(std::string_view text);

// Bounds compose() enforces before it allocates anything (it throws
// std::invalid_argument beyond them): a display name or the subject, and
// the text or the HTML part. Gatehouse's own letters are far smaller.
inline constexpr std::size_t max_header_text_bytes = 4096;
inline constexpr std::size_t max_part_bytes = 2 * 1024 * 1024;

struct message {
  mailbox from;
  mailbox to;
  std::string subject;  // UTF-8, one line
  std::string text;     // the text/plain part, UTF-8, '\n' line ends
  std::string html;     // the text/html part, UTF-8 (already escaped by the caller)
  // RFC 3834: "auto-generated" on everything Gatehouse sends.
  std::string auto_submitted = "auto-generated";
};

struct composed {
  std::string data;        // the whole message, CRLF line ends, every line at most 998 bytes
  std::string message_id;  // <random@domain of from>, without the brackets
};

// The message as bytes to hand a transport: Date (RFC 5322 in UTC, from
// `unix_seconds`), From, To, Subject, Message-ID (random), MIME-Version,
// Auto-Submitted, then the two parts, each quoted-printable when it needs
// to be (non-ASCII or long lines) and 7bit otherwise. Throws
// std::invalid_argument when an address is not safe.
// (Also throws std::invalid_argument beyond the bounds above, for a time
// outside 1970..9999, and for an auto_submitted that is not 1..200 bytes
// of printable ASCII.)
//
// What a reader sees of a name and the subject is
// mime::sanitize_header_text of it (mail/mime_encoding.hpp): invalid UTF-8
// becomes U+FFFD, control characters (CR and LF included) become spaces,
// outer spaces go; the result is a quoted-string when it is short
// printable ASCII without '"', '\\' or "=?", and RFC 2047 encoded-words
// otherwise. Text and HTML: "\r\n" and a lone '\r' count as '\n'.
composed compose(const message& m, std::int64_t unix_seconds);

}  // namespace gatehouse::mail
