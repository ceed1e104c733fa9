#pragma once
// MAIL_TRANSPORT=smtp://[user:pass@]host[:port] and smtps://...: where the
// SMTP transport connects, as whom, and how long it may wait.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::smtp {

struct smtp_settings {
  bool implicit_tls = false;  // smtps:// (TLS from the first byte); smtp:// upgrades with STARTTLS
  std::string host;           // lower-case DNS name, dotted IPv4, or IPv6 without the brackets
  unsigned short port = 587;
  std::optional<std::string> username;  // both set or both unset
  std::optional<std::string> password;
  std::string helo_name = "localhost";  // what EHLO says we are
  std::chrono::milliseconds connect_timeout{5000};  // resolving, connecting and the first TLS handshake
  std::chrono::milliseconds command_timeout{10000};  // each command and its reply
  std::chrono::milliseconds total_timeout{30000};    // one whole delivery
  std::optional<std::string> ca_file;  // trusted CAs (SSL_CERT_FILE); unset: the system bundle
  std::size_t max_message_bytes = 10 * 1024 * 1024;  // larger messages are refused before connecting
};

// Longest user name and password accepted, after percent-decoding.
inline constexpr std::size_t max_credential_bytes = 256;

// Parses smtp://[user:pass@]host:port (port 587 when omitted) and
// smtps://[user:pass@]host[:port] (port 465). The user and password are
// percent-decoded and may hold any byte but a control character; the
// host is a DNS name, a dotted IPv4 address or a bracketed IPv6 address;
// nothing may follow but one "/". Throws std::invalid_argument whose
// text says what is wrong and never repeats any part of the URL (so no
// password can reach a log through it).
smtp_settings parse_smtp_url(std::string_view url);

// 127.0.0.0/8, ::1 (bracketed or not) and "localhost" (any case): a peer
// on this machine, so traffic to it never crosses a network.
bool is_loopback_host(std::string_view host);

}  // namespace gatehouse::smtp
