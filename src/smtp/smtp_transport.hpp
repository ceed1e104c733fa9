#pragma once
// MAIL_TRANSPORT=smtp:// and smtps://: each message on a connection of its
// own. Mail here is a few messages a minute at most, so a pool would save
// nothing worth its complexity, and on Lambda an idle pooled socket is
// frozen with the sandbox and found dead (or half-dead) at the next thaw.
//
// TLS: smtps:// from the first byte, otherwise STARTTLS, which is
// required unless the server is on this machine (smtp_policy.hpp). The
// certificate chain and the host name are always verified. Credentials,
// when configured, go with AUTH PLAIN or LOGIN, never in the clear to
// another host.
#include "mail/transport.hpp"
#include "smtp/smtp_settings.hpp"

#include <memory>
#include <mutex>

namespace boost::asio::ssl {
class context;
}

namespace gatehouse::smtp {

class smtp_transport : public mail::transport {
 public:
  // Throws std::invalid_argument for settings no delivery could use (no
  // host, a HELO name that is not one token, a zero timeout).
  explicit smtp_transport(smtp_settings settings);
  ~smtp_transport() override;
  smtp_transport(const smtp_transport&) = delete;
  smtp_transport& operator=(const smtp_transport&) = delete;

  // Connects, delivers, says QUIT. Every connect, read and write is
  // bounded by the settings' timeouts. Throws mail::delivery_error:
  // retryable for timeouts, lost connections, malformed or 4xx replies;
  // not for 5xx replies, a failed certificate check, a server without
  // STARTTLS or AUTH, or a message that cannot be sent as it is (bare
  // LF or CR, a line over 998 bytes, too large). A message that cannot
  // be sent is refused before connecting.
  void deliver(const mail::outgoing& message) override;

 private:
  boost::asio::ssl::context& tls_context();

  const smtp_settings settings_;
  // Built at the first TLS connection (loading the CA bundle is work a
  // plaintext or idle process never needs), then only read: OpenSSL
  // contexts are safe to share between connections on any thread.
  std::mutex tls_mutex_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace gatehouse::smtp
