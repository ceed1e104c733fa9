#pragma once
// Where the idempotency ledger keeps its records: SQLite (migration 6,
// table idempotency_records) or DynamoDB (IDEMPOTENCY_TABLE, with TTL).
// Each call is one atomic step; the ledger (idempotency/ledger) combines
// them. Nothing here is readable without the server secret: the id and the
// fingerprint are HMACs, the answer is sealed (crypto/aead). A backend
// failure or timeout throws storage_unavailable (503).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::idempotency {

enum class record_state {
  running,  // an attempt holds the lease: retries wait (409 request_in_progress)
  open,     // the last attempt ended without a final answer (a 5xx): a retry runs again
  settled,  // the final answer is stored: retries get it
};

// The states as both stores write them ("running", "open", "settled");
// anything else reads as open, so a retry runs again.
std::string_view state_name(record_state s);
record_state state_named(std::string_view name);

struct record {
  std::string id;           // hex HMAC of the caller's scope and the key
  std::string fingerprint;  // hex HMAC of what the request asks (method, path, body)
  std::string holder;       // random, per attempt: which attempt holds the lease
  record_state state = record_state::running;
  std::int64_t lease_until = 0;  // running: from then on another attempt may take over
  std::int64_t expires_at = 0;   // unix seconds: the record is gone from then
  std::string answer;            // settled: the sealed answer (base64)
};

class idempotency_store {
 public:
  virtual ~idempotency_store() = default;

  // Writes `r` unless a record with its id exists and has not expired at
  // `now` (an expired one is replaced). Whether it was written.
  [[nodiscard]] virtual bool insert(const record& r, std::int64_t now) = 0;

  // The record `id`, expired or not (the ledger judges).
  virtual std::optional<record> find(std::string_view id) = 0;

  // Makes `id` running until `lease_until` again, held by `holder`, if its
  // fingerprint is `fingerprint`, it has not expired, and it is open or its
  // lease ended by `now`. Whether it did: another attempt may have taken it
  // first (or this call's answer was lost after it did: `holder` tells).
  [[nodiscard]] virtual bool take_over(std::string_view id, std::string_view fingerprint, std::string_view holder,
                                       std::int64_t now, std::int64_t lease_until) = 0;

  // running -> settled with `answer`.
  virtual void settle(std::string_view id, std::string_view answer) = 0;

  // running -> open: the attempt ended without a final answer.
  virtual void release(std::string_view id) = 0;
};

}  // namespace gatehouse::idempotency
