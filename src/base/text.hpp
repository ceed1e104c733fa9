#pragma once
// The small ASCII string helpers every parser here needs, in one place.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::text {

// Without the leading and trailing characters of `blanks` (by default the
// HTTP "optional whitespace": space and tab).
inline std::string_view trim(std::string_view s, std::string_view blanks = " \t") {
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

// A-Z to a-z; every other byte as it is (no locale, UTF-8 untouched).
// Header names, schemes, e-mail addresses: protocol text is ASCII, and a
// locale-dependent std::tolower would be wrong for it.
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Equal but for the case of A-Z (HTTP header names, media types, field names).
inline bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// `s` begins with `prefix`, the case of A-Z aside ("Bearer ", "bearer ").
inline bool ascii_istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

// `s` as a number when it is 1 to 9 ASCII digits and nothing else (no
// sign, no blanks: the fixed-width fields of dates, a URL's port).
inline bool parse_digits(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// The value of one hex digit (either case), or -1 for any other byte.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding (RFC 3986), the two ways its callers need:
// percent_decode refuses a '%' not followed by two hex digits (nullopt), for
// input that is validated (query parameters); '+' becomes a space only with
// `plus_is_space` (form encoding). percent_decode_lenient never fails: such
// a '%' stays a literal '%', and '+' is a plus (SigV4's canonical query).
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);
std::string percent_decode_lenient(std::string_view s);

// The inverse, as SigV4 and browsers' query strings have it: RFC 3986
// unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other byte
// becomes %XX in upper case; '/' stays too when `keep_slash`.
std::string percent_encode(std::string_view s, bool keep_slash = false);

// One code point of strict UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF): its value and its length in bytes.
struct code_point {
  std::uint32_t value;
  std::size_t length;
};

// The strict UTF-8 sequence that begins at s[i] (i < s.size()), or nullopt
// when none does.
std::optional<code_point> utf8_at(std::string_view s, std::size_t i);

// Strict UTF-8 throughout: only such text may travel as a JSON string.
bool is_valid_utf8(std::string_view s);

}  // namespace gatehouse::text
