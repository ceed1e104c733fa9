// SigV4 canonicalisation on a request built from the input: '\n'-separated
// method, path, query, body, then "name:value" header lines. Both the header
// signature and the presigned form are computed, with each option mix.
#include "aws/credentials.hpp"
#include "aws/http_types.hpp"
#include "aws/sigv4.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace {

std::string_view next_line(std::string_view& input) {
  const auto newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse::aws;
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  http_request req;
  req.method = std::string(next_line(input));
  req.path = std::string(next_line(input));
  req.query = std::string(next_line(input));
  req.body = std::string(next_line(input));
  req.headers.emplace_back("host", "dynamodb.us-east-1.amazonaws.com");
  while (!input.empty()) {
    const std::string_view line = next_line(input);
    const auto colon = line.find(':');
    req.headers.emplace_back(std::string(line.substr(0, colon)),
                             colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
  }

  const credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                          (flags & 8) ? "session-token" : "", std::nullopt};
  const sigv4::scope sc{"us-east-1", (flags & 1) ? "s3" : "dynamodb"};
  const sigv4::options opts{(flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0};
  const std::int64_t now = 1'440'938'160;
  try {
    http_request signed_req = req;
    (void)sigv4::sign_request(signed_req, creds, sc, now, opts);
    http_request presigned_req = req;
    (void)sigv4::presign_request(presigned_req, creds, sc, now, 1 + flags % 16 * 3600, opts);
  } catch (const std::invalid_argument&) {
    // Documented: no Host header, time out of range, bad X-Amz-Expires.
  }
  (void)sigv4::uri_encode(req.path, true);
  return 0;
}
