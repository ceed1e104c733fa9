// decode_event on arbitrary bytes: the same input is read as a payload v1 or
// v2 event depending on its own "version" field, so one corpus covers both.
// A decoded event is re-encoded as a response to exercise that path too.
#include "base/error.hpp"
#include "http/response.hpp"
#include "lambda/event_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    const auto event = lambda::decode_event(input);
    http::response res;
    res.body = event.request.body;
    (void)lambda::encode_response(res, event.version);
  } catch (const error&) {
    // The documented outcome for a malformed event (invalid_event).
  }
  return 0;
}
