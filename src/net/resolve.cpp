#include "net/resolve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace gatehouse::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct resolve_state {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::vector<tcp::endpoint> endpoints;
  std::string error;
};

}  // namespace

std::vector<tcp::endpoint> resolve_before(const std::string& host, unsigned short port,
                                          std::chrono::steady_clock::time_point deadline) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (!ec) return {tcp::endpoint(addr, port)};

  auto state = std::make_shared<resolve_state>();
  try {
    std::thread([state, host, port] {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      boost::system::error_code rec;
      const auto results = resolver.resolve(host, std::to_string(port), rec);
      std::lock_guard lock(state->mutex);
      if (rec) {
        state->error = rec.message();
      } else {
        for (const auto& r : results) state->endpoints.push_back(r.endpoint());
        if (state->endpoints.empty()) state->error = "no address";
      }
      state->done = true;
      state->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    throw resolve_error("cannot resolve " + host + ": no thread for the lookup");
  }
  std::unique_lock lock(state->mutex);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; }))
    throw resolve_error("resolving " + host + " timed out");
  if (!state->error.empty()) throw resolve_error("cannot resolve " + host + ": " + state->error);
  return state->endpoints;
}

}  // namespace gatehouse::net
