#pragma once
// The local front end: HTTP/1.1 over Boost.Beast. Async I/O on a few
// threads (one per core by default; each connection on its own strand);
// handlers that block (bcrypt, SQLite, files) run on a bounded worker
// pool, at a lower scheduling priority, so a login never stalls other
// connections.
#include "http/pipeline.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gatehouse::server {

// Work repeated every `every` on the worker pool while the server runs
// (the first run one interval after start); stopped at shutdown, a run in
// progress finishing first. A run that throws is logged and tried again
// next time.
struct periodic_task {
  std::string name;
  std::chrono::seconds every{60};
  std::function<void()> run;
};

struct server_options {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::size_t io_threads = 1;
  std::size_t worker_threads = 4;
  std::size_t max_queued_requests = 4096;     // beyond: 503 server_busy
  std::uint32_t header_limit = 16 * 1024;     // request line + headers
  std::chrono::seconds header_timeout{10};    // idle keep-alive and slow headers
  std::chrono::seconds body_timeout{60};
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds shutdown_grace{30};    // in-flight requests get this long
  std::vector<periodic_task> periodic_tasks;
};

class server {
 public:
  server(const http::pipeline& app, server_options options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens; returns the bound port. Throws std::system_error.
  unsigned short listen();

  // Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight
  // requests finish (up to shutdown_grace) and returns.
  void run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gatehouse::server
