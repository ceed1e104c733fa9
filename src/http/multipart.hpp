#pragma once
// multipart/form-data (RFC 7578 over RFC 2046). Total: any byte sequence
// gives parts or an error (invalid_argument "invalid_multipart", or
// payload_too_large "too_many_parts"), never a crash or unbounded work.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::http {

struct multipart_part {
  std::string name;                     // from Content-Disposition
  std::optional<std::string> filename;  // from Content-Disposition, if any
  std::string content_type;             // as declared (never trusted); may be empty
  std::string_view body;                // points into the parsed buffer
};

struct multipart_limits {
  std::size_t max_parts = 16;
  std::size_t max_part_header_bytes = 8 * 1024;  // all header lines of one part
};

// The boundary parameter of a multipart/form-data Content-Type (quoted or
// not, 1..70 chars per RFC 2046), or nullopt when absent or invalid or
// the media type is not multipart/form-data.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Parses `body`; the returned parts point into it, so it must outlive them.
std::vector<multipart_part> parse_multipart(std::string_view body, std::string_view boundary,
                                            const multipart_limits& limits = {});

}  // namespace gatehouse::http
