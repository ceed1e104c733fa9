// jwt_codec::verify on arbitrary tokens with a fixed 32-byte secret. verify
// reports every refusal as nullopt, so nothing is caught here.
#include "auth/jwt.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  static const auth::jwt_codec codec("0123456789abcdef0123456789abcdef", "gatehouse");
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  (void)codec.verify(token, 1'700'000'000);
  return 0;
}
