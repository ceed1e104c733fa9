#include "mail/message.hpp"

#include "base/text.hpp"
#include "base/utc_time.hpp"
#include "crypto/crypto.hpp"
#include "mail/mime_encoding.hpp"

#include <cstdio>
#include <stdexcept>
#include <vector>

namespace gatehouse::mail {
namespace {

constexpr std::size_t min_address_bytes = 3;
constexpr std::size_t max_address_bytes = 254;
constexpr std::size_t max_auto_submitted_bytes = 200;
// The longest quoted name kept as a quoted-string: with "From: " and the
// quotes it stays within one 78-byte line, so it never needs folding
// (a quoted-string can be folded only at its own spaces).
constexpr std::size_t max_quoted_name_bytes = 60;
constexpr std::size_t max_plain_subject_bytes = mime::preferred_line_bytes - sizeof("Subject: ") + 1;
constexpr std::size_t message_id_random_bytes = 16;
constexpr std::size_t boundary_random_bytes = 12;

bool is_letter_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_safe_domain(std::string_view domain) {
  if (domain.empty()) return false;
  std::size_t label = 0;
  for (const char c : domain) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_letter_or_digit(c) || c == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return label != 0;
}

bool is_control_code_point_free_utf8(std::string_view name) {
  if (!text::is_valid_utf8(name)) return false;
  // Valid UTF-8 now: C0 and DEL are single bytes, C1 is 0xC2 0x80..0x9F.
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return false;
    if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) <= 0x9F) return false;
  }
  return true;
}

std::string unquote(std::string_view name) {
  if (name.size() < 2 || name.front() != '"' || name.back() != '"') return std::string(name);
  std::string out;
  const auto inner = name.substr(1, name.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size()) ++i;
    out.push_back(inner[i]);
  }
  return out;
}

// RFC 5322 3.3 in English whatever the locale: "Fri, 04 Dec 2026 18:00:00 +0000".
std::string rfc5322_date(std::int64_t unix_seconds) {
  if (unix_seconds < 0 || unix_seconds > last_four_digit_year_second)
    throw std::invalid_argument("compose: time outside 1970..9999");
  const utc_fields f = utc_fields_of(unix_seconds);
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                              weekday_names.at(f.weekday).data(), f.day, month_names.at(f.month - 1).data(),
                              static_cast<int>(f.year), f.hour, f.minute, f.second);
  return std::string(buf, static_cast<std::size_t>(n));
}

bool is_plain_ascii(std::string_view s) {
  for (const char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return s.find("=?") == std::string_view::npos;
}

// The display name as header atoms: a quoted-string when that is
// unambiguous to every reader, encoded-words otherwise.
std::vector<std::string> name_atoms(std::string_view display_name) {
  const std::string name = mime::sanitize_header_text(display_name);
  if (name.empty()) return {};
  if (name.size() <= max_quoted_name_bytes && is_plain_ascii(name) && name.find_first_of("\"\\") == std::string::npos)
    return {"\"" + name + "\""};
  return mime::encoded_words(name);
}

std::string address_header(std::string_view field, const mailbox& mb) {
  std::vector<std::string> atoms = name_atoms(mb.display_name);
  atoms.push_back(atoms.empty() ? mb.address : "<" + mb.address + ">");
  return mime::fold_header(field, atoms);
}

std::string subject_header(std::string_view subject) {
  const std::string text = mime::sanitize_header_text(subject);
  if (text.empty()) return "Subject:";
  if (text.size() <= max_plain_subject_bytes && is_plain_ascii(text)) return "Subject: " + text;
  return mime::fold_header("Subject", mime::encoded_words(text));
}

struct encoded_part {
  std::string transfer_encoding;
  std::string body;  // CRLF line ends
};

encoded_part encode_part(std::string_view content) {
  const std::string lf = mime::normalize_line_ends(content);
  if (mime::fits_7bit(lf)) return {"7bit", mime::to_crlf(lf)};
  return {"quoted-printable", mime::quoted_printable(lf)};
}

void check_bounds(const message& m) {
  if (!is_safe_address(m.from.address)) throw std::invalid_argument("compose: the From address is not safe");
  if (!is_safe_address(m.to.address)) throw std::invalid_argument("compose: the To address is not safe");
  if (m.from.display_name.size() > max_header_text_bytes || m.to.display_name.size() > max_header_text_bytes)
    throw std::invalid_argument("compose: a display name is longer than " + std::to_string(max_header_text_bytes) +
                                " bytes");
  if (m.subject.size() > max_header_text_bytes)
    throw std::invalid_argument("compose: the subject is longer than " + std::to_string(max_header_text_bytes) +
                                " bytes");
  if (m.text.size() > max_part_bytes || m.html.size() > max_part_bytes)
    throw std::invalid_argument("compose: a part is longer than " + std::to_string(max_part_bytes) + " bytes");
  const auto& as = m.auto_submitted;
  if (as.empty() || as.size() > max_auto_submitted_bytes || !is_plain_ascii(as))
    throw std::invalid_argument("compose: auto_submitted must be 1.." + std::to_string(max_auto_submitted_bytes) +
                                " bytes of printable ASCII");
}

}  // namespace

bool is_safe_address(std::string_view address) {
  if (address.size() < min_address_bytes || address.size() > max_address_bytes) return false;
  for (const char c : address) {
    if (c <= 0x20 || c >= 0x7F) return false;  // controls, space, DEL and every non-ASCII byte
    if (std::string_view("\"<>,;()\\").find(c) != std::string_view::npos) return false;
  }
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || address.find('@', at + 1) != std::string_view::npos) return false;
  return is_safe_domain(address.substr(at + 1));
}

std::optional<mailbox> parse_mailbox(std::string_view text) {
  const std::string_view whole = text::trim(text, " \t");
  if (whole.size() > max_header_text_bytes + max_address_bytes + 8) return std::nullopt;
  mailbox mb;
  if (!whole.empty() && whole.back() == '>') {
    const auto open = whole.rfind('<');
    if (open == std::string_view::npos) return std::nullopt;
    mb.address = std::string(whole.substr(open + 1, whole.size() - open - 2));
    mb.display_name = unquote(text::trim(whole.substr(0, open), " \t"));
  } else {
    mb.address = std::string(whole);
  }
  if (!is_safe_address(mb.address)) return std::nullopt;
  if (mb.display_name.size() > max_header_text_bytes || !is_control_code_point_free_utf8(mb.display_name))
    return std::nullopt;
  return mb;
}

composed compose(const message& m, std::int64_t unix_seconds) {
  check_bounds(m);
  const std::string date = rfc5322_date(unix_seconds);
  const std::string domain = m.from.address.substr(m.from.address.find('@') + 1);

  composed out;
  out.message_id = crypto::to_hex(crypto::random_bytes(message_id_random_bytes)) + "@" + domain;

  const encoded_part text = encode_part(m.text);
  const encoded_part html = encode_part(m.html);
  // "=_" can never occur in quoted-printable output; a 7bit part could in
  // principle hold the random boundary, so that is checked, not assumed.
  std::string boundary;
  do {
    boundary = "=_gatehouse_" + crypto::to_hex(crypto::random_bytes(boundary_random_bytes));
  } while (text.body.find(boundary) != std::string::npos || html.body.find(boundary) != std::string::npos);

  std::string& d = out.data;
  d.reserve(1024 + text.body.size() + html.body.size());
  d += "Date: " + date + "\r\n";
  d += address_header("From", m.from) + "\r\n";
  d += address_header("To", m.to) + "\r\n";
  d += subject_header(m.subject) + "\r\n";
  d += "Message-ID: <" + out.message_id + ">\r\n";
  d += "MIME-Version: 1.0\r\n";
  d += "Auto-Submitted: " + m.auto_submitted + "\r\n";
  d += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  d += "\r\n";
  const auto add_part = [&](std::string_view type, const encoded_part& part) {
    d += "--" + boundary + "\r\n";
    d += "Content-Type: " + std::string(type) + "; charset=utf-8\r\n";
    d += "Content-Transfer-Encoding: " + part.transfer_encoding + "\r\n";
    d += "\r\n";
    d += part.body;
    d += "\r\n";  // belongs to the delimiter that follows (RFC 2046 5.1.1)
  };
  add_part("text/plain", text);
  add_part("text/html", html);
  d += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace gatehouse::mail
