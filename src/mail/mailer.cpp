#include "mail/mailer.hpp"

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"

#include <algorithm>
#include <exception>
#include <thread>

namespace gatehouse::mail {
namespace {

using steady = std::chrono::steady_clock;

// The only fields a mail log line carries: never the address, the subject
// or the body (a body holds one-time links).
void log_outcome(bool sent, const std::string& kind, const std::string& message_id, int attempts,
                 std::string_view why) noexcept {
  try {
    boost::json::object fields{{"kind", kind}, {"message_id", message_id}, {"attempts", attempts}};
    if (sent) {
      log::info("mail sent", std::move(fields));
    } else {
      fields["why"] = why;
      log::error("mail not sent", std::move(fields));
    }
  } catch (...) {
    // Out of memory while logging: nothing better can be done, and send() must not throw.
  }
}

}  // namespace

mailer::mailer(transport& out, mailbox from, retry_policy policy, clock now_seconds, sleeper sleep)
    : out_(out),
      from_(std::move(from)),
      policy_(policy),
      now_seconds_(now_seconds ? std::move(now_seconds) : clock(system_now_seconds)),
      sleep_(sleep ? std::move(sleep) : sleeper([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })) {}

bool mailer::send(const letter& l) noexcept {
  std::string message_id;
  int attempts = 0;
  try {
    composed c = compose(message{from_, l.to, l.subject, l.text, l.html}, now_seconds_());
    message_id = c.message_id;
    const outgoing o{from_.address, l.to.address, std::move(c.data), std::move(c.message_id)};

    const auto started = steady::now();
    const int max_attempts = std::max(1, policy_.max_attempts);
    auto delay = std::max(policy_.first_delay, std::chrono::milliseconds(0));
    for (;;) {
      // A delivery begun after the request's deadline would hold its
      // answer past the moment its caller gives up.
      if (request_deadline::expired()) {
        log_outcome(false, l.kind, message_id, attempts, "no time left before the request's deadline");
        return false;
      }
      ++attempts;
      try {
        out_.deliver(o);
        log_outcome(true, l.kind, message_id, attempts, {});
        return true;
      } catch (const delivery_error& e) {
        // Give up before sleeping when the next attempt could not start in time.
        const bool in_budget = steady::now() - started + delay <= policy_.total_budget &&
                               delay < request_deadline::remaining();
        if (!e.retryable() || attempts >= max_attempts || !in_budget) {
          log_outcome(false, l.kind, message_id, attempts, e.what());
          return false;
        }
        log::warn("mail retried", {{"kind", l.kind},
                                   {"message_id", message_id},
                                   {"attempts", attempts},
                                   {"delay_ms", delay.count()},
                                   {"why", e.what()}});
      }
      sleep_(delay);
      delay *= 2;
    }
  } catch (const std::exception& e) {
    log_outcome(false, l.kind, message_id, attempts, e.what());
  } catch (...) {
    log_outcome(false, l.kind, message_id, attempts, "an exception that is not a std::exception");
  }
  return false;
}

}  // namespace gatehouse::mail
