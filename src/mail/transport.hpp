#pragma once
// How a composed message leaves the process: one interface, one
// implementation per MAIL_TRANSPORT (file:, smtp(s)://, ses), chosen by
// the composition root. A transport sends exactly the bytes it is given.
#include <stdexcept>
#include <string>

namespace gatehouse::mail {

// A finished RFC 5322 message and its envelope.
struct outgoing {
  std::string envelope_from;  // MAIL FROM (bare address)
  std::string recipient;      // RCPT TO (bare address): exactly one
  std::string data;           // the whole message, CRLF line ends, no dot-stuffing
  std::string message_id;     // its Message-ID, without the angle brackets (for logs)
};

// The message was not delivered. `retryable`: a later attempt may succeed
// (a timeout, a dropped connection, a 4xx reply); otherwise it never will
// (a 5xx reply, a refused recipient, a bad configuration). The text is in
// our own words plus the peer's reply code: never an address, a password
// or any of the message.
class delivery_error : public std::runtime_error {
 public:
  delivery_error(const std::string& what, bool retryable) : std::runtime_error(what), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

class transport {
 public:
  virtual ~transport() = default;
  // Returns once the peer has accepted the message; throws delivery_error.
  // Must be safe to call from several threads at once.
  virtual void deliver(const outgoing& message) = 0;
};

}  // namespace gatehouse::mail
