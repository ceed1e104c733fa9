#pragma once
// Composing a mail: RFC 5322 headers, a multipart/alternative body with a
// text and an HTML part (RFC 2045/2046), every header encoded so that no
// field a user controls (a name, an address) can add a header or break a
// line (RFC 2047 encoded-words for anything outside printable ASCII).
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
// dot-separated labels of letters, digits and hyphens. The sign-up rules
// (users/validation) admit nothing this refuses.
bool is_safe_address(std::string_view address);

// "Name <a@b.c>" or "a@b.c" (MAIL_FROM). nullopt when the address is not
// safe or the name holds a control character.
std::optional<mailbox> parse_mailbox(std::string_view text);

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
composed compose(const message& m, std::int64_t unix_seconds);

}  // namespace gatehouse::mail
