#include "server/session.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/text.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <limits>

namespace gatehouse::server {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

namespace {
// Bytes of pipelined or in-flight input held at once; the rest waits in the kernel.
constexpr std::size_t read_buffer_limit = 64 * 1024;

// Hashing a password takes tens of milliseconds of CPU; the I/O threads
// need microseconds at a time. With the workers at nice 10 the scheduler
// lets an I/O thread in as soon as it wakes, so GET /health stays fast
// while logins saturate every core (docs/BENCHMARKS.md). Once per thread.
void lower_worker_priority() {
  thread_local const bool lowered = [] {
    return ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) == 0;
  }();
  (void)lowered;
}

std::string peer_address(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}
}  // namespace

session::session(asio::ip::tcp::socket&& socket, std::shared_ptr<server_state> state)
    : stream_(std::move(socket)), buffer_(read_buffer_limit), state_(std::move(state)) {
  peer_ip_ = peer_address(stream_.socket());
}

void session::start() {
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&session::do_read_header, shared_from_this()));
}

void session::stop_when_idle() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) self->close();
  });
}

void session::do_read_header() {
  if (state_->stopping) return close();
  parser_.emplace();
  parser_->header_limit(state_->options.header_limit);
  // The route's own limit is set once the headers are known; until then
  // the parser must not judge Content-Length by its 1 MiB default.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  idle_ = true;
  stream_.expires_after(state_->options.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&session::on_read_header, shared_from_this()));
}

void session::on_read_header(beast::error_code ec, std::size_t) {
  idle_ = false;
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
    return close();
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return refuse(error(error_kind::header_fields_too_large, "header_fields_too_large",
                        "the request line and headers are limited to " +
                            std::to_string(state_->options.header_limit) + " bytes"));
  if (ec) return refuse(error(error_kind::invalid_argument, "bad_request", "malformed HTTP request"));

  const auto& head = parser_->get();
  version_ = head.version();
  keep_alive_ = head.keep_alive();
  const std::string_view target = head.target();
  if (target.empty() || target.front() != '/')
    return refuse(error(error_kind::invalid_argument, "bad_request", "the request target must be a path"));
  // Request smuggling (RFC 9112 6.1, 6.3): with a Transfer-Encoding whose
  // last coding is not chunked, or any in HTTP/1.0, the body's length is
  // guesswork. Beast reads such a body as empty, so its bytes would be
  // parsed as the next request: refuse, which also closes the connection.
  if (head.count(bhttp::field::transfer_encoding) != 0 && (version_ < 11 || !parser_->chunked()))
    return refuse(error(error_kind::invalid_argument, "bad_request",
                        "Transfer-Encoding must end in chunked (and needs HTTP/1.1)"));

  const std::string_view path = target.substr(0, target.find('?'));
  route_ = state_->app.routes().options_for(head.method_string(), path);
  const std::size_t limit = route_ ? route_->max_body : http::default_json_body_limit;
  if (parser_->content_length() && *parser_->content_length() > limit)
    return refuse(error(error_kind::payload_too_large, "payload_too_large",
                        "the body is limited to " + std::to_string(limit) + " bytes"));
  parser_->body_limit(limit);

  // Clients that wait for permission before a large body (curl does above 1 MiB).
  const auto expect = head[bhttp::field::expect];
  if (!parser_->is_done() && text::ascii_iequals(expect, "100-continue")) {
    auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, version_);
    stream_.expires_after(state_->options.write_timeout);
    bhttp::async_write(stream_, *interim,
                       [self = shared_from_this(), interim](beast::error_code wec, std::size_t) {
                         if (wec) return self->close();
                         self->do_read_body();
                       });
    return;
  }
  do_read_body();
}

void session::do_read_body() {
  stream_.expires_after(state_->options.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&session::on_read_body, shared_from_this()));
}

void session::on_read_body(beast::error_code ec, std::size_t) {
  if (ec == bhttp::error::body_limit)
    return refuse(error(error_kind::payload_too_large, "payload_too_large", "the body is too large"));
  if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
      ec == bhttp::error::partial_message || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset)
    return close();
  if (ec) return refuse(error(error_kind::invalid_argument, "bad_request", "malformed HTTP request body"));
  run_request();
}

void session::run_request() {
  auto req = std::make_shared<http::request>(to_request(parser_->get(), peer_ip_));
  // Counted from now, with the body read: time in the worker queue is
  // part of the wait the client sees.
  req->deadline = state_->app.answer_by(std::chrono::steady_clock::now());
  if (!route_ || route_->runs_inline) return send(state_->app.handle(*req));

  if (state_->queued.fetch_add(1) >= state_->options.max_queued_requests) {
    state_->queued.fetch_sub(1);
    send(state_->app.reject(*req, error(error_kind::unavailable, "server_busy", "the server is busy, retry shortly")
                                      .with_header("retry-after", "1")));
    return;
  }
  asio::post(state_->workers, [self = shared_from_this(), req] {
    lower_worker_priority();
    self->state_->queued.fetch_sub(1);
    http::response res = self->state_->app.handle(*req);
    asio::post(self->stream_.get_executor(),
               [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
  });
}

void session::refuse(const error& e) {
  http::request req = parser_ ? to_request_head(parser_->get(), peer_ip_) : http::request{};
  keep_alive_ = false;  // the stream's framing can no longer be trusted
  refused_ = true;
  send(state_->app.reject(req, e));
}

void session::send(http::response res) {
  const bool keep_alive = keep_alive_ && !state_->stopping;
  response_ = std::make_shared<beast_response>(to_beast(std::move(res), version_, keep_alive));
  stream_.expires_after(state_->options.write_timeout);
  bhttp::async_write(stream_, *response_,
                     beast::bind_front_handler(&session::on_write, shared_from_this(), keep_alive));
}

void session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  response_.reset();
  if (!ec && refused_) return drain_then_close();
  if (ec || !keep_alive) return close();
  do_read_header();
}

void session::drain_then_close() {
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(2));
  on_drain(std::make_shared<std::array<char, 16 * 1024>>(), {}, 0);
}

void session::on_drain(std::shared_ptr<std::array<char, 16 * 1024>> scratch, beast::error_code ec,
                       std::size_t) {
  if (ec) return close();
  auto& buffer = *scratch;
  stream_.async_read_some(asio::buffer(buffer), beast::bind_front_handler(&session::on_drain,
                                                                          shared_from_this(),
                                                                          std::move(scratch)));
}

void session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace gatehouse::server
