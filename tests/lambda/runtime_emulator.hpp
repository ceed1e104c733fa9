#pragma once
// A Lambda Runtime API (2018-06-01) of our own, on 127.0.0.1 and a free
// port: it queues events, hands them out on GET /next (blocking until one
// is queued or the emulator stops), records /response, /error and
// /init/error posts, and injects faults on request.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::testing {

struct invocation_result {
  std::string kind;        // "response" or "error"
  std::string body;        // the posted document
  std::string error_type;  // Lambda-Runtime-Function-Error-Type (errors)
};

struct init_error_report {
  std::string error_type;  // the header
  std::string body;        // {"errorMessage","errorType"}
};

class runtime_emulator {
 public:
  runtime_emulator();
  ~runtime_emulator();
  runtime_emulator(const runtime_emulator&) = delete;
  runtime_emulator& operator=(const runtime_emulator&) = delete;

  // "127.0.0.1:<port>", as AWS_LAMBDA_RUNTIME_API.
  std::string address() const;
  unsigned short port() const { return port_; }

  // The function's timeout unless enqueue says otherwise: long enough
  // that no test meets it by accident.
  static constexpr std::chrono::milliseconds default_time_limit{60000};

  // Queues an event; returns the Lambda request id it is delivered with.
  // Its Lambda-Runtime-Deadline-Ms is `time_limit` after it is handed out.
  std::string enqueue(std::string event, std::string trace_id = {},
                      std::chrono::milliseconds time_limit = default_time_limit);
  // The recorded answer to one invocation, once it arrives.
  std::optional<invocation_result> wait_result(const std::string& request_id,
                                               std::chrono::milliseconds timeout) const;
  // enqueue + wait_result; throws when no answer came within `timeout`.
  invocation_result invoke(std::string event, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::optional<init_error_report> wait_init_error(std::chrono::milliseconds timeout) const;

  // Faults. The next `count` response posts are answered with `status`
  // (and not recorded), as a Runtime API in trouble would.
  void fail_response_posts(int count, unsigned status = 500);
  // The next `count` response posts are read, then the connection is
  // closed without an answer (and nothing recorded).
  void drop_response_posts(int count);
  // The next `count` GET /next requests get their connection closed
  // without an answer; queued events stay queued.
  void drop_next_requests(int count);
  // Stops answering GET /next at all: every connection is closed on
  // arrival (the Runtime API has gone away).
  void refuse_all();

  // Counters, for asserting retries happened.
  int next_requests() const;
  int response_posts() const;  // every attempt, failed or recorded
  int connections() const;     // accepted TCP connections

  // The headers of the latest request of each kind ("next", "response",
  // "error", "init_error"), names lower-cased.
  std::map<std::string, std::string> last_headers(const std::string& kind) const;

  // Arrival times on the steady clock, taken as soon as a request has been
  // read and before any waiting, for the cold-start benchmark (bench/):
  // the first GET /next, and the answer (response or error) to one invocation.
  using clock = std::chrono::steady_clock;
  std::optional<clock::time_point> first_next_at() const;
  std::optional<clock::time_point> result_at(const std::string& request_id) const;
  // The deadline an invocation was handed out with, on the steady clock
  // (read at the same moment as the header's wall-clock value).
  std::optional<clock::time_point> deadline_at(const std::string& request_id) const;

 private:
  struct net;  // Asio objects, kept out of this header
  void accept_loop();
  void serve(int fd);

  std::unique_ptr<net> net_;
  unsigned short port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  std::deque<std::pair<std::string, std::string>> queue_;  // (request id, event)
  std::map<std::string, std::string> trace_ids_;
  std::map<std::string, invocation_result> results_;
  std::optional<init_error_report> init_error_;
  std::map<std::string, std::map<std::string, std::string>> last_headers_;
  std::optional<clock::time_point> first_next_at_;
  std::map<std::string, clock::time_point> result_at_;
  std::map<std::string, std::chrono::milliseconds> time_limits_;
  std::map<std::string, clock::time_point> deadline_at_;
  int fail_responses_ = 0;
  unsigned fail_status_ = 500;
  int drop_responses_ = 0;
  int drop_next_ = 0;
  bool refuse_all_ = false;
  int next_count_ = 0;
  int connection_count_ = 0;
  int response_count_ = 0;
  int sequence_ = 0;
  std::set<int> open_fds_;
  std::vector<std::thread> workers_;
};

}  // namespace gatehouse::testing
