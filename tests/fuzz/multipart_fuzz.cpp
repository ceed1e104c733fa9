// Multipart: the first line of the input is the Content-Type header value
// (boundary extraction), the rest is the body parsed with that boundary.
#include "base/error.hpp"
#include "http/multipart.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view content_type = input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const auto boundary = http::multipart_boundary(content_type);
  if (!boundary) return 0;
  try {
    const auto parts = http::parse_multipart(body, *boundary);
    // Touch every byte each part claims, so a view past the buffer is caught.
    std::size_t sum = 0;
    for (const auto& part : parts)
      for (char c : part.body) sum += static_cast<unsigned char>(c);
    (void)sum;
  } catch (const error&) {
    // invalid_multipart / too_many_parts
  }
  return 0;
}
