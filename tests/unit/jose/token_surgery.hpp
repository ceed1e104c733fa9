#pragma once
// Cutting compact tokens apart and putting them back together, for the
// tests that forge them.
#include "crypto/crypto.hpp"

#include <string>
#include <string_view>

namespace gatehouse::jose::testing {

// The `index`th dot-separated segment of `token`, as it is (still encoded).
inline std::string segment(std::string_view token, int index) {
  std::size_t begin = 0;
  for (int i = 0; i < index; ++i) begin = token.find('.', begin) + 1;
  const auto end = token.find('.', begin);
  return std::string(token.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
}

// `token` with its signature replaced by `raw_signature`, encoded.
inline std::string with_signature(std::string_view token, std::string_view raw_signature) {
  return std::string(token.substr(0, token.rfind('.') + 1)) + crypto::base64url_encode(raw_signature);
}

}  // namespace gatehouse::jose::testing
