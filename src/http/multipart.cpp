#include "http/multipart.hpp"
#include "base/text.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <functional>

namespace gatehouse::http {
namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::size_t max_boundary_size = 70;  // RFC 2046 section 5.1.1

[[noreturn]] void malformed(std::string message) {
  throw error(error_kind::invalid_argument, "invalid_multipart", std::move(message));
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

using text::trim;

// RFC 7230 tchar: what header names, parameter names and tokens are made of.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Control characters other than HTAB never belong in a header value.
bool is_ctl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

// RFC 2046 bchars: the only characters a boundary may contain.
bool is_bchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

struct parameter {
  std::string name;  // lower case
  std::string value;  // unquoted, escapes resolved
};

// Parses `*( OWS ";" OWS name "=" value )` where value is a token-ish run or
// a quoted-string with backslash escapes. Empty parameters (";;") are
// skipped; a repeated name is rejected because either reading of it could
// be the one an attacker wants. nullopt when malformed.
std::optional<std::vector<parameter>> parse_parameters(std::string_view s) {
  std::vector<parameter> out;
  std::size_t i = 0;
  const auto skip_ws = [&] {
    while (i < s.size() && is_ws(s[i])) ++i;
  };
  while (true) {
    skip_ws();
    if (i == s.size()) return out;
    if (s[i] != ';') return std::nullopt;
    ++i;
    skip_ws();
    if (i == s.size() || s[i] == ';') continue;

    const std::size_t name_start = i;
    while (i < s.size() && is_tchar(s[i])) ++i;
    if (i == name_start || i == s.size() || s[i] != '=') return std::nullopt;
    parameter p;
    p.name.reserve(i - name_start);
    for (char c : s.substr(name_start, i - name_start)) p.name += text::ascii_lower(c);
    ++i;  // '='

    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i == s.size()) return std::nullopt;
          c = s[i++];
        }
        if (is_ctl(c)) return std::nullopt;
        p.value += c;
      }
      if (!closed) return std::nullopt;
    } else {
      const std::size_t value_start = i;
      while (i < s.size() && s[i] != ';' && !is_ws(s[i]) && s[i] != '"') {
        if (is_ctl(s[i])) return std::nullopt;
        ++i;
      }
      if (i == value_start) return std::nullopt;
      p.value = std::string(s.substr(value_start, i - value_start));
    }
    for (const parameter& q : out)
      if (q.name == p.name) return std::nullopt;
    out.push_back(std::move(p));
  }
}

const parameter* find_parameter(const std::vector<parameter>& params, std::string_view name) {
  for (const parameter& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

// Splits "type; params" into the trimmed type and the parameter list.
struct typed_value {
  std::string_view type;
  std::vector<parameter> params;
};

std::optional<typed_value> parse_typed_value(std::string_view value) {
  const std::size_t semi = value.find(';');
  const std::string_view type = trim(value.substr(0, semi));
  auto params = parse_parameters(semi == std::string_view::npos ? std::string_view{}
                                                                : value.substr(semi));
  if (!params) return std::nullopt;
  return typed_value{type, std::move(*params)};
}

// Fills name, filename and content_type from one part's header block
// (lines each ending in CRLF, the blank line excluded).
void parse_part_headers(std::string_view block, multipart_part& part) {
  bool have_disposition = false;
  bool have_type = false;
  while (!block.empty()) {
    const std::size_t eol = block.find(crlf);
    // The caller only hands over whole CRLF-terminated lines.
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + crlf.size());

    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      malformed("a part header line has no name");
    const std::string_view name = line.substr(0, colon);
    // No obsolete line folding, no space before the colon (RFC 7230 3.2.4).
    if (!std::all_of(name.begin(), name.end(), is_tchar))
      malformed("a part header name is malformed");
    const std::string_view value = trim(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), is_ctl))
      malformed("a part header value has control characters");

    if (text::ascii_iequals(name, "content-disposition")) {
      if (have_disposition) malformed("a part has two Content-Disposition headers");
      have_disposition = true;
      const auto parsed = parse_typed_value(value);
      if (!parsed || !text::ascii_iequals(parsed->type, "form-data"))
        malformed("a part's Content-Disposition is not form-data");
      const parameter* field = find_parameter(parsed->params, "name");
      if (!field || field->value.empty()) malformed("a part has no name");
      part.name = field->value;
      // `filename*` (RFC 5987) is ignored: the file name is never trusted.
      if (const parameter* file = find_parameter(parsed->params, "filename"))
        part.filename = file->value;
    } else if (text::ascii_iequals(name, "content-type")) {
      if (have_type) malformed("a part has two Content-Type headers");
      have_type = true;
      part.content_type = std::string(value);
    }
    // Other headers (Content-Transfer-Encoding, ...) carry nothing we use.
  }
  if (!have_disposition) malformed("a part has no Content-Disposition");
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto parsed = parse_typed_value(content_type);
  if (!parsed || !text::ascii_iequals(parsed->type, "multipart/form-data")) return std::nullopt;
  const parameter* boundary = find_parameter(parsed->params, "boundary");
  if (!boundary) return std::nullopt;
  const std::string& b = boundary->value;
  if (b.empty() || b.size() > max_boundary_size || b.back() == ' ') return std::nullopt;
  if (!std::all_of(b.begin(), b.end(), is_bchar)) return std::nullopt;
  return b;
}

std::vector<multipart_part> parse_multipart(std::string_view body, std::string_view boundary,
                                            const multipart_limits& limits) {
  if (boundary.empty() || boundary.size() > max_boundary_size)
    malformed("the boundary is empty or too long");

  // Every delimiter but a leading one is CRLF "--" boundary. One searcher,
  // and every search starts where the previous one ended: linear overall.
  const std::string delimiter = std::string(crlf) + "--" + std::string(boundary);
  const std::boyer_moore_horspool_searcher searcher(delimiter.begin(), delimiter.end());
  const auto find_delimiter = [&](std::size_t from) -> std::size_t {
    const auto it = std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(), searcher);
    return it == body.end() ? std::string_view::npos
                            : static_cast<std::size_t>(it - body.begin());
  };
  const std::string_view dash_boundary = std::string_view(delimiter).substr(crlf.size());

  // `pos` always points just past a "--boundary".
  std::size_t pos = 0;
  if (body.substr(0, dash_boundary.size()) == dash_boundary) {
    pos = dash_boundary.size();
  } else {
    const std::size_t first = find_delimiter(0);  // after a preamble, which is ignored
    if (first == std::string_view::npos) malformed("the body has no boundary");
    pos = first + delimiter.size();
  }

  std::vector<multipart_part> parts;
  while (true) {
    const std::string_view rest = body.substr(pos);
    if (rest.substr(0, 2) == "--") return parts;  // close delimiter; the epilogue is ignored

    // Transport padding, then CRLF.
    std::size_t i = 0;
    while (i < rest.size() && is_ws(rest[i])) ++i;
    if (rest.substr(i, crlf.size()) != crlf) malformed("a boundary line is not followed by CRLF");
    pos += i + crlf.size();

    if (parts.size() == limits.max_parts)
      throw error(error_kind::payload_too_large, "too_many_parts",
                  "the form has more than " + std::to_string(limits.max_parts) + " parts");

    multipart_part part;
    // The header block: lines up to a blank line, searched for only
    // within the allowed size, so an endless header costs nothing.
    std::size_t header_bytes = 0;  // the lines including their CRLFs
    if (body.substr(pos, crlf.size()) != crlf) {
      const std::string_view window = body.substr(pos, limits.max_part_header_bytes + crlf.size());
      const std::size_t blank = window.find("\r\n\r\n");
      if (blank == std::string_view::npos) {
        if (window.size() < limits.max_part_header_bytes + crlf.size())
          malformed("a part's headers never end");
        malformed("a part's headers are too large");
      }
      header_bytes = blank + crlf.size();
    }
    parse_part_headers(body.substr(pos, header_bytes), part);
    pos += header_bytes + crlf.size();

    const std::size_t end = find_delimiter(pos);
    if (end == std::string_view::npos) malformed("a part is not closed by a boundary");
    part.body = body.substr(pos, end - pos);
    parts.push_back(std::move(part));
    pos = end + delimiter.size();
  }
}

}  // namespace gatehouse::http
