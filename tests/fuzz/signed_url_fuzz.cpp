// The signed-URL verifier: the input is split on '\n' into object key,
// expires, signature (and max_bytes for verify_upload), as the query gives them.
#include "files/url_signer.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  static const files::url_signer signer("0123456789abcdef0123456789abcdef");
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  while (fields.size() < 3) {
    const auto newline = input.find('\n');
    fields.push_back(input.substr(0, newline));
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  }
  fields.push_back(input);
  const std::int64_t now = 1'700'000'000;
  (void)signer.verify(fields[0], fields[1], fields[2], now);
  (void)signer.verify_upload(fields[0], fields[1], fields[3], fields[2], now);
  return 0;
}
