#include "support_test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
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
#include <mutex>
#include <thread>

namespace gatehouse::aws::testing {

std::optional<std::string> received_request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (boost::beast::iequals(n, name)) return v;
  return std::nullopt;
}

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using net::as_tuple;
using net::use_awaitable;

std::shared_ptr<net::ssl::context> tls_context(const server_tls& tls) {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  ctx->use_certificate_chain_file(tls.cert.string());
  ctx->use_private_key_file(tls.key.string(), net::ssl::context::pem);
  return ctx;
}

}  // namespace

struct test_server::state {
  state(script reply, std::optional<server_tls> tls, unsigned short port)
      : script_(std::move(reply)), tls_(tls ? tls_context(*tls) : nullptr), acceptor_(ioc_) {
    const tcp::endpoint at(net::ip::make_address("127.0.0.1"), port);
    acceptor_.open(at.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));  // Linux wants it on both binds
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, accept_loop(), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    net::post(ioc_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (const auto& weak : sockets_)
        if (auto* socket = weak.lock().get()) {
          socket->shutdown(tcp::socket::shutdown_both, ignored);
          socket->close(ignored);
        }
      ioc_.stop();
    });
    thread_.join();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(use_awaitable));
      if (ec) co_return;
      const std::size_t number = ++connections_;
      if (tls_)
        net::co_spawn(ioc_, tls_session(std::move(socket), number), net::detached);
      else
        net::co_spawn(ioc_, plain_session(std::move(socket), number), net::detached);
    }
  }

  // Each session keeps a shared hold on its socket and lends stop() a weak one.
  net::awaitable<void> plain_session(tcp::socket socket, std::size_t number) {
    boost::beast::tcp_stream stream(std::move(socket));
    auto hold = lend(stream.socket());
    co_await serve(stream, number, {});
  }

  net::awaitable<void> tls_session(tcp::socket socket, std::size_t number) {
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream(std::move(socket), *tls_);
    auto hold = lend(stream.next_layer().socket());
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, as_tuple(use_awaitable));
    if (ec) co_return;  // the client refused us, or we it
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    co_await serve(stream, number, sni ? sni : "");
  }

  std::shared_ptr<tcp::socket> lend(tcp::socket& socket) {
    std::shared_ptr<tcp::socket> hold(&socket, [](tcp::socket*) {});  // owned by the session's stream
    sockets_.push_back(hold);
    return hold;
  }

  template <class Stream>
  net::awaitable<void> serve(Stream& stream, std::size_t number, std::string sni) {
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
      for (const auto& f : req) got.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
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
        net::steady_timer forever(stream.get_executor(), std::chrono::hours(1));
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
  std::shared_ptr<net::ssl::context> tls_;
  net::io_context ioc_{1};
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::vector<std::weak_ptr<tcp::socket>> sockets_;  // the io thread's only
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<received_request> requests_;
  std::thread thread_;
};

test_server::test_server(script reply, std::optional<server_tls> tls, unsigned short port)
    : state_(std::make_unique<state>(std::move(reply), std::move(tls), port)) {}

test_server::~test_server() { stop(); }

void test_server::stop() { state_->stop(); }

unsigned short test_server::port() const { return state_->port_; }

std::size_t test_server::connections() const { return state_->connections_.load(); }

std::vector<received_request> test_server::requests() const {
  std::lock_guard lock(state_->mutex_);
  return state_->requests_;
}

}  // namespace gatehouse::aws::testing
