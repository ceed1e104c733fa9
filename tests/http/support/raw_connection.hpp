#pragma once
// A plain TCP connection to the server for tests that must do what no
// well-behaved client does: send bytes one at a time, stop half-way,
// half-close, reset, pipeline after a refusal. Header-only, POSIX sockets.
// Also a splitter for the responses the server wrote back to back.
#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::testing {

class raw_connection {
 public:
  explicit raw_connection(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const int err = errno;
      ::close(fd_);
      throw std::runtime_error(std::string("connect: ") + std::strerror(err));
    }
  }
  ~raw_connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  raw_connection(raw_connection&& other) noexcept
      : fd_(other.fd_), closed_(other.closed_), received_(std::move(other.received_)) {
    other.fd_ = -1;
  }

  // Sends every byte; false once the server has closed or reset the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // No more bytes from us (FIN); the server may still answer.
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Closes with a reset (RST) instead of a FIN: no TIME_WAIT, and the
  // abrupt end a crashed or hostile client gives.
  void abort() {
    const linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

  // Reads what arrives within `timeout` (without waiting for more once the
  // server closed); appends to received().
  void read_for(std::chrono::milliseconds timeout) { read_until([] { return false; }, timeout); }

  // Reads until the server closes the connection (EOF or reset) or
  // `timeout` passes; closed() tells which. Returns everything received.
  const std::string& read_until_closed(std::chrono::milliseconds timeout) {
    read_until([] { return false; }, timeout);
    return received_;
  }

  // Reads until `count` whole responses arrived, the server closed, or `timeout` passed.
  const std::string& read_responses(std::size_t count, std::chrono::milliseconds timeout);

  // The server ended the connection (EOF or reset) while we were reading.
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }
  int fd() const { return fd_; }

  // Whether the server has closed the connection, looking without blocking.
  bool peer_closed_now() {
    read_until([] { return true; }, std::chrono::milliseconds(0));
    return closed_;
  }

 private:
  template <class Done>
  void read_until(Done done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char chunk[16 * 1024];
    while (!closed_ && fd_ >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return;  // timed out
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closed_ = true;  // EOF, or a reset
        return;
      }
      received_.append(chunk, static_cast<std::size_t>(n));
      if (done()) return;
    }
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

// One response as the server framed it (Content-Length, or none for 204).
struct raw_response {
  int status = 0;
  header_list headers;  // names lower case, in order, repeats kept
  std::string body;

  std::string header(const std::string& lower_name) const {
    for (const auto& [n, v] : headers)
      if (n == lower_name) return v;
    return {};
  }
  std::size_t count(const std::string& lower_name) const {
    std::size_t c = 0;
    for (const auto& h : headers) c += h.first == lower_name;
    return c;
  }
};

// The complete responses at the start of `bytes`, in order; an incomplete
// tail is left out. Throws on bytes that are not an HTTP/1.x response.
inline std::vector<raw_response> split_responses(std::string_view bytes) {
  std::vector<raw_response> out;
  while (!bytes.empty()) {
    const auto head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string_view::npos) break;
    std::string_view head = bytes.substr(0, head_end + 2);
    if (head.substr(0, 7) != "HTTP/1." || head.size() < 12)
      throw std::runtime_error("not an HTTP response: " + std::string(head.substr(0, 80)));
    raw_response r;
    r.status = std::stoi(std::string(head.substr(9, 3)));
    head.remove_prefix(head.find("\r\n") + 2);
    std::size_t length = 0;
    while (!head.empty()) {
      const auto eol = head.find("\r\n");
      const std::string_view line = head.substr(0, eol);
      head.remove_prefix(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) throw std::runtime_error("malformed header line: " + std::string(line));
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-length") length = std::stoul(std::string(value));
      r.headers.emplace_back(std::move(name), std::string(value));
    }
    const std::size_t body_start = head_end + 4;
    if (bytes.size() < body_start + length) break;
    r.body = std::string(bytes.substr(body_start, length));
    out.push_back(std::move(r));
    bytes.remove_prefix(body_start + length);
  }
  return out;
}

inline const std::string& raw_connection::read_responses(std::size_t count, std::chrono::milliseconds timeout) {
  const auto enough = [&] { return split_responses(received_).size() >= count; };
  if (!enough()) read_until(enough, timeout);
  return received_;
}

}  // namespace gatehouse::testing
