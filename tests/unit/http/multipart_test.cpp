#include "http/multipart.hpp"

#include "expect_error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace gatehouse::http {
namespace {

using gatehouse::testing::throws_error;
using namespace std::string_literals;

constexpr std::string_view crlf = "\r\n";

// One part as a browser writes it, starting with its delimiter line.
std::string part(std::string_view boundary, std::string_view headers, std::string_view body) {
  return "--" + std::string(boundary) + "\r\n" + std::string(headers) + "\r\n" + std::string(body) +
         "\r\n";
}

std::string field(std::string_view boundary, std::string_view name, std::string_view value) {
  return part(boundary, "Content-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n",
              value);
}

std::string close(std::string_view boundary) { return "--" + std::string(boundary) + "--\r\n"; }

::testing::AssertionResult is_invalid(std::string_view body, std::string_view boundary,
                                      const multipart_limits& limits = {}) {
  return throws_error([&] { (void)parse_multipart(body, boundary, limits); },
                      error_kind::invalid_argument, "invalid_multipart");
}

::testing::AssertionResult is_too_many(std::string_view body, std::string_view boundary,
                                       const multipart_limits& limits = {}) {
  return throws_error([&] { (void)parse_multipart(body, boundary, limits); },
                      error_kind::payload_too_large, "too_many_parts");
}

const std::string png_bytes = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"s;

TEST(multipart, parses_a_file_part_and_a_text_field) {
  const std::string b = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
  const std::string body =
      part(b,
           "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
           "Content-Type: image/png\r\n",
           png_bytes) +
      field(b, "title", "My cat") + close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "image");
  EXPECT_EQ(parts[0].filename, std::optional<std::string>("cat.png"));
  EXPECT_EQ(parts[0].content_type, "image/png");
  EXPECT_EQ(parts[0].body, png_bytes);
  EXPECT_EQ(parts[1].name, "title");
  EXPECT_EQ(parts[1].filename, std::nullopt);
  EXPECT_EQ(parts[1].content_type, "");
  EXPECT_EQ(parts[1].body, "My cat");
}

TEST(multipart, part_bodies_point_into_the_input_without_copying) {
  const std::string b = "xyz";
  const std::string big(5 * 1024 * 1024, 'A');
  const std::string body = part(b,
                                "Content-Disposition: form-data; name=\"image\"; "
                                "filename=\"big.jpg\"\r\n",
                                big) +
                           close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body.size(), big.size());
  EXPECT_GE(parts[0].body.data(), body.data());
  EXPECT_LE(parts[0].body.data() + parts[0].body.size(), body.data() + body.size());
}

TEST(multipart, accepts_a_quoted_boundary_with_a_space) {
  const auto b = multipart_boundary("multipart/form-data; boundary=\"simple boundary\"");
  ASSERT_EQ(b, std::optional<std::string>("simple boundary"));
  const std::string body = field(*b, "a", "1") + close(*b);
  const auto parts = parse_multipart(body, *b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, "1");
}

TEST(multipart, accepts_every_special_character_rfc2046_allows_in_a_boundary) {
  const std::string special = "'()+_,-./:=?";
  const auto quoted = multipart_boundary("multipart/form-data; boundary=\"" + special + "\"");
  ASSERT_EQ(quoted, std::optional<std::string>(special));
  // Unquoted too: clients send them bare and nothing is ambiguous up to ';'.
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + special),
            std::optional<std::string>(special));
  const std::string body = field(special, "a", "x--y") + field(special, "b", "") + close(special);
  const auto parts = parse_multipart(body, special);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].body, "x--y");
  EXPECT_EQ(parts[1].body, "");
}

TEST(multipart, ignores_preamble_and_epilogue) {
  const std::string b = "bnd";
  const std::string body = "This is the preamble. --bnd is not a delimiter here.\r\n" +
                           field(b, "a", "1") + "--bnd--\r\nThis is the epilogue.\r\n--bnd\r\n";
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "a");
  EXPECT_EQ(parts[0].body, "1");
}

TEST(multipart, keeps_crlf_dashes_and_near_boundaries_inside_a_body) {
  const std::string b = "boundary";
  const std::string tricky = "line1\r\nline2\n\r--\r\n--\r\n--boundar\r\n--Boundary\r\n-boundary\r\n";
  const std::string body = field(b, "a", tricky) + close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, tricky);
}

TEST(multipart, keeps_every_byte_value_including_nul) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  all += "\0\0\xff"s;
  const std::string b = "q1w2e3";
  const std::string body = field(b, "bin", all) + close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, all);
}

TEST(multipart, accepts_an_empty_part_body) {
  const std::string b = "b";
  const std::string body = field(b, "empty", "") + close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "empty");
  EXPECT_TRUE(parts[0].body.empty());
}

TEST(multipart, header_names_and_disposition_type_are_case_insensitive) {
  const std::string b = "b";
  const std::string body =
      part(b, "cOnTeNt-DiSpOsItIoN: Form-Data; NAME=\"f\"; FileName=\"a.gif\"\r\nCONTENT-type: image/gif\r\n",
           "GIF89a") +
      close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "f");
  EXPECT_EQ(parts[0].filename, std::optional<std::string>("a.gif"));
  EXPECT_EQ(parts[0].content_type, "image/gif");
}

TEST(multipart, accepts_a_token_name_escapes_and_ignores_filename_star) {
  const std::string b = "b";
  const std::string body =
      part(b, "Content-Disposition: form-data; name=plain; filename*=UTF-8''%e2%82%ac.png\r\n", "1") +
      part(b, "Content-Disposition: form-data; name=\"q\\\"uote\"; filename=\"semi;colon.jpg\"\r\n",
           "2") +
      close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "plain");
  EXPECT_EQ(parts[0].filename, std::nullopt);
  EXPECT_EQ(parts[1].name, "q\"uote");
  EXPECT_EQ(parts[1].filename, std::optional<std::string>("semi;colon.jpg"));
}

TEST(multipart, accepts_transport_padding_after_a_delimiter) {
  const std::string b = "b";
  const std::string body =
      "--b \t \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--";
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, "v");
}

TEST(multipart, accepts_a_close_delimiter_with_no_parts) {
  EXPECT_TRUE(parse_multipart("--b--", "b").empty());
}

TEST(multipart, rejects_a_part_without_a_name) {
  const std::string b = "b";
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: form-data\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: form-data; filename=\"a.png\"\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: form-data; name=\"\"\r\n", "x") + close(b), b));
}

TEST(multipart, rejects_a_part_without_form_data_disposition) {
  const std::string b = "b";
  EXPECT_TRUE(is_invalid(part(b, "Content-Type: text/plain\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: attachment; name=\"a\"\r\n", "x") + close(b), b));
}

TEST(multipart, rejects_ambiguous_or_malformed_part_headers) {
  const std::string b = "b";
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n";
  // Two dispositions, or a parameter given twice: either reading could be the attacker's.
  EXPECT_TRUE(is_invalid(part(b, cd + cd, "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: form-data; name=a; name=b\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, cd + "no colon here\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, cd + " folded: line\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition : form-data; name=\"a\"\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: form-data; name=\"a\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, cd + "X-Evil: a\x01" "b\r\n", "x") + close(b), b));
  EXPECT_TRUE(is_invalid(part(b, "Content-Disposition: form-data; name=\"a\"\nX: y\r\n", "x") + close(b), b));
}

TEST(multipart, rejects_a_body_that_never_closes) {
  const std::string b = "b";
  // The last part is never followed by a delimiter.
  EXPECT_TRUE(is_invalid("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", b));
  // A delimiter follows, but not the close delimiter.
  EXPECT_TRUE(is_invalid(field(b, "a", "1"), b));
  // Truncated right after the first delimiter.
  EXPECT_TRUE(is_invalid("--b", b));
  // Headers that never end.
  EXPECT_TRUE(is_invalid("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", b));
}

TEST(multipart, rejects_a_body_where_the_boundary_never_appears) {
  EXPECT_TRUE(is_invalid("", "b"));
  EXPECT_TRUE(is_invalid("just some text", "b"));
  EXPECT_TRUE(is_invalid(field("other", "a", "1") + close("other"), "b"));
}

TEST(multipart, rejects_junk_after_a_delimiter) {
  EXPECT_TRUE(is_invalid("--bX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", "b"));
  EXPECT_TRUE(is_invalid(field("b", "a", "1") + "--b-\r\n", "b"));
}

TEST(multipart, rejects_lf_only_line_endings) {
  EXPECT_TRUE(is_invalid("--b\nContent-Disposition: form-data; name=\"a\"\n\nvalue\n--b--\n", "b"));
}

TEST(multipart, rejects_an_empty_or_overlong_boundary_argument) {
  EXPECT_TRUE(is_invalid("----\r\n", ""));
  const std::string long_boundary(71, 'a');
  EXPECT_TRUE(is_invalid(field(long_boundary, "a", "1") + close(long_boundary), long_boundary));
}

TEST(multipart, accepts_exactly_max_parts) {
  const std::string b = "b";
  std::string body;
  for (int i = 0; i < 16; ++i) body += field(b, "f" + std::to_string(i), std::to_string(i));
  body += close(b);
  const auto parts = parse_multipart(body, b);
  ASSERT_EQ(parts.size(), 16u);
  EXPECT_EQ(parts[15].name, "f15");
  EXPECT_EQ(parts[15].body, "15");
}

TEST(multipart, rejects_one_part_over_max_parts) {
  const std::string b = "b";
  std::string body;
  for (int i = 0; i < 17; ++i) body += field(b, "f" + std::to_string(i), "v");
  body += close(b);
  EXPECT_TRUE(is_too_many(body, b));
  multipart_limits two;
  two.max_parts = 2;
  EXPECT_TRUE(is_too_many(field(b, "a", "1") + field(b, "b", "2") + field(b, "c", "3") + close(b), b, two));
}

TEST(multipart, stops_early_on_a_ten_thousand_part_body) {
  const std::string b = "b";
  std::string body;
  for (int i = 0; i < 10000; ++i) body += field(b, "f", "v");
  body += close(b);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_too_many(body, b));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(multipart, fails_fast_on_five_mebibytes_without_a_boundary) {
  const std::string body(5 * 1024 * 1024, 'x');
  // Near-misses everywhere: a naive rescan from every "\r\n--" would be quadratic.
  std::string near;
  while (near.size() < 5 * 1024 * 1024) near += "\r\n--boundar";
  const std::string open_part =
      "--boundary\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n" + near;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_invalid(body, "boundary"));
  EXPECT_TRUE(is_invalid(near, "boundary"));
  EXPECT_TRUE(is_invalid(open_part, "boundary"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(multipart, bounds_the_size_of_a_part_header_block) {
  const std::string b = "b";
  multipart_limits limits;
  limits.max_part_header_bytes = 100;
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n";  // 42 bytes
  // Header lines, CRLFs included, of exactly the limit are fine...
  const std::string filler = "X-Pad: " + std::string(100 - cd.size() - 9, 'p') + "\r\n";
  ASSERT_EQ(cd.size() + filler.size(), 100u);
  const std::string body = part(b, cd + filler, "v") + close(b);  // parts point into it
  const auto parts = parse_multipart(body, b, limits);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, "v");
  // ...one byte more is not.
  const std::string longer = "X-Pad: " + std::string(100 - cd.size() - 8, 'p') + "\r\n";
  EXPECT_TRUE(is_invalid(part(b, cd + longer, "v") + close(b), b, limits));
  // And the default limit (8 KiB) holds too.
  const std::string huge = "X-Pad: " + std::string(9 * 1024, 'p') + "\r\n";
  EXPECT_TRUE(is_invalid(part(b, cd + huge, "v") + close(b), b));
}

TEST(multipart_boundary, reads_token_and_quoted_values) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"),
            std::optional<std::string>("abc123"));
  EXPECT_EQ(multipart_boundary("multipart/form-data;boundary=abc123"),
            std::optional<std::string>("abc123"));
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"abc123\""),
            std::optional<std::string>("abc123"));
}

TEST(multipart_boundary, is_case_insensitive_in_media_type_and_parameter_name) {
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; BOUNDARY=XyZ"), std::optional<std::string>("XyZ"));
  EXPECT_EQ(multipart_boundary("MULTIPART/FORM-DATA ;\tBoundary=XyZ"), std::optional<std::string>("XyZ"));
}

TEST(multipart_boundary, skips_other_parameters) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=abc"),
            std::optional<std::string>("abc"));
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc; charset=utf-8"),
            std::optional<std::string>("abc"));
  // A quoted ';' in another parameter does not end it.
  EXPECT_EQ(multipart_boundary("multipart/form-data; x=\"a;boundary=evil\"; boundary=good"),
            std::optional<std::string>("good"));
}

TEST(multipart_boundary, resolves_backslash_escapes_and_rejects_an_escaped_quote) {
  EXPECT_EQ(multipart_boundary(R"(multipart/form-data; boundary="a\b\:c")"),
            std::optional<std::string>("ab:c"));
  // '"' is not among RFC 2046's boundary characters.
  EXPECT_EQ(multipart_boundary(R"(multipart/form-data; boundary="ab\"cd")"), std::nullopt);
}

TEST(multipart_boundary, rejects_missing_and_empty) {
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"\""), std::nullopt);
  EXPECT_EQ(multipart_boundary(""), std::nullopt);
}

TEST(multipart_boundary, accepts_70_characters_and_rejects_71) {
  const std::string seventy(70, 'a');
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + seventy),
            std::optional<std::string>(seventy));
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + seventy + "a"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"" + seventy + "a\""), std::nullopt);
}

TEST(multipart_boundary, rejects_other_media_types) {
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=abc"), std::nullopt);
  EXPECT_EQ(multipart_boundary("application/x-www-form-urlencoded; boundary=abc"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-dataX; boundary=abc"), std::nullopt);
  EXPECT_EQ(multipart_boundary("text/plain"), std::nullopt);
}

TEST(multipart_boundary, rejects_malformed_values) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"abc "), std::nullopt);  // unterminated
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"abc \""), std::nullopt);  // ends in space
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=a; boundary=b"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=a\r\nb"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"a\r\nb\""), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=a*b"), std::nullopt);  // not a bchar
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc def"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data junk; boundary=abc"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; =abc"), std::nullopt);
}

}  // namespace
}  // namespace gatehouse::http
