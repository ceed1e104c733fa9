#pragma once
// Sending a letter through a transport, with a bounded retry: what the
// account flows call. A failure is logged (the kind of letter, the
// Message-ID and the transport's reason; never the address, the body or a
// link) and reported as `false`; it never reaches the client, whose
// answer must not depend on whether a mail went out.
#include "mail/message.hpp"
#include "mail/transport.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace gatehouse::mail {

struct retry_policy {
  int max_attempts = 3;
  std::chrono::milliseconds first_delay{200};  // doubled after each retryable failure
  std::chrono::milliseconds total_budget{8000};  // no attempt starts after this much time
};

// What a flow hands the mailer: the sender is the mailer's own.
struct letter {
  std::string kind;  // for the log: "verify_email", "reset_password", ...
  mailbox to;
  std::string subject;
  std::string text;
  std::string html;
};

class mailer {
 public:
  using sleeper = std::function<void(std::chrono::milliseconds)>;
  using clock = std::function<std::int64_t()>;  // unix seconds, for Date

  // `now_seconds` and `sleep` default to the real ones when empty (tests
  // pass their own). Time spent is measured on the steady clock whatever
  // `sleep` does.
  mailer(transport& out, mailbox from, retry_policy policy, clock now_seconds, sleeper sleep = {});

  // Composes and delivers, retrying retryable failures within the policy
  // and the request's deadline (base/request_deadline: no attempt starts
  // once it has passed, no retry sleeps past it; the transport bounds each
  // delivery by it). true once delivered; false (after logging why)
  // otherwise. Never throws.
  bool send(const letter& l) noexcept;

  const mailbox& from() const { return from_; }

 private:
  transport& out_;
  mailbox from_;
  retry_policy policy_;
  clock now_seconds_;
  sleeper sleep_;
};

}  // namespace gatehouse::mail
