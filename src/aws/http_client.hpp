#pragma once
// A small HTTP/1.1 client for AWS endpoints over Beast: TLS (verified
// certificate chain and host name, SNI) or plain HTTP for loopback
// endpoints, keep-alive connections pooled per endpoint. Thread-safe.
#include "aws/endpoint.hpp"
#include "aws/http_types.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace gatehouse::aws {

struct http_client_options {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{10000};  // one attempt, connect included
  std::size_t max_idle_per_endpoint = 32;
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  // Trusted CAs; nullopt means the bundle find_ca_bundle() finds, at the first TLS use.
  std::optional<std::filesystem::path> ca_file;
};

// The connection failed, timed out, was reset, or TLS verification
// failed: the request may not have reached the service. Retryable.
class transport_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class http_client {
 public:
  explicit http_client(http_client_options options = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // One attempt over a pooled connection (a fresh one when none is idle),
  // ended by request_timeout or the request's deadline, whichever is first.
  // Sets Host (from the endpoint) and Content-Length; prefixes the
  // endpoint's base_path to req.path. Throws transport_error.
  http_response send(const endpoint& ep, const http_request& req);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// SSL_CERT_FILE when set and readable, else the first existing of the
// Debian (/etc/ssl/certs/ca-certificates.crt) and Amazon Linux
// (/etc/pki/tls/certs/ca-bundle.crt) bundles.
std::optional<std::filesystem::path> find_ca_bundle(const std::optional<std::string>& ssl_cert_file);

}  // namespace gatehouse::aws
