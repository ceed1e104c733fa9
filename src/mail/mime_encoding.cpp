#include "mail/mime_encoding.hpp"

#include "base/text.hpp"
#include "crypto/crypto.hpp"

#include <cstdint>
#include <optional>

namespace gatehouse::mail::mime {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view word_prefix = "=?UTF-8?B?";
constexpr std::string_view word_suffix = "?=";
// Base64 turns 3 bytes into 4 characters: the most raw bytes a word of 75
// bytes can carry.
constexpr std::size_t max_word_payload = (max_encoded_word_bytes - word_prefix.size() - word_suffix.size()) / 4 * 3;


bool breaks_or_controls(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

constexpr char hex_digits[] = "0123456789ABCDEF";

void append_escaped(std::string& out, unsigned char c) {
  out.push_back('=');
  out.push_back(hex_digits[c >> 4]);
  out.push_back(hex_digits[c & 0x0F]);
}

// One line (no line end) as quoted-printable output lines joined by soft breaks.
void encode_qp_line(std::string_view line, std::string& out) {
  std::size_t width = 0;  // bytes on the current output line
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    const std::size_t need = literal ? 1 : 3;
    // Room is kept for the "=" of a soft break unless this is the line's
    // last piece, which may use the 76th byte itself.
    const std::size_t limit = last ? max_body_line_bytes : max_body_line_bytes - 1;
    if (width + need > limit) {
      out += "=\r\n";
      width = 0;
    }
    if (literal) {
      out.push_back(static_cast<char>(c));
    } else {
      append_escaped(out, c);
    }
    width += need;
  }
}

}  // namespace

std::string sanitize_header_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = text::utf8_at(text, i);
    if (!cp) {
      out += replacement_character;
      ++i;
      continue;
    }
    if (breaks_or_controls(cp->value)) {
      out.push_back(' ');
    } else {
      out.append(text.substr(i, cp->length));
    }
    i += cp->length;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

std::vector<std::string> encoded_words(std::string_view utf8) {
  std::vector<std::string> words;
  std::size_t start = 0;
  std::size_t end = 0;
  const auto flush = [&] {
    words.push_back(std::string(word_prefix) + crypto::base64_encode(utf8.substr(start, end - start)) +
                    std::string(word_suffix));
    start = end;
  };
  while (end < utf8.size()) {
    const auto cp = text::utf8_at(utf8, end);
    const std::size_t length = cp ? cp->length : 1;  // callers sanitize; a stray byte still fits a word
    if (end + length - start > max_word_payload) flush();
    end += length;
  }
  if (end > start) flush();
  return words;
}

std::string fold_header(std::string_view field_name, const std::vector<std::string>& atoms) {
  std::string out(field_name);
  out.push_back(':');
  std::size_t line = out.size();
  bool first = true;
  for (const auto& atom : atoms) {
    if (!first && line + 1 + atom.size() > preferred_line_bytes) {
      out += "\r\n";
      line = 0;
    }
    out.push_back(' ');
    out += atom;
    line += 1 + atom.size();
    first = false;
  }
  return out;
}

std::string normalize_line_ends(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool fits_7bit(std::string_view lf_text) {
  std::size_t line = 0;
  char previous = '\n';
  for (const char ch : lf_text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      if (previous == ' ' || previous == '\t') return false;
      line = 0;
    } else {
      if (!(c == '\t' || (c >= 0x20 && c <= 0x7E))) return false;
      if (++line > max_body_line_bytes) return false;
    }
    previous = ch;
  }
  return previous != ' ' && previous != '\t';
}

std::string to_crlf(std::string_view lf_text) {
  std::string out;
  out.reserve(lf_text.size() + lf_text.size() / 32);
  for (const char c : lf_text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

std::string quoted_printable(std::string_view lf_text) {
  std::string out;
  out.reserve(lf_text.size() + lf_text.size() / 2);
  std::size_t start = 0;
  for (;;) {
    const auto end = lf_text.find('\n', start);
    encode_qp_line(lf_text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start), out);
    if (end == std::string_view::npos) break;
    out += "\r\n";
    start = end + 1;
  }
  return out;
}

}  // namespace gatehouse::mail::mime
