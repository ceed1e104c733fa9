#pragma once
// SMTP's wire formats (RFC 5321): replies read off the connection, and the
// message as DATA carries it. Pure functions over bytes, no I/O.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::smtp {

// One reply line, CRLF included, may be this long; a reply may have this
// many lines. RFC 5321 allows 512 bytes a line; servers' EHLO lists are
// a dozen lines. Anything longer is a broken or hostile peer.
inline constexpr std::size_t max_reply_line_bytes = 1000;
inline constexpr std::size_t max_reply_lines = 100;

struct reply {
  int code = 0;                    // 200..599
  std::vector<std::string> lines;  // each line's text after the code and separator
};

enum class reply_status { complete, incomplete, malformed };

// Takes one whole reply ("250-a\r\n250 b\r\n") off the front of `buffer`
// into `out`: complete (and removed from the buffer), incomplete (more
// bytes needed; the buffer is untouched), or malformed (a line without
// a code, mixed codes, a bare LF, or more than the bounds above allow).
reply_status take_reply(std::string& buffer, reply& out);

// Longest line of a message, CRLF excluded (RFC 5322 section 2.1.1).
inline constexpr std::size_t max_message_line_bytes = 998;

// The message as it goes after DATA: every line that starts with '.'
// gets another (RFC 5321 section 4.5.2), a CRLF added if the last line
// lacks one, then ".\r\n". Throws std::invalid_argument (in words that
// quote nothing of the message) if it holds a bare CR or LF, a NUL, or a
// line longer than max_message_line_bytes.
std::string data_payload(std::string_view message);

}  // namespace gatehouse::smtp
