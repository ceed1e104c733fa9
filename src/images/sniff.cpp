#include "images/sniff.hpp"

namespace gatehouse::images {
namespace {

bool starts_with_bytes(std::string_view bytes, std::string_view magic, std::size_t at = 0) {
  return bytes.size() >= at + magic.size() && bytes.substr(at, magic.size()) == magic;
}

}  // namespace

std::optional<image_type> sniff_image_type(std::string_view bytes) {
  using namespace std::string_view_literals;
  if (starts_with_bytes(bytes, "\xFF\xD8\xFF"sv)) return image_type::jpeg;
  if (starts_with_bytes(bytes, "\x89PNG\r\n\x1A\n"sv)) return image_type::png;
  if (starts_with_bytes(bytes, "GIF87a"sv) || starts_with_bytes(bytes, "GIF89a"sv))
    return image_type::gif;
  // RIFF <size:4> WEBP, then at least one chunk header (fourcc + size), so
  // a bare 12-byte RIFF header is not taken for an image.
  if (bytes.size() >= 16 && starts_with_bytes(bytes, "RIFF"sv) && starts_with_bytes(bytes, "WEBP"sv, 8))
    return image_type::webp;
  return std::nullopt;
}

std::string_view content_type_of(image_type type) {
  switch (type) {
    case image_type::jpeg: return "image/jpeg";
    case image_type::png: return "image/png";
    case image_type::gif: return "image/gif";
    case image_type::webp: return "image/webp";
  }
  return "application/octet-stream";  // unreachable for a valid enumerator
}

std::string_view extension_of(image_type type) {
  switch (type) {
    case image_type::jpeg: return "jpg";
    case image_type::png: return "png";
    case image_type::gif: return "gif";
    case image_type::webp: return "webp";
  }
  return "bin";  // unreachable for a valid enumerator
}

}  // namespace gatehouse::images
