#pragma once
// Blocking use of Asio's asynchronous operations, which are the ones that
// honour a stream's expiry timer: start one operation, run its context
// until it (and the timer with it) has finished, and return its outcome.
// Used by the clients that open their own connections (aws/http_client,
// smtp/smtp_transport); each context serves one connection, on one thread.
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

namespace gatehouse::net {

// `start(handler)` begins the operation; the handler receives its error
// code first (and whatever else it passes, ignored). An operation that
// never called its handler counts as aborted.
template <class Start>
boost::system::error_code run_one(boost::asio::io_context& ioc, Start&& start) {
  boost::system::error_code result = boost::asio::error::operation_aborted;
  bool done = false;
  start([&result, &done](boost::system::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  ioc.run();
  return done ? result : boost::system::error_code(boost::asio::error::operation_aborted);
}

}  // namespace gatehouse::net
