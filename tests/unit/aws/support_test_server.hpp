#pragma once
// An in-process HTTP/1.1 server on 127.0.0.1 for the AWS client tests:
// real sockets on a free (or a given) port, plain or TLS, each reply
// scripted by the test. One thread serves every connection, so the script
// runs serialised; it is stopped by the destructor.
//
// Compiled once (support_test_server.cpp, library `unit_test_server`):
// the Asio and Beast coroutines behind it are the slowest code of the tree
// to compile, and every suite that includes this header used to compile
// them again.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::aws::testing {

struct received_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string sni;                      // the TLS server name the client sent, or empty
  std::size_t connection = 0;           // 1-based, in accept order
  std::size_t index_on_connection = 0;  // 1-based

  // The first header of that name, compared case-insensitively.
  std::optional<std::string> header(std::string_view name) const;
};

struct scripted_reply {
  enum class then_what {
    keep_open,            // answer; keep the connection for more requests
    close_after_reply,    // answer (announcing keep-alive), then close: an idle close
    close_without_reply,  // close as soon as the request is read
    never_answer,         // hold the connection and say nothing
  };
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  then_what then = then_what::keep_open;
};

// The server's TLS identity: PEM files of its certificate chain and key.
struct server_tls {
  std::filesystem::path cert;
  std::filesystem::path key;
};

class test_server {
 public:
  using script = std::function<scripted_reply(const received_request&)>;

  // Listens on 127.0.0.1:`port` (0: any free port), with SO_REUSEADDR, so
  // a test can bring a stopped endpoint back where it was.
  explicit test_server(script reply, std::optional<server_tls> tls = std::nullopt, unsigned short port = 0);
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  // Takes the endpoint down: the listener and every open connection are
  // closed, and the serving thread ends.
  void stop();

  unsigned short port() const;
  std::size_t connections() const;
  std::vector<received_request> requests() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace gatehouse::aws::testing
