// The image-type sniffer on upload bytes, and the image-key check on the same
// bytes read as an object key.
#include "images/image_key.hpp"
#include "images/sniff.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (const auto type = images::sniff_image_type(bytes)) {
    (void)images::content_type_of(*type);
    (void)images::extension_of(*type);
  }
  (void)images::is_valid_image_key(bytes);
  (void)images::is_valid_upload_key(bytes);
  (void)images::owner_of_upload_key(bytes);
  // Keys a listing returns (pending uploads and their form markers).
  (void)images::upload_key_of(bytes);
  (void)images::upload_deadline_of(bytes);
  return 0;
}
