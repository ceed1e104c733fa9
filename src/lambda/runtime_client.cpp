#include "lambda/runtime_client.hpp"

#include "lambda/runtime_reply.hpp"

#include "base/log.hpp"
#include "http/pipeline.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <thread>

namespace gatehouse::lambda {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// The protocol's names, in one place (as aws-lambda-cpp keeps them).
constexpr std::string_view api_prefix = "/2018-06-01/runtime";
// (The reply headers are read in runtime_reply.cpp.)
constexpr std::string_view header_error_type = "Lambda-Runtime-Function-Error-Type";

// Answers to posts are a few bytes of JSON.
constexpr std::size_t max_post_reply_bytes = 64 * 1024;

using string_request = bhttp::request<bhttp::string_body>;

struct host_port {
  std::string host;
  std::string port;
};

host_port split_api(std::string_view api) {
  const auto fail = [&] {
    throw std::invalid_argument("AWS_LAMBDA_RUNTIME_API: expected host:port");
  };
  if (api.empty() || api.size() > 300) fail();
  std::string_view host;
  std::string_view port;
  if (api.front() == '[') {
    const auto close = api.find(']');
    if (close == std::string_view::npos || close + 1 >= api.size() || api[close + 1] != ':') fail();
    host = api.substr(1, close - 1);
    port = api.substr(close + 2);
  } else {
    const auto colon = api.rfind(':');
    if (colon == std::string_view::npos) fail();
    host = api.substr(0, colon);
    port = api.substr(colon + 1);
  }
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (host.empty() || port.empty() || ec != std::errc{} || end != port.data() + port.size() ||
      number == 0 || number > 65535)
    fail();
  return {std::string(host), std::string(port)};
}

std::string error_document(std::string_view error_type, std::string_view message) {
  return boost::json::serialize(boost::json::object{{"errorMessage", message}, {"errorType", error_type}});
}

}  // namespace

struct runtime_client::impl {
  impl(std::string api, runtime_client_options opts) : options(opts) {
    auto hp = split_api(api);
    host = std::move(hp.host);
    port = std::move(hp.port);
    host_header = std::move(api);
  }

  std::string host;
  std::string port;
  std::string host_header;
  runtime_client_options options;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs one asynchronous operation to completion: Beast's timeouts apply
  // only to asynchronous operations, so each call drives the io_context.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  void disconnect() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
  }

  beast::error_code connect() {
    if (stream) return {};
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return ec;
    stream.emplace(io);
    stream->expires_after(options.connect_timeout);
    ec = run([&](auto handler) { stream->async_connect(endpoints, handler); });
    if (ec) disconnect();
    else stream->socket().set_option(tcp::no_delay(true), ec);
    return ec;
  }

  // One request and its answer on the kept-alive connection; any failure
  // drops the connection so the next attempt starts clean.
  beast::error_code exchange(string_request& req, reply_parser& parser,
                             std::optional<std::chrono::milliseconds> timeout) {
    beast::error_code ec = connect();
    if (ec) return ec;
    req.set(bhttp::field::host, host_header);
    req.keep_alive(true);
    req.prepare_payload();
    if (timeout)
      stream->expires_after(*timeout);
    else
      stream->expires_never();
    ec = run([&](auto handler) { bhttp::async_write(*stream, req, handler); });
    if (!ec) ec = run([&](auto handler) { bhttp::async_read(*stream, buffer, parser, handler); });
    if (ec || !parser.get().keep_alive()) disconnect();
    return ec;
  }

  void backoff(int attempt) const {
    auto delay = options.first_backoff;
    for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
    std::this_thread::sleep_for(std::min(delay, options.max_backoff));
  }

  void limit(reply_parser& parser, std::size_t body_limit) const {
    limit_reply(parser, options.max_header_bytes, body_limit);
  }

  // POSTs with explicit retries: transport failures and 5xx are transient
  // (the Runtime API restarting, a reset connection); 4xx is final.
  // Returns the final status (0 never: throws instead).
  unsigned post(const std::string& target, const std::string& body, std::string_view error_type) {
    for (int attempt = 1;; ++attempt) {
      string_request req{bhttp::verb::post, target, 11};
      req.set(bhttp::field::content_type, "application/json");
      if (!error_type.empty()) req.set(header_error_type, error_type);
      req.body() = body;
      reply_parser parser;
      limit(parser, max_post_reply_bytes);
      const beast::error_code ec = exchange(req, parser, options.post_timeout);
      const unsigned status = ec ? 0 : parser.get().result_int();
      if (status >= 200 && status < 300) return status;
      if (status >= 400 && status < 500) {
        log::warn("runtime API refused a post",
                  {{"target", target}, {"status", status}, {"answer", parser.get().body().substr(0, 512)}});
        return status;
      }
      log::warn("runtime API post failed", {{"target", target},
                                            {"attempt", attempt},
                                            {"status", status},
                                            {"error", ec ? ec.message() : std::string()}});
      if (attempt >= options.max_attempts)
        throw runtime_api_error("runtime API: POST " + target + " failed after " +
                                std::to_string(attempt) + " attempts");
      backoff(attempt);
    }
  }
};

runtime_client::runtime_client(std::string api, runtime_client_options options)
    : impl_(std::make_unique<impl>(std::move(api), options)) {}

runtime_client::~runtime_client() = default;

invocation runtime_client::next() {
  const std::string target = std::string(api_prefix) + "/invocation/next";
  for (int attempt = 1;; ++attempt) {
    string_request req{bhttp::verb::get, target, 11};
    reply_parser parser;
    impl_->limit(parser, impl_->options.max_event_bytes);
    const beast::error_code ec = impl_->exchange(req, parser, std::nullopt);
    const std::string request_id = reply_request_id(parser);

    if (ec == bhttp::error::body_limit && !request_id.empty()) {
      // Refused unread (the connection is already dropped): the invocation
      // fails, the sandbox lives on.
      log::error("invocation event too large", {{"aws_request_id", request_id},
                                                {"limit", impl_->options.max_event_bytes}});
      fail(request_id, "Runtime.EventTooLarge", "the event exceeds the runtime's size limit");
      attempt = 0;
      continue;
    }
    if (!ec && parser.get().result_int() == 200) {
      if (auto inv = invocation_of(parser)) {
        // The trace id travels in the invocation, never through the
        // environment: setenv here would race with getenv in any thread
        // still inside getaddrinfo (the AWS client's resolver thread can
        // outlive a timed-out request), which glibc does not make safe.
        // A child process that needs _X_AMZN_TRACE_ID gets it in its own
        // environment block.
        return std::move(*inv);
      }
      log::error("runtime API sent an invocation without a usable request id", {});
    }
    log::warn("runtime API next failed", {{"attempt", attempt},
                                          {"status", ec ? 0u : parser.get().result_int()},
                                          {"error", ec ? ec.message() : std::string()}});
    if (attempt >= impl_->options.max_attempts)
      throw runtime_api_error("runtime API: GET " + target + " failed after " + std::to_string(attempt) +
                              " attempts");
    impl_->backoff(attempt);
  }
}

void runtime_client::respond(const std::string& request_id, const std::string& body) {
  const std::string target = std::string(api_prefix) + "/invocation/" + request_id + "/response";
  const unsigned status = impl_->post(target, body, {});
  // Lambda refuses a response over its limit with 413; report that as the
  // invocation's error rather than leaving it to time out.
  if (status == 413)
    fail(request_id, "Function.ResponseSizeTooLarge", "the response exceeds Lambda's payload limit");
}

void runtime_client::fail(const std::string& request_id, std::string_view error_type,
                          std::string_view message) {
  const std::string target = std::string(api_prefix) + "/invocation/" + request_id + "/error";
  (void)impl_->post(target, error_document(error_type, message), error_type);
}

void runtime_client::init_error(std::string_view error_type, std::string_view message) {
  const std::string target = std::string(api_prefix) + "/init/error";
  (void)impl_->post(target, error_document(error_type, message), error_type);
}

}  // namespace gatehouse::lambda
