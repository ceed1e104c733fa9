#pragma once
// The encodings compose() is built from, kept apart so each can be tested
// on its own: header text made harmless (RFC 2047 encoded-words, folding)
// and bodies made 7-bit clean (RFC 2045 quoted-printable).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::mail::mime {

// Longest line compose() aims for (RFC 5322 2.1.1 "SHOULD") and the
// longest encoded-word (RFC 2047 2).
inline constexpr std::size_t preferred_line_bytes = 78;
inline constexpr std::size_t max_encoded_word_bytes = 75;
// Longest body line, CRLF excluded (RFC 2045 6.7 for quoted-printable; a
// 7bit part is held to the same so it never needs a transport to wrap it).
inline constexpr std::size_t max_body_line_bytes = 76;

// What a name or subject becomes before it is encoded: every sequence that
// is not strict UTF-8 becomes U+FFFD (one per offending byte); every
// control character (C0, DEL, C1) and U+2028/U+2029 becomes a space; then
// leading and trailing spaces are dropped. The result holds no byte below
// 0x20 and is valid UTF-8, so it can never break a header line.
std::string sanitize_header_text(std::string_view text);

// `utf8` (valid UTF-8, as sanitize_header_text returns) as
// "=?UTF-8?B?...?=" words of at most 75 bytes, split between characters,
// so each word decodes on its own. Empty input gives no words.
std::vector<std::string> encoded_words(std::string_view utf8);

// "Name: atom atom", folded before an atom whenever the line would pass 78
// bytes (never before the first one). Atoms hold no space; every line is
// at most the field name + 2 + the longest atom. No trailing CRLF.
std::string fold_header(std::string_view field_name, const std::vector<std::string>& atoms);

// '\n', "\r\n" and a lone '\r' are each one line end; the result uses '\n'.
std::string normalize_line_ends(std::string_view text);

// Whether `lf_text` (normalized) may travel as 7bit: only printable ASCII
// and tabs, lines of at most 76 bytes, no line ending in a space or tab
// (which transports may strip).
bool fits_7bit(std::string_view lf_text);

// `lf_text` with CRLF line ends.
std::string to_crlf(std::string_view lf_text);

// RFC 2045 6.7: `lf_text` as quoted-printable with CRLF hard line breaks,
// soft line breaks ("=" CRLF) keeping every line at most 76 bytes, and a
// space or tab before a line end encoded.
std::string quoted_printable(std::string_view lf_text);

}  // namespace gatehouse::mail::mime
