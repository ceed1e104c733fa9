#include "aws/http_client.hpp"

#include "base/request_deadline.hpp"
#include "base/text.hpp"
#include "net/resolve.hpp"
#include "net/run_one.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <iterator>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

namespace gatehouse::aws {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// AWS response headers are a few hundred bytes; S3 user metadata is capped at 8 KiB.
constexpr std::uint32_t response_header_limit = 64 * 1024;
// Interim (1xx) responses tolerated before the real one.
constexpr int max_interim_responses = 4;
constexpr std::size_t first_read_size = 16 * 1024;

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// RFC 9110 token characters, for methods and header names.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// Header values and targets are sent verbatim, so a CR, LF or NUL in
// them would let a caller's data split the message.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool is_visible_target(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '#';
  });
}

using request_message = bhttp::request<bhttp::span_body<const char>>;

request_message build_message(const endpoint& ep, const http_request& req) {
  if (!is_token(req.method)) throw std::invalid_argument("http_client: invalid method");
  if (req.path.empty() || req.path.front() != '/')
    throw std::invalid_argument("http_client: the path must begin with '/'");
  std::string target = ep.base_path + req.path;
  if (!req.query.empty()) target += "?" + req.query;
  if (!is_visible_target(target)) throw std::invalid_argument("http_client: invalid request target");

  request_message msg;
  msg.version(11);
  msg.method_string(req.method);
  msg.target(target);
  bool had_length = false;
  for (const auto& [name, value] : req.headers) {
    if (!is_token(name) || has_control(value)) throw std::invalid_argument("http_client: invalid header");
    if (text::ascii_iequals(name, "host")) continue;  // from the endpoint, below
    if (text::ascii_iequals(name, "content-length")) {
      had_length = true;
      continue;  // from the body, below
    }
    msg.insert(name, value);
  }
  msg.set(bhttp::field::host, ep.authority());
  msg.body() = {req.body.data(), req.body.size()};
  // S3 wants a length on every PUT/POST, empty or not; a bodiless GET,
  // HEAD or DELETE goes without one unless the caller signed one.
  const bool bodiless_method =
      req.method == "GET" || req.method == "HEAD" || req.method == "DELETE" || req.method == "OPTIONS";
  if (!req.body.empty() || had_length || !bodiless_method) msg.content_length(req.body.size());
  return msg;
}

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

// One pooled connection. It owns its io_context, so the thread that
// holds the connection drives its I/O alone and the stream's deadline
// (beast's expiry timer) applies to every step; the context is declared
// first so it outlives the streams.
struct connection {
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return secure ? secure->next_layer() : *plain; }

  template <class F>
  void visit(F&& f) {
    if (secure)
      f(*secure);
    else
      f(*plain);
  }

  template <class Start>
  beast::error_code run(Start&& start) {
    return net::run_one(ioc, std::forward<Start>(start));
  }

  // An idle connection that has become readable was closed (or spoken
  // to out of turn) by the server: not worth a request.
  bool looks_alive() {
    pollfd p{tcp().socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }
};

struct pool_key {
  bool tls;
  std::string host;
  unsigned short port;
  auto operator<=>(const pool_key&) const = default;
};

// A name or an IP literal, resolved before the deadline (net/resolve).
std::vector<tcp::endpoint> resolve(const endpoint& ep, steady::time_point deadline) {
  try {
    return net::resolve_before(ep.host, ep.port, deadline);
  } catch (const net::resolve_error& e) {
    throw transport_error(e.what());
  }
}

// What one exchange on one connection came to.
struct outcome {
  std::optional<http_response> response;
  bool reusable = false;         // the connection may go back to the pool
  bool before_response = false;  // failed before a single response byte arrived
  bool timed_out = false;
  std::string error;
};

}  // namespace

struct http_client::impl {
  http_client_options options;

  std::mutex pool_mutex;
  std::map<pool_key, std::vector<std::unique_ptr<connection>>> idle;

  std::mutex tls_mutex;
  std::unique_ptr<ssl::context> tls;

  explicit impl(http_client_options o) : options(std::move(o)) {}

  // Loaded at the first TLS connection, not at construction: reading the
  // CA bundle is cold-start work a plain-HTTP or idle process never needs.
  ssl::context& tls_context() {
    std::lock_guard lock(tls_mutex);
    if (tls) return *tls;
    const auto ca = options.ca_file ? options.ca_file : find_ca_bundle(std::nullopt);
    if (!ca) throw transport_error("no CA bundle found for TLS");
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
      throw transport_error("cannot require TLS 1.2");
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    ctx->load_verify_file(ca->string(), ec);
    if (ec) throw transport_error("cannot load the CA bundle " + ca->string());
    tls = std::move(ctx);
    return *tls;
  }

  std::unique_ptr<connection> take_idle(const pool_key& key) {
    for (;;) {
      std::unique_ptr<connection> conn;
      {
        std::lock_guard lock(pool_mutex);
        const auto it = idle.find(key);
        if (it == idle.end() || it->second.empty()) return nullptr;
        conn = std::move(it->second.back());  // the most recently used is the likeliest alive
        it->second.pop_back();
      }
      if (conn->looks_alive()) return conn;
    }
  }

  void put_idle(const pool_key& key, std::unique_ptr<connection> conn) {
    std::lock_guard lock(pool_mutex);
    auto& list = idle[key];
    if (list.size() < options.max_idle_per_endpoint) list.push_back(std::move(conn));
    // else: dropped here, closing the socket
  }

  std::unique_ptr<connection> open(const endpoint& ep, steady::time_point deadline) {
    const auto connect_deadline = std::min(deadline, steady::now() + options.connect_timeout);
    const auto addresses = resolve(ep, connect_deadline);
    auto conn = std::make_unique<connection>();
    if (ep.tls)
      conn->secure.emplace(conn->ioc, tls_context());
    else
      conn->plain.emplace(conn->ioc);

    auto& stream = conn->tcp();
    stream.expires_at(connect_deadline);
    auto ec = conn->run([&](auto handler) { stream.async_connect(addresses, handler); });
    if (ec == beast::error::timeout) throw transport_error("connecting to " + ep.authority() + " timed out");
    if (ec) throw transport_error("cannot connect to " + ep.authority() + ": " + ec.message());
    boost::system::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);

    if (ep.tls) {
      SSL* ssl_handle = conn->secure->native_handle();
      bool configured = true;
      if (is_ip_literal(ep.host)) {
        // No SNI for addresses (RFC 6066); the certificate must name the IP.
        configured = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), ep.host.c_str()) == 1;
      } else {
        configured = SSL_set_tlsext_host_name(ssl_handle, ep.host.c_str()) == 1 &&
                     SSL_set1_host(ssl_handle, ep.host.c_str()) == 1;
        SSL_set_hostflags(ssl_handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      }
      if (!configured) throw transport_error("cannot set up TLS for " + ep.authority());
      stream.expires_at(connect_deadline);
      ec = conn->run([&](auto handler) { conn->secure->async_handshake(ssl::stream_base::client, handler); });
      if (ec) {
        std::string why = describe(ec);
        const long verify = SSL_get_verify_result(ssl_handle);
        if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        throw transport_error("TLS handshake with " + ep.authority() + " failed: " + why);
      }
    }
    return conn;
  }

  outcome exchange(connection& conn, const endpoint& ep, const request_message& msg, bool head,
                   steady::time_point deadline) {
    outcome out;
    const auto fail = [&](std::string what, const beast::error_code& ec) {
      out.timed_out = ec == beast::error::timeout;
      out.error = std::move(what) + ep.authority() + (out.timed_out ? " timed out" : ": " + ec.message());
      return std::move(out);
    };
    conn.tcp().expires_at(deadline);
    auto ec = conn.run(
        [&](auto handler) { conn.visit([&](auto& stream) { bhttp::async_write(stream, msg, handler); }); });
    if (ec) {
      out.before_response = true;
      return fail("sending the request to ", ec);
    }

    // The first bytes are awaited on their own: a pooled connection that
    // the server closed while idle fails here, before anything arrived,
    // and only then is a second try on a fresh connection safe to judge.
    std::size_t got = 0;
    ec = conn.run([&](auto handler) {
      conn.visit([&](auto& stream) {
        stream.async_read_some(conn.buffer.prepare(first_read_size),
                               [&got, handler](beast::error_code e, std::size_t n) mutable {
                                 got = n;
                                 handler(e);
                               });
      });
    });
    conn.buffer.commit(got);
    if (ec && got == 0) {
      out.before_response = true;
      return fail("no response from ", ec);
    }

    for (int interim = 0;; ++interim) {
      bhttp::response_parser<bhttp::string_body> parser;
      parser.header_limit(response_header_limit);
      parser.body_limit(options.max_response_bytes);
      if (head) parser.skip(true);  // a HEAD response has a Content-Length but no body
      ec = conn.run([&](auto handler) {
        conn.visit([&](auto& stream) { bhttp::async_read(stream, conn.buffer, parser, handler); });
      });
      if (ec == bhttp::error::body_limit) {
        out.error = "the response from " + ep.authority() + " exceeds " +
                    std::to_string(options.max_response_bytes) + " bytes";
        return out;
      }
      if (ec == bhttp::error::header_limit) {
        out.error = "the response headers from " + ep.authority() + " are too large";
        return out;
      }
      if (ec) return fail("reading the response from ", ec);

      auto& res = parser.get();
      const int status = res.result_int();
      if (status >= 100 && status < 200 && status != 101) {
        if (interim >= max_interim_responses) {
          out.error = "too many interim responses from " + ep.authority();
          return out;
        }
        continue;
      }
      http_response response;
      response.status = status;
      response.headers.reserve(static_cast<std::size_t>(std::distance(res.begin(), res.end())));
      for (const auto& field : res) {
        response.headers.emplace_back(text::ascii_lower(field.name_string()), std::string(field.value()));
      }
      response.body = std::move(res.body());
      // Bytes after the response would be an answer to nothing: such a
      // connection is not reused.
      out.reusable = res.keep_alive() && status != 101 && conn.buffer.size() == 0;
      out.response = std::move(response);
      return out;
    }
  }
};

http_client::http_client(http_client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

http_client::~http_client() = default;

http_response http_client::send(const endpoint& ep, const http_request& req) {
  const auto msg = build_message(ep, req);
  const bool head = req.method == "HEAD";
  const auto deadline = request_deadline::cap(steady::now() + impl_->options.request_timeout);
  const pool_key key{ep.tls, ep.host, ep.port};

  if (auto conn = impl_->take_idle(key)) {
    auto out = impl_->exchange(*conn, ep, msg, head, deadline);
    if (out.response) {
      if (out.reusable) impl_->put_idle(key, std::move(conn));
      return std::move(*out.response);
    }
    // A reused connection that died before answering was most likely
    // closed by the server while idle: one more try, on a fresh
    // connection. Anything else (a timeout, a partial answer) is final.
    if (!out.before_response || out.timed_out) throw transport_error(out.error);
  }

  auto conn = impl_->open(ep, deadline);
  auto out = impl_->exchange(*conn, ep, msg, head, deadline);
  if (!out.response) throw transport_error(out.error);
  if (out.reusable) impl_->put_idle(key, std::move(conn));
  return std::move(*out.response);
}

std::optional<std::filesystem::path> find_ca_bundle(const std::optional<std::string>& ssl_cert_file) {
  namespace fs = std::filesystem;
  const auto usable = [](const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return false;
    std::ifstream in(p, std::ios::binary);
    return in.good();
  };
  if (ssl_cert_file && !ssl_cert_file->empty() && usable(*ssl_cert_file)) return fs::path(*ssl_cert_file);
  for (const char* candidate : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"})
    if (usable(candidate)) return fs::path(candidate);
  return std::nullopt;
}

}  // namespace gatehouse::aws
