#include "smtp/smtp_wire.hpp"

#include <stdexcept>

namespace gatehouse::smtp {

reply_status take_reply(std::string& buffer, reply& out) {
  reply r;
  std::size_t pos = 0;
  for (;;) {
    if (r.lines.size() == max_reply_lines) return reply_status::malformed;
    const std::size_t lf = buffer.find('\n', pos);
    if (lf == std::string::npos)
      return buffer.size() - pos >= max_reply_line_bytes ? reply_status::malformed : reply_status::incomplete;
    if (lf + 1 - pos > max_reply_line_bytes || lf == pos || buffer[lf - 1] != '\r') return reply_status::malformed;
    const std::string_view line(buffer.data() + pos, lf - 1 - pos);
    pos = lf + 1;

    // "ddd", "ddd text" or "ddd-text"; the first digit 2..5, the second 0..5.
    if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || line[2] < '0' ||
        line[2] > '9')
      return reply_status::malformed;
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!r.lines.empty() && code != r.code) return reply_status::malformed;
    r.code = code;
    const char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != ' ' && sep != '-') return reply_status::malformed;
    r.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    if (sep == ' ') break;
  }
  buffer.erase(0, pos);
  out = std::move(r);
  return reply_status::complete;
}

std::string data_payload(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 5);
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '\0') throw std::invalid_argument("the message holds a NUL byte");
    if (c == '\n') throw std::invalid_argument("the message has a bare LF (lines must end in CRLF)");
    if (c == '\r') {
      if (i + 1 >= message.size() || message[i + 1] != '\n')
        throw std::invalid_argument("the message has a bare CR (lines must end in CRLF)");
      if (i - line_start > max_message_line_bytes)
        throw std::invalid_argument("the message has a line longer than 998 bytes");
      out += "\r\n";
      ++i;
      line_start = i + 1;
      continue;
    }
    if (i == line_start && c == '.') out.push_back('.');
    out.push_back(c);
  }
  if (line_start < message.size()) {
    if (message.size() - line_start > max_message_line_bytes)
      throw std::invalid_argument("the message has a line longer than 998 bytes");
    out += "\r\n";
  }
  out += ".\r\n";
  return out;
}

}  // namespace gatehouse::smtp
