#pragma once
// API Gateway HTTP API (payload 2.0) events as the tests and the cold-start
// benchmark send them to the real binary through the emulator.
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::testing {

struct v2_request {
  std::string method = "GET";
  std::string path = "/";
  std::string query{};
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  bool binary = false;  // send the body base64-encoded, as API Gateway does for multipart
  std::vector<std::string> cookies{};
  std::string request_id{};                // requestContext.requestId
  std::string source_ip = "198.51.100.7";  // requestContext.http.sourceIp
  std::string user_agent = "gatehouse-tests";
};

// The event document API Gateway would deliver for `r`.
std::string to_event(const v2_request& r);

}  // namespace gatehouse::testing
