#pragma once
// For the few replies no real SMTP server will give (a malformed greeting,
// bytes injected after STARTTLS, a 5xx to EHLO): a loopback TCP server
// that answers each command line with the next canned reply, and records
// the commands it got. After a 354 it takes the message up to "." as one
// command. One connection; every socket call is bounded by a timeout.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::smtp::testing {

class scripted_server {
 public:
  // replies[0] is the greeting; then one reply per command received.
  explicit scripted_server(std::vector<std::string> replies) : replies_(std::move(replies)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("scripted_server: cannot listen");
    port_ = ntohs(addr.sin_port);
    timeval tv{5, 0};  // nothing in a test waits longer
    ::setsockopt(listener_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_server() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  unsigned short port() const { return port_; }
  std::vector<std::string> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  void serve() {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::size_t next = 0;
    const auto reply = [&] {
      if (next >= replies_.size()) return false;
      const std::string& r = replies_[next++];
      return ::send(fd, r.data(), r.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(r.size());
    };
    bool data_mode = false;
    std::string in, message;
    char buf[4096];
    if (reply()) {
      for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        bool alive = true;
        for (std::size_t eol; alive && (eol = in.find("\r\n")) != std::string::npos;) {
          const std::string line = in.substr(0, eol);
          in.erase(0, eol + 2);
          if (data_mode) {
            if (line != ".") {
              message += line + "\r\n";
              continue;
            }
            data_mode = false;
            record(message);
          } else {
            record(line);
          }
          const bool was_354 = next < replies_.size() && replies_[next].rfind("354", 0) == 0;
          alive = reply();
          data_mode = was_354;
        }
        if (!alive) break;
      }
    }
    ::close(fd);
  }

  void record(const std::string& command) {
    std::lock_guard lock(mutex_);
    commands_.push_back(command);
  }

  std::vector<std::string> replies_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> commands_;
};

}  // namespace gatehouse::smtp::testing
