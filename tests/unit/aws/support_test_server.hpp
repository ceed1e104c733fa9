#pragma once
// An in-process HTTP/1.1 server on 127.0.0.1 for the AWS client tests:
// real sockets on a free port, plain or TLS, each reply scripted by the
// test. One thread serves every connection (C++20 coroutines), so the
// script runs serialised; it is stopped by the destructor.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gatehouse::aws::testing {

struct received_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string sni;                      // the TLS server name the client sent, or empty
  std::size_t connection = 0;           // 1-based, in accept order
  std::size_t index_on_connection = 0;  // 1-based

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (boost::beast::iequals(n, name)) return v;
    return std::nullopt;
  }
};

struct scripted_reply {
  enum class then_what {
    keep_open,            // answer; keep the connection for more requests
    close_after_reply,    // answer (announcing keep-alive), then close: an idle close
    close_without_reply,  // close as soon as the request is read
    never_answer,         // hold the connection and say nothing
  };
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  then_what then = then_what::keep_open;
};

// Server side TLS from PEM files.
inline std::shared_ptr<boost::asio::ssl::context> server_tls_context(const std::filesystem::path& cert,
                                                                     const std::filesystem::path& key) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  ctx->use_certificate_chain_file(cert.string());
  ctx->use_private_key_file(key.string(), boost::asio::ssl::context::pem);
  return ctx;
}

class test_server {
 public:
  using script = std::function<scripted_reply(const received_request&)>;

  explicit test_server(script reply, std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
      : script_(std::move(reply)),
        tls_(std::move(tls)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(ioc_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~test_server() { stop(); }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  // Stops serving: open connections are dropped when the io_context goes.
  void stop() {
    if (!thread_.joinable()) return;
    ioc_.stop();
    thread_.join();
  }

  unsigned short port() const { return port_; }
  std::size_t connections() const { return connections_.load(); }
  std::vector<received_request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      const std::size_t number = ++connections_;
      if (tls_)
        boost::asio::co_spawn(ioc_, tls_session(std::move(socket), number), boost::asio::detached);
      else
        boost::asio::co_spawn(ioc_, plain_session(std::move(socket), number), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> plain_session(tcp::socket socket, std::size_t number) {
    boost::beast::tcp_stream stream(std::move(socket));
    co_await serve(stream, number, {});
  }

  boost::asio::awaitable<void> tls_session(tcp::socket socket, std::size_t number) {
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream(std::move(socket), *tls_);
    auto [ec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                                boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;  // the client refused us, or we it
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    co_await serve(stream, number, sni ? sni : "");
  }

  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream, std::size_t number, std::string sni) {
    namespace bhttp = boost::beast::http;
    using boost::asio::as_tuple;
    using boost::asio::use_awaitable;
    boost::beast::flat_buffer buffer;
    for (std::size_t index = 1;; ++index) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [read_ec, read_n] = co_await bhttp::async_read(stream, buffer, parser, as_tuple(use_awaitable));
      if (read_ec) co_return;
      const auto& req = parser.get();
      received_request got;
      got.method = std::string(req.method_string());
      got.target = std::string(req.target());
      for (const auto& f : req)
        got.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      got.body = req.body();
      got.sni = sni;
      got.connection = number;
      got.index_on_connection = index;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(got);
      }
      const scripted_reply reply = script_(got);
      using then_what = scripted_reply::then_what;
      if (reply.then == then_what::close_without_reply) co_return;
      if (reply.then == then_what::never_answer) {
        boost::asio::steady_timer forever(stream.get_executor(), std::chrono::hours(1));
        co_await forever.async_wait(as_tuple(use_awaitable));
        co_return;
      }
      const auto status = static_cast<bhttp::status>(reply.status);
      if (got.method == "HEAD") {
        // A HEAD answer states the length of the body it does not carry.
        bhttp::response<bhttp::empty_body> res{status, 11};
        for (const auto& [n, v] : reply.headers) res.insert(n, v);
        res.content_length(reply.body.size());
        res.keep_alive(true);
        bhttp::response_serializer<bhttp::empty_body> sr{res};
        auto [write_ec, write_n] = co_await bhttp::async_write_header(stream, sr, as_tuple(use_awaitable));
        if (write_ec) co_return;
      } else {
        bhttp::response<bhttp::string_body> res{status, 11};
        for (const auto& [n, v] : reply.headers) res.insert(n, v);
        res.body() = reply.body;
        res.keep_alive(true);
        res.prepare_payload();
        auto [write_ec, write_n] = co_await bhttp::async_write(stream, res, as_tuple(use_awaitable));
        if (write_ec) co_return;
      }
      if (reply.then == then_what::close_after_reply) co_return;
    }
  }

  script script_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<received_request> requests_;
  std::thread thread_;
};

}  // namespace gatehouse::aws::testing
