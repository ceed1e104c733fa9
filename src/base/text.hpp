#pragma once
// The small ASCII string helpers every parser here needs, in one place.
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
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF):
// only such text may travel as a JSON string.
bool is_valid_utf8(std::string_view s);

}  // namespace gatehouse::text
