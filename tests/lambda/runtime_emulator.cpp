#include "runtime_emulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/socket.h>

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace gatehouse::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::string_view prefix = "/2018-06-01/runtime/";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string request_id_for(int sequence) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", sequence);
  return buf;
}

std::int64_t unix_ms_after(std::chrono::milliseconds limit) {
  using namespace std::chrono;
  return duration_cast<milliseconds>((system_clock::now() + limit).time_since_epoch()).count();
}
}  // namespace

struct runtime_emulator::net {
  asio::io_context io;  // never run: every operation here is synchronous
  tcp::acceptor acceptor{io};
};

runtime_emulator::runtime_emulator() : net_(std::make_unique<net>()) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  net_->acceptor.open(endpoint.protocol());
  net_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  net_->acceptor.bind(endpoint);
  net_->acceptor.listen();
  port_ = net_->acceptor.local_endpoint().port();
  acceptor_ = std::thread([this] { accept_loop(); });
}

runtime_emulator::~runtime_emulator() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // Wakes the blocked accept() and every blocked read.
    ::shutdown(net_->acceptor.native_handle(), SHUT_RDWR);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  changed_.notify_all();
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::string runtime_emulator::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string runtime_emulator::enqueue(std::string event, std::string trace_id, std::chrono::milliseconds time_limit) {
  std::string id;
  {
    std::lock_guard lock(mutex_);
    id = request_id_for(++sequence_);
    queue_.emplace_back(id, std::move(event));
    if (!trace_id.empty()) trace_ids_[id] = std::move(trace_id);
    time_limits_[id] = time_limit;
  }
  changed_.notify_all();
  return id;
}

std::optional<invocation_result> runtime_emulator::wait_result(const std::string& request_id,
                                                               std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return results_.count(request_id) > 0; })) return std::nullopt;
  return results_.at(request_id);
}

invocation_result runtime_emulator::invoke(std::string event, std::chrono::milliseconds timeout) {
  const std::string id = enqueue(std::move(event));
  auto result = wait_result(id, timeout);
  if (!result) throw std::runtime_error("no answer to invocation " + id);
  return *result;
}

std::optional<runtime_emulator::clock::time_point> runtime_emulator::deadline_at(const std::string& request_id) const {
  std::lock_guard lock(mutex_);
  const auto it = deadline_at_.find(request_id);
  if (it == deadline_at_.end()) return std::nullopt;
  return it->second;
}

std::optional<init_error_report> runtime_emulator::wait_init_error(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return init_error_.has_value(); });
  return init_error_;
}

void runtime_emulator::fail_response_posts(int count, unsigned status) {
  std::lock_guard lock(mutex_);
  fail_responses_ = count;
  fail_status_ = status;
}

void runtime_emulator::drop_response_posts(int count) {
  std::lock_guard lock(mutex_);
  drop_responses_ = count;
}

void runtime_emulator::drop_next_requests(int count) {
  std::lock_guard lock(mutex_);
  drop_next_ = count;
}

void runtime_emulator::refuse_all() {
  {
    std::lock_guard lock(mutex_);
    refuse_all_ = true;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  changed_.notify_all();
}

int runtime_emulator::next_requests() const {
  std::lock_guard lock(mutex_);
  return next_count_;
}

int runtime_emulator::response_posts() const {
  std::lock_guard lock(mutex_);
  return response_count_;
}

int runtime_emulator::connections() const {
  std::lock_guard lock(mutex_);
  return connection_count_;
}

std::map<std::string, std::string> runtime_emulator::last_headers(const std::string& kind) const {
  std::lock_guard lock(mutex_);
  const auto it = last_headers_.find(kind);
  return it == last_headers_.end() ? std::map<std::string, std::string>{} : it->second;
}

std::optional<runtime_emulator::clock::time_point> runtime_emulator::first_next_at() const {
  std::lock_guard lock(mutex_);
  return first_next_at_;
}

std::optional<runtime_emulator::clock::time_point> runtime_emulator::result_at(const std::string& request_id) const {
  std::lock_guard lock(mutex_);
  const auto it = result_at_.find(request_id);
  if (it == result_at_.end()) return std::nullopt;
  return it->second;
}

void runtime_emulator::accept_loop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(net_->io);
    net_->acceptor.accept(socket, ec);
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (ec) continue;
    ++connection_count_;
    if (refuse_all_) continue;  // the socket closes as it goes out of scope
    const int fd = socket.release(ec);
    if (ec) continue;
    open_fds_.insert(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void runtime_emulator::serve(int fd) {
  tcp::socket socket(net_->io, tcp::v4(), fd);
  beast::flat_buffer buffer;
  const auto finish = [&] {
    std::lock_guard lock(mutex_);
    open_fds_.erase(fd);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  };

  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code ec;
    bhttp::read(socket, buffer, parser, ec);
    const auto arrived = clock::now();  // before any lock or wait: what the benchmark times
    if (ec) return finish();
    auto req = parser.release();
    std::map<std::string, std::string> headers;
    for (const auto& f : req) headers[lower(f.name_string())] = std::string(f.value());

    const std::string target(req.target());
    bhttp::response<bhttp::string_body> res{bhttp::status::accepted, req.version()};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = R"({"status":"OK"})";
    bool drop = false;

    if (target.rfind(prefix, 0) != 0) {
      res.result(bhttp::status::not_found);
      res.body() = R"({"errorMessage":"unknown path","errorType":"InvalidRequest"})";
    } else if (const std::string path = target.substr(prefix.size());
               path == "invocation/next" && req.method() == bhttp::verb::get) {
      std::unique_lock lock(mutex_);
      ++next_count_;
      if (!first_next_at_) first_next_at_ = arrived;
      last_headers_["next"] = headers;
      if (drop_next_ > 0) {
        --drop_next_;
        drop = true;
      } else {
        changed_.wait(lock, [&] { return stopping_ || refuse_all_ || !queue_.empty(); });
        if (stopping_ || refuse_all_) {
          drop = true;
        } else {
          auto [id, event] = std::move(queue_.front());
          queue_.pop_front();
          res.result(bhttp::status::ok);
          res.set("Lambda-Runtime-Aws-Request-Id", id);
          // The clock starts when the invocation is handed out, as on Lambda.
          const auto limit = time_limits_.count(id) ? time_limits_[id] : default_time_limit;
          deadline_at_[id] = clock::now() + limit;
          res.set("Lambda-Runtime-Deadline-Ms", std::to_string(unix_ms_after(limit)));
          res.set("Lambda-Runtime-Invoked-Function-Arn",
                  "arn:aws:lambda:us-east-1:123456789012:function:gatehouse-test");
          if (auto t = trace_ids_.find(id); t != trace_ids_.end()) res.set("Lambda-Runtime-Trace-Id", t->second);
          res.body() = std::move(event);
        }
      }
    } else if (path == "init/error" && req.method() == bhttp::verb::post) {
      {
        std::lock_guard lock(mutex_);
        last_headers_["init_error"] = headers;
        init_error_ = init_error_report{headers["lambda-runtime-function-error-type"], req.body()};
      }
      changed_.notify_all();
    } else if (path.rfind("invocation/", 0) == 0 && req.method() == bhttp::verb::post) {
      const std::string rest = path.substr(std::string_view("invocation/").size());
      const auto slash = rest.find('/');
      const std::string id = rest.substr(0, slash);
      const std::string what = slash == std::string::npos ? "" : rest.substr(slash + 1);
      std::lock_guard lock(mutex_);
      if (what == "response") {
        ++response_count_;
        last_headers_["response"] = headers;
        if (drop_responses_ > 0) {
          --drop_responses_;
          drop = true;
        } else if (fail_responses_ > 0) {
          --fail_responses_;
          res.result(static_cast<bhttp::status>(fail_status_));
          res.body() = R"({"errorMessage":"injected fault","errorType":"Emulator.InjectedFault"})";
        } else if (results_.count(id)) {
          res.result(bhttp::status::bad_request);
          res.body() = R"({"errorMessage":"invalid state transition","errorType":"InvalidStateTransition"})";
        } else {
          results_[id] = invocation_result{"response", req.body(), {}};
          result_at_[id] = arrived;
        }
      } else if (what == "error") {
        last_headers_["error"] = headers;
        results_[id] = invocation_result{"error", req.body(), headers["lambda-runtime-function-error-type"]};
        result_at_[id] = arrived;
      } else {
        res.result(bhttp::status::not_found);
      }
      changed_.notify_all();
    } else {
      res.result(bhttp::status::not_found);
    }

    if (drop) return finish();
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    if (ec || !req.keep_alive()) return finish();
  }
}

}  // namespace gatehouse::testing
