#pragma once
// One HTTP/1.1 connection: read a request (headers first, so limits are
// known before the body), run it, write the response, repeat while the
// client keeps the connection alive. Requests on one connection are
// handled in order, one at a time, which also serialises pipelining.
#include "server/beast_convert.hpp"
#include "server/server_state.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>
#include <memory>
#include <optional>

namespace gatehouse::server {

class session : public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<server_state> state);

  void start();
  // Called at shutdown: closes the connection now if it is idle, else
  // after the response in flight.
  void stop_when_idle();

 private:
  void do_read_header();
  void on_read_header(boost::beast::error_code ec, std::size_t);
  void do_read_body();
  void on_read_body(boost::beast::error_code ec, std::size_t);
  void run_request();
  void refuse(const error& e);
  void send(http::response res);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t);
  void close();
  // After refusing a request whose body is still arriving: stop sending,
  // read and discard for a moment so the client sees our response
  // instead of a reset, then close.
  void drain_then_close();
  void on_drain(std::shared_ptr<std::array<char, 16 * 1024>> scratch, boost::beast::error_code ec,
                std::size_t);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<server_state> state_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<beast_response> response_;  // kept alive until written
  const http::route_options* route_ = nullptr;  // of the request being read; null for 404/405
  std::string peer_ip_;
  bool idle_ = false;  // waiting for the next request's first byte
  bool keep_alive_ = false;
  bool refused_ = false;
  unsigned version_ = 11;
};

}  // namespace gatehouse::server
