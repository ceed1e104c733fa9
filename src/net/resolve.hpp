#pragma once
// Name resolution with a deadline, for the clients that open connections
// of their own (aws/http_client, smtp/smtp_transport).
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::net {

// The name could not be resolved in time: the message says which and why
// ("resolving <host> timed out", "cannot resolve <host>: <reason>").
class resolve_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The addresses of `host` (an IP literal is its own answer, without a
// lookup). getaddrinfo cannot be cancelled, so a DNS name is resolved on a
// detached thread that the caller waits for only until `deadline`; a late
// answer is dropped with the state it shares with the thread.
std::vector<boost::asio::ip::tcp::endpoint> resolve_before(const std::string& host, unsigned short port,
                                                           std::chrono::steady_clock::time_point deadline);

}  // namespace gatehouse::net
