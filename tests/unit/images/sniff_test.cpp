#include "images/sniff.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::images {
namespace {

using namespace std::string_literals;

const std::string jpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"s;
const std::string png = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"s;
const std::string gif87 = "GIF87a\x01\x00\x01\x00"s;
const std::string gif89 = "GIF89a\x01\x00\x01\x00"s;
const std::string webp = "RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"s;

TEST(sniff, recognises_each_type_by_its_magic_bytes) {
  EXPECT_EQ(sniff_image_type(jpeg), image_type::jpeg);
  EXPECT_EQ(sniff_image_type(png), image_type::png);
  EXPECT_EQ(sniff_image_type(gif87), image_type::gif);
  EXPECT_EQ(sniff_image_type(gif89), image_type::gif);
  EXPECT_EQ(sniff_image_type(webp), image_type::webp);
}

TEST(sniff, needs_only_the_magic_itself_except_for_webp) {
  EXPECT_EQ(sniff_image_type("\xFF\xD8\xFF"s), image_type::jpeg);
  EXPECT_EQ(sniff_image_type("\x89PNG\r\n\x1A\n"s), image_type::png);
  EXPECT_EQ(sniff_image_type("GIF89a"s), image_type::gif);
  // RIFF header without a chunk header: 12 and 15 bytes are too short.
  EXPECT_EQ(sniff_image_type(webp.substr(0, 12)), std::nullopt);
  EXPECT_EQ(sniff_image_type(webp.substr(0, 15)), std::nullopt);
  EXPECT_EQ(sniff_image_type(webp.substr(0, 16)), image_type::webp);
}

TEST(sniff, rejects_short_and_empty_inputs) {
  EXPECT_EQ(sniff_image_type(""), std::nullopt);
  EXPECT_EQ(sniff_image_type("\xFF\xD8"s), std::nullopt);
  EXPECT_EQ(sniff_image_type("\x89P"s), std::nullopt);
  EXPECT_EQ(sniff_image_type("GIF89"s), std::nullopt);
}

TEST(sniff, rejects_text_and_other_riff_formats) {
  EXPECT_EQ(sniff_image_type("Hello, this is a text file pretending to be cat.png\n"), std::nullopt);
  EXPECT_EQ(sniff_image_type("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"), std::nullopt);
  EXPECT_EQ(sniff_image_type("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"s), std::nullopt);
  EXPECT_EQ(sniff_image_type("GIF88a\x01\x00"s), std::nullopt);
}

TEST(sniff, rejects_a_png_signature_off_by_one_byte) {
  for (std::size_t i = 0; i < 8; ++i) {
    std::string bad = png;
    bad[i] = static_cast<char>(bad[i] + 1);
    EXPECT_EQ(sniff_image_type(bad), std::nullopt) << "byte " << i;
  }
  // Shifted by one byte: the signature must start at offset 0.
  EXPECT_EQ(sniff_image_type("\x00"s + png), std::nullopt);
}

TEST(sniff, names_content_types_and_extensions) {
  EXPECT_EQ(content_type_of(image_type::jpeg), "image/jpeg");
  EXPECT_EQ(content_type_of(image_type::png), "image/png");
  EXPECT_EQ(content_type_of(image_type::gif), "image/gif");
  EXPECT_EQ(content_type_of(image_type::webp), "image/webp");
  EXPECT_EQ(extension_of(image_type::jpeg), "jpg");
  EXPECT_EQ(extension_of(image_type::png), "png");
  EXPECT_EQ(extension_of(image_type::gif), "gif");
  EXPECT_EQ(extension_of(image_type::webp), "webp");
}

}  // namespace
}  // namespace gatehouse::images
