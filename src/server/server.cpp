#include "server/server.hpp"

#include "base/log.hpp"
#include "server/server_state.hpp"
#include "server/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <system_error>
#include <thread>
#include <vector>

namespace gatehouse::server {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// Every keep-alive connection is a descriptor: lift the soft limit to the
// hard one so a thousand clients do not exhaust the default 1024.
void raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}
}  // namespace

struct server::impl {
  impl(const http::pipeline& app, server_options options)
      : io(static_cast<int>(std::max<std::size_t>(1, options.io_threads))),
        state(std::make_shared<server_state>(app, std::move(options))),
        acceptor(asio::make_strand(io)),
        signals(io, SIGINT, SIGTERM),
        shutdown_timer(io) {}

  void do_accept() {
    acceptor.async_accept(asio::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        auto s = std::make_shared<session>(std::move(socket), state);
        {
          std::lock_guard lock(state->sessions_mutex);
          // Forget sessions that ended, so the registry stays the size of the live set.
          state->sessions.remove_if([](const std::weak_ptr<session>& w) { return w.expired(); });
          state->sessions.push_back(s);
        }
        s->start();
      } else if (ec == asio::error::no_descriptors) {
        log::warn("accept failed: out of file descriptors");
      }
      do_accept();
    });
  }

  // Each task on a timer of its own strand, so a re-arm from the worker
  // that ran it and the cancel at shutdown never touch the timer at once.
  void start_periodic_tasks() {
    for (std::size_t i = 0; i < state->options.periodic_tasks.size(); ++i)
      timers.push_back(std::make_unique<asio::steady_timer>(asio::make_strand(io)));
    for (std::size_t i = 0; i < timers.size(); ++i) arm(i);
  }

  void arm(std::size_t i) {
    if (state->stopping) return;
    auto& timer = *timers[i];
    timer.expires_after(state->options.periodic_tasks[i].every);
    timer.async_wait([this, i](boost::system::error_code ec) {
      if (ec || state->stopping) return;
      asio::post(state->workers, [this, i] {
        const auto& task = state->options.periodic_tasks[i];
        try {
          task.run();
        } catch (const std::exception& e) {
          log::warn("periodic task failed", {{"task", task.name}, {"what", e.what()}});
        }
        asio::post(timers[i]->get_executor(), [this, i] { arm(i); });
      });
    });
  }

  void stop_periodic_tasks() {
    for (auto& t : timers)
      asio::dispatch(t->get_executor(), [timer = t.get()] { timer->cancel(); });
  }

  void begin_shutdown() {
    log::info("shutting down: finishing in-flight requests");
    state->stopping = true;
    stop_periodic_tasks();
    boost::system::error_code ec;
    acceptor.close(ec);
    {
      std::lock_guard lock(state->sessions_mutex);
      for (auto& w : state->sessions)
        if (auto s = w.lock()) s->stop_when_idle();
    }
    deadline = std::chrono::steady_clock::now() + state->options.shutdown_grace;
    poll_until_drained();
  }

  // The io_context stops once every session has ended or the grace ran out.
  void poll_until_drained() {
    bool live = false;
    {
      std::lock_guard lock(state->sessions_mutex);
      state->sessions.remove_if([](const std::weak_ptr<session>& w) { return w.expired(); });
      live = !state->sessions.empty();
    }
    if (!live || std::chrono::steady_clock::now() >= deadline) {
      if (live) log::warn("shutdown grace period over: closing remaining connections");
      io.stop();
      return;
    }
    shutdown_timer.expires_after(std::chrono::milliseconds(50));
    shutdown_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) poll_until_drained();
    });
  }

  asio::io_context io;
  std::shared_ptr<server_state> state;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer shutdown_timer;
  std::chrono::steady_clock::time_point deadline;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;  // one per periodic task
};

server::server(const http::pipeline& app, server_options options)
    : impl_(std::make_unique<impl>(app, std::move(options))) {}

server::~server() {
  impl_->state->workers.join();
}

unsigned short server::listen() {
  raise_descriptor_limit();
  const auto& o = impl_->state->options;
  const tcp::endpoint endpoint(asio::ip::make_address(o.host), o.port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(asio::socket_base::max_listen_connections);
  return a.local_endpoint().port();
}

void server::run() {
  // Shutdown closes the acceptor, so it runs on the acceptor's strand.
  impl_->signals.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) asio::dispatch(impl_->acceptor.get_executor(), [this] { impl_->begin_shutdown(); });
  });
  impl_->do_accept();
  impl_->start_periodic_tasks();
  std::vector<std::thread> more_io_threads;
  for (std::size_t i = 1; i < impl_->state->options.io_threads; ++i)
    more_io_threads.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& t : more_io_threads) t.join();
  impl_->state->workers.join();
  log::info("stopped");
}

}  // namespace gatehouse::server
