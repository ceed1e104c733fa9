#pragma once
// The image type decided from the bytes alone (magic numbers), never from
// a declared content type or a file name.
#include <optional>
#include <string_view>

namespace gatehouse::images {

enum class image_type { jpeg, png, gif, webp };

std::optional<image_type> sniff_image_type(std::string_view bytes);

std::string_view content_type_of(image_type type);  // "image/png"
std::string_view extension_of(image_type type);     // "png"

}  // namespace gatehouse::images
