#include "smtp/smtp_transport.hpp"

#include "base/request_deadline.hpp"
#include "base/text.hpp"
#include "crypto/crypto.hpp"
#include "net/resolve.hpp"
#include "net/run_one.hpp"
#include "smtp/smtp_policy.hpp"
#include "smtp/smtp_wire.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace gatehouse::smtp {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;
using mail::delivery_error;

namespace {

constexpr std::size_t max_address_bytes = 254;  // RFC 5321's path limit less the brackets
constexpr std::size_t read_chunk = 4096;
// QUIT is a courtesy: the message is already accepted, so its answer is
// not worth waiting long for.
constexpr std::chrono::milliseconds quit_timeout{1000};

[[noreturn]] void retryable(const std::string& what) { throw delivery_error(what, true); }
[[noreturn]] void permanent(const std::string& what) { throw delivery_error(what, false); }

// An address goes into "MAIL FROM:<...>" as it is, so nothing in it may
// end the command or the path. The composer checks more (is_safe_address);
// this is what the protocol itself needs.
bool is_envelope_safe(std::string_view address, bool may_be_empty) {
  if (address.empty()) return may_be_empty;  // "<>": the null reverse-path
  if (address.size() > max_address_bytes) return false;
  return std::all_of(address.begin(), address.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '<' && c != '>';
  });
}

bool is_helo_token(std::string_view s) {
  return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '[' || c == ']' || c == ':';
         });
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string authority(const smtp_settings& s) {
  const bool v6 = s.host.find(':') != std::string::npos;
  return (v6 ? "[" + s.host + "]" : s.host) + ":" + std::to_string(s.port);
}

std::vector<tcp::endpoint> resolve(const smtp_settings& s, steady::time_point deadline) {
  try {
    return net::resolve_before(s.host, s.port, deadline);
  } catch (const net::resolve_error& e) {
    retryable(e.what());
  }
}

// What the server said it can do, from its EHLO reply.
struct capabilities {
  bool starttls = false;
  bool auth_plain = false;
  bool auth_login = false;
  std::optional<std::size_t> size_limit;  // SIZE n, n > 0
};

capabilities read_capabilities(const reply& r) {
  capabilities caps;
  for (std::size_t i = 1; i < r.lines.size(); ++i) {  // the first line is the server's name
    const std::string line = text::ascii_lower(r.lines[i]);
    const auto space = line.find_first_of(" =");
    const std::string keyword = line.substr(0, space);
    const std::string params = space == std::string::npos ? "" : line.substr(space + 1);
    if (keyword == "starttls") caps.starttls = true;
    if (keyword == "auth") {
      const std::string padded = " " + params + " ";
      caps.auth_plain = caps.auth_plain || padded.find(" plain ") != std::string::npos;
      caps.auth_login = caps.auth_login || padded.find(" login ") != std::string::npos;
    }
    if (keyword == "size" && !params.empty() && params.size() <= 15 &&
        std::all_of(params.begin(), params.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      const auto n = std::stoull(params);
      if (n > 0) caps.size_limit = static_cast<std::size_t>(n);
    }
  }
  return caps;
}

// Throws unless the reply has one of the wanted codes: a 4xx may pass
// (retryable), a 5xx never will, anything else is a confused server.
void expect(const reply& r, std::initializer_list<int> wanted, const std::string& step) {
  if (std::find(wanted.begin(), wanted.end(), r.code) != wanted.end()) return;
  const std::string code = " (" + std::to_string(r.code) + ")";
  if (r.code >= 400 && r.code < 500) retryable(step + " refused" + code);
  if (r.code >= 500) permanent(step + " refused" + code);
  retryable("unexpected reply to " + step + code);
}

// One connection, one message: owns its io_context, so this thread alone
// drives its I/O, and beast's per-stream expiry timer bounds every step.
// The context is declared first so it outlives the streams. The whole
// delivery ends by total_timeout or the request's deadline, the sooner.
class session {
 public:
  session(const smtp_settings& s, std::function<ssl::context&()> tls_context)
      : s_(s),
        tls_context_(std::move(tls_context)),
        total_deadline_(request_deadline::cap(steady::now() + s.total_timeout)) {}

  bool secure() const { return secure_.has_value(); }

  void connect() {
    const auto deadline = std::min(total_deadline_, steady::now() + s_.connect_timeout);
    const auto addresses = resolve(s_, deadline);
    plain_.emplace(ioc_);
    plain_->expires_at(deadline);
    const auto ec = run([&](auto handler) { plain_->async_connect(addresses, handler); });
    if (ec == beast::error::timeout) retryable("connecting to " + authority(s_) + " timed out");
    if (ec) retryable("cannot connect to " + authority(s_) + ": " + ec.message());
    boost::system::error_code ignored;
    plain_->socket().set_option(tcp::no_delay(true), ignored);
    if (s_.implicit_tls) handshake(deadline);
  }

  // After STARTTLS's 220, or at once for smtps://.
  void handshake(steady::time_point deadline) {
    if (!in_.empty())  // bytes sent ahead of the handshake could be an attacker's (CVE-2011-0411)
      retryable("the server sent data before the TLS handshake");
    secure_.emplace(std::move(*plain_), tls_context_());
    plain_.reset();
    SSL* handle = secure_->native_handle();
    bool configured = true;
    if (is_ip_literal(s_.host)) {
      // No SNI for addresses (RFC 6066); the certificate must name the IP.
      configured = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), s_.host.c_str()) == 1;
    } else {
      configured = SSL_set_tlsext_host_name(handle, s_.host.c_str()) == 1 &&
                   SSL_set1_host(handle, s_.host.c_str()) == 1;
      SSL_set_hostflags(handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    if (!configured) permanent("cannot set up TLS for " + authority(s_));
    tcp().expires_at(std::min(deadline, total_deadline_));
    const auto ec = run([&](auto handler) { secure_->async_handshake(ssl::stream_base::client, handler); });
    if (!ec) return;
    const long verify = SSL_get_verify_result(handle);
    if (verify != X509_V_OK)
      permanent(std::string("TLS certificate verification failed for ") + authority(s_) + " (" +
                X509_verify_cert_error_string(verify) + ")");
    if (ec == beast::error::timeout) retryable("the TLS handshake with " + authority(s_) + " timed out");
    // An alert or a protocol mismatch will not go away by itself; a
    // connection closed or reset mid-handshake may.
    if (ec.category() == asio::error::get_ssl_category())
      permanent("the TLS handshake with " + authority(s_) + " failed (" + ec.message() + ")");
    retryable("the TLS handshake with " + authority(s_) + " failed (" + ec.message() + ")");
  }

  // `step` names the line in errors; the line itself never goes into one
  // (it may carry an address or, for AUTH, credentials).
  void send(std::string_view line, const std::string& step, std::chrono::milliseconds timeout) {
    tcp().expires_at(step_deadline(timeout));
    const auto ec = run([&](auto handler) {
      visit([&](auto& stream) { asio::async_write(stream, asio::buffer(line.data(), line.size()), handler); });
    });
    if (ec) io_failure(ec, "sending " + step);
  }

  reply read_reply(const std::string& step, std::chrono::milliseconds timeout) {
    tcp().expires_at(step_deadline(timeout));
    for (;;) {
      reply r;
      switch (take_reply(in_, r)) {
        case reply_status::complete:
          return r;
        case reply_status::malformed:
          retryable("malformed reply to " + step);
        case reply_status::incomplete:
          break;
      }
      char chunk[read_chunk];
      std::size_t got = 0;
      const auto ec = run([&](auto handler) {
        visit([&](auto& stream) {
          stream.async_read_some(asio::buffer(chunk), [&got, handler](beast::error_code e, std::size_t n) mutable {
            got = n;
            handler(e);
          });
        });
      });
      in_.append(chunk, got);
      if (ec && got == 0) io_failure(ec, "waiting for the reply to " + step);
    }
  }

  reply command(std::string_view line, const std::string& step) {
    send(line, step, s_.command_timeout);
    return read_reply(step, s_.command_timeout);
  }

  // EHLO, or HELO for a server that refuses EHLO with a 5xx (RFC 5321
  // section 4.1.4); HELO tells us of no extensions.
  capabilities hello() {
    const reply ehlo = command("EHLO " + s_.helo_name + "\r\n", "EHLO");
    if (ehlo.code == 250) return read_capabilities(ehlo);
    if (ehlo.code < 500) expect(ehlo, {250}, "EHLO");
    expect(command("HELO " + s_.helo_name + "\r\n", "HELO"), {250}, "HELO");
    return {};
  }

  void quit() noexcept {
    try {
      send("QUIT\r\n", "QUIT", quit_timeout);
      read_reply("QUIT", quit_timeout);
    } catch (const std::exception&) {
      // the message is delivered; a server that hangs up first is fine
    }
  }

 private:
  beast::tcp_stream& tcp() { return secure_ ? secure_->next_layer() : *plain_; }

  template <class F>
  void visit(F&& f) {
    if (secure_)
      f(*secure_);
    else
      f(*plain_);
  }

  steady::time_point step_deadline(std::chrono::milliseconds timeout) const {
    return std::min(total_deadline_, steady::now() + timeout);
  }

  template <class Start>
  beast::error_code run(Start&& start) {
    return net::run_one(ioc_, std::forward<Start>(start));
  }

  [[noreturn]] void io_failure(const beast::error_code& ec, const std::string& what) {
    if (ec == beast::error::timeout) retryable("timed out " + what);
    retryable("connection lost " + what + " (" + ec.message() + ")");
  }

  asio::io_context ioc_{1};
  const smtp_settings& s_;
  std::function<ssl::context&()> tls_context_;
  steady::time_point total_deadline_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  std::string in_;  // received, not yet parsed; bounded by take_reply's limits
};

void authenticate(session& conn, const capabilities& caps, const std::string& user, const std::string& pass) {
  const auto check = [](const reply& r, std::initializer_list<int> wanted) {
    if (r.code == 535) permanent("SMTP authentication failed (535)");
    expect(r, wanted, "AUTH");
  };
  if (caps.auth_plain) {
    // RFC 4616: authzid (empty) NUL authcid NUL password.
    const std::string token = crypto::base64_encode(std::string(1, '\0') + user + '\0' + pass);
    check(conn.command("AUTH PLAIN " + token + "\r\n", "AUTH"), {235});
  } else if (caps.auth_login) {
    check(conn.command("AUTH LOGIN\r\n", "AUTH"), {334});
    check(conn.command(crypto::base64_encode(user) + "\r\n", "AUTH"), {334});
    check(conn.command(crypto::base64_encode(pass) + "\r\n", "AUTH"), {235});
  } else {
    permanent("the server offers neither AUTH PLAIN nor AUTH LOGIN");
  }
}

}  // namespace

smtp_transport::smtp_transport(smtp_settings settings) : settings_(std::move(settings)) {
  if (settings_.host.empty()) throw std::invalid_argument("smtp_transport: no host");
  if (settings_.port == 0) throw std::invalid_argument("smtp_transport: no port");
  if (!is_helo_token(settings_.helo_name)) throw std::invalid_argument("smtp_transport: invalid HELO name");
  if (settings_.username.has_value() != settings_.password.has_value())
    throw std::invalid_argument("smtp_transport: a user name needs a password and a password a user name");
  for (const auto* s : {&settings_.username, &settings_.password})
    if (*s && (s->value().empty() || s->value().size() > max_credential_bytes))
      throw std::invalid_argument("smtp_transport: credentials must be 1 to 256 bytes");
  if (settings_.connect_timeout.count() <= 0 || settings_.command_timeout.count() <= 0 ||
      settings_.total_timeout.count() <= 0)
    throw std::invalid_argument("smtp_transport: timeouts must be positive");
}

smtp_transport::~smtp_transport() = default;

ssl::context& smtp_transport::tls_context() {
  std::lock_guard lock(tls_mutex_);
  if (tls_) return *tls_;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    permanent("cannot require TLS 1.2");
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (settings_.ca_file && !settings_.ca_file->empty()) {
    ctx->load_verify_file(*settings_.ca_file, ec);
    if (ec) permanent("cannot load the CA file " + *settings_.ca_file);
  } else {
    // Debian's bundle, then Amazon Linux's (the Lambda binary carries
    // Debian's OpenSSL, whose built-in default path AL2023 lacks), then
    // OpenSSL's own defaults.
    bool loaded = false;
    for (const char* bundle : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}) {
      std::error_code fs_ec;
      if (!std::filesystem::is_regular_file(bundle, fs_ec)) continue;
      ctx->load_verify_file(bundle, ec);
      if (!ec) {
        loaded = true;
        break;
      }
    }
    if (!loaded) {
      ctx->set_default_verify_paths(ec);
      if (ec) permanent("no CA bundle found for TLS");
    }
  }
  tls_ = std::move(ctx);
  return *tls_;
}

void smtp_transport::deliver(const mail::outgoing& message) {
  // Everything that can be checked without the server is, before connecting.
  if (!is_envelope_safe(message.envelope_from, true)) permanent("the envelope sender is not a valid address");
  if (!is_envelope_safe(message.recipient, false)) permanent("the recipient is not a valid address");
  if (message.data.empty()) permanent("the message is empty");
  if (message.data.size() > settings_.max_message_bytes)
    permanent("the message exceeds " + std::to_string(settings_.max_message_bytes) + " bytes");
  std::string payload;
  try {
    payload = data_payload(message.data);
  } catch (const std::invalid_argument& e) {
    permanent(std::string("the message cannot be sent: ") + e.what());
  }

  session conn(settings_, [this]() -> ssl::context& { return tls_context(); });
  conn.connect();
  expect(conn.read_reply("the greeting", settings_.command_timeout), {220}, "the connection");
  capabilities caps = conn.hello();

  switch (decide_tls(settings_.implicit_tls, caps.starttls, settings_.host)) {
    case tls_step::already_secure:
    case tls_step::stay_plaintext:
      break;
    case tls_step::refuse:
      permanent("the server offers no STARTTLS");
    case tls_step::start_tls:
      expect(conn.command("STARTTLS\r\n", "STARTTLS"), {220}, "STARTTLS");
      conn.handshake(steady::now() + settings_.command_timeout);
      caps = conn.hello();  // RFC 3207: forget what was said in the clear
      break;
  }

  if (settings_.username) {
    if (!may_send_credentials(conn.secure(), settings_.host))
      permanent("refusing to send credentials without TLS");
    authenticate(conn, caps, *settings_.username, *settings_.password);
  }
  if (caps.size_limit && payload.size() > *caps.size_limit) permanent("the message exceeds the server's SIZE limit");

  expect(conn.command("MAIL FROM:<" + message.envelope_from + ">\r\n", "MAIL FROM"), {250}, "MAIL FROM");
  expect(conn.command("RCPT TO:<" + message.recipient + ">\r\n", "RCPT TO"), {250, 251}, "RCPT TO");
  expect(conn.command("DATA\r\n", "DATA"), {354}, "DATA");
  conn.send(payload, "the message", settings_.command_timeout);
  expect(conn.read_reply("the message", settings_.command_timeout), {250}, "the message");
  conn.quit();
}

}  // namespace gatehouse::smtp
