#pragma once
#include <string>

namespace gatehouse::accounts {

// Where a request came from, as its front end saw it: the source address
// the rate limits count (api/client_ip decides it) and the id the logs of
// its work carry. Nothing about the transport beyond that.
struct request_origin {
  std::string source_ip;
  std::string request_id;
};

}  // namespace gatehouse::accounts
