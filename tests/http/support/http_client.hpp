#pragma once
// A small synchronous HTTP/1.1 client over Beast for the HTTP suite:
// one keep-alive connection, reconnecting when the server closed it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::testing {

struct http_result {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower case
  std::string body;

  std::string header(const std::string& lower_name) const;
  bool has_header(const std::string& lower_name) const { return headers.count(lower_name) > 0; }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

class http_client {
 public:
  explicit http_client(unsigned short port);
  ~http_client();

  http_result send(const std::string& method, const std::string& target, const std::string& body = {},
                   const header_list& headers = {});
  // JSON body with Content-Type: application/json.
  http_result post_json(const std::string& target, const std::string& json, const header_list& headers = {});
  http_result get(const std::string& target, const header_list& headers = {});

  // Every body this client has received, so a suite can assert what no
  // response may ever contain.
  const std::vector<std::string>& bodies_seen() const { return bodies_seen_; }

 private:
  void connect();
  unsigned short port_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  std::vector<std::string> bodies_seen_;
};

// Sends raw bytes on a fresh connection and returns what came back until
// the server closed or `timeout_ms` passed.
std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms = 5000);

}  // namespace gatehouse::testing
