#pragma once
// What every connection of one server shares: the app, the worker pool,
// the limits, and the registry graceful shutdown walks.
#include "http/pipeline.hpp"
#include "server/server.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>

namespace gatehouse::server {

class session;

struct server_state {
  server_state(const http::pipeline& app, server_options options)
      : app(app), options(std::move(options)), workers(this->options.worker_threads) {}

  const http::pipeline& app;
  const server_options options;
  boost::asio::thread_pool workers;
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> stopping{false};

  // Live sessions, so shutdown can close the idle ones.
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<session>> sessions;
};

}  // namespace gatehouse::server
