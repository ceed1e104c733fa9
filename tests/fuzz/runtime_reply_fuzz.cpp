// A Runtime API reply on arbitrary bytes, as the client reads the answer to
// GET /invocation/next: Beast's response parser under the client's limits
// (lambda/runtime_reply), fed in the pieces a socket might deliver, then
// the invocation taken out of a complete 200 reply. The first input byte
// picks the piece size, so split heads and chunk boundaries are explored.
#include "lambda/runtime_reply.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse::lambda;
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  reply_parser parser;
  // Small limits so the fuzzer reaches them; the client's are 16 KiB / 7 MiB.
  limit_reply(parser, 1024, 4096);
  parser.eager(true);
  // As http::read does: offer every byte not yet consumed, plus `piece`
  // more each round (what the next read from the socket adds); at the end
  // of the input, the peer has closed the connection.
  std::size_t fed = 0;
  std::size_t arrived = 0;
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    arrived = std::min(input.size(), arrived + piece);
    const std::size_t used = parser.put(boost::asio::buffer(input.data() + fed, arrived - fed), ec);
    fed += used;
    if (ec == boost::beast::http::error::need_more || (!ec && used == 0)) {
      ec = {};
      if (arrived == input.size()) {
        // http::read's rule: end of stream before any byte is its own error.
        if (parser.got_some()) parser.put_eof(ec);
        else ec = boost::beast::http::error::end_of_stream;
        break;
      }
      continue;
    }
    if (ec) break;
  }

  (void)reply_request_id(parser);
  if (!ec && parser.is_done() && parser.get().result_int() == 200) {
    if (const auto inv = invocation_of(parser)) {
      // What the client relies on: a request id it may put in a URL path.
      if (inv->request_id.empty() || inv->request_id.find_first_of("/\r\n ") != std::string::npos)
        __builtin_trap();
    }
  }
  return 0;
}
