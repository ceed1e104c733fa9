#pragma once
// Idempotent retries (shared/API.md, Conventions: `Idempotency-Key`): the
// first final answer to a state-changing request is kept with its key for
// 24 hours, so a client that lost an answer (a timeout, a dropped
// connection, a 503) can send the same request again and get that answer
// without the work being done twice.
//
// A record is found by the caller's scope (the user a Bearer token names,
// or "public") and the key, and holds a fingerprint of what the request
// asked (method, path, body): the same key with another request is
// refused. While an attempt runs it holds a lease; a retry meanwhile is
// told to wait, and one after the lease (the attempt's process died) takes
// over. An attempt that ends without a final answer (a 5xx) leaves the
// record open, and the next retry runs again with the same `seed`, from
// which the flow makes its ids (accounts/request_origin), so a write the
// earlier attempt did make is found as its own rather than as a conflict.
#include "idempotency/idempotency_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gatehouse::idempotency {

// 1..255 printable ASCII characters (space to tilde).
bool is_valid_key(std::string_view key);

// What a request asks, as the fingerprint covers it.
struct request_facts {
  std::string_view scope;   // "user:<id>" or "public"
  std::string_view key;     // the Idempotency-Key, valid
  std::string_view method;  // "POST"
  std::string_view target;  // path and query
  std::string_view body;    // normalised by the caller where framing varies (multipart boundaries)
};

// An answer as it is kept and given again.
struct answer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Whether `status` is a final answer worth keeping. Not: 5xx (the outcome
// may be unknown, a retry should run again), 401 (no caller to keep it
// for) and 429 (nothing was done; the retry should be judged afresh).
bool is_final(int status);

// This attempt holds the record: run the request, then settle or release.
struct attempt {
  std::string record_id;
  std::string seed;          // hex, the same for every attempt of one record
  bool may_have_run_before;  // the record was open or its lease had lapsed
};

enum class refusal {
  key_reused,   // 422 idempotency_key_reused: another request had this key
  in_progress,  // 409 request_in_progress: an earlier attempt still runs
};

using begin_result = std::variant<attempt, answer, refusal>;

struct ledger_settings {
  std::int64_t retention_seconds = 24 * 3600;
  // Longer than any request may run (API Gateway gives up after 30 s), so
  // a lease still held belongs to an attempt that is still running.
  std::int64_t lease_seconds = 30;
  // Larger answers are not kept (a retry then runs again); none of the
  // API's state-changing routes answers anywhere near this.
  std::size_t max_answer_bytes = 64 * 1024;
  // Settling or releasing the record may run this long past the request's
  // deadline (request_deadline::grace): a request that ran out of time
  // still opens its record for the retry. Within Lambda's answer margin.
  std::chrono::milliseconds bookkeeping_grace{300};
};

class ledger {
 public:
  // `record_key` (HMACs of ids, fingerprints, seeds) and `answer_key`
  // (AES-256-GCM of kept answers) come from the server secret. `store`
  // must outlive the ledger; `now` is the wall clock in seconds.
  ledger(idempotency_store& store, std::string record_key, std::string answer_key,
         std::function<std::int64_t()> now, ledger_settings settings = {});

  // The attempt to run, the kept answer to give again, or a refusal.
  // Throws storage_unavailable when the store cannot tell.
  begin_result begin(const request_facts& request);

  // Keeps `a` as the answer of `run`'s record when it is final (is_final
  // and small enough), else releases the record. A store failure here is
  // logged, not thrown: the work is done and its answer must reach the
  // caller; the record's lease then lapses and a retry runs again.
  void finish(const attempt& run, const answer& a) noexcept;

  // The attempt failed before it had an answer (a bug): open the record.
  void abandon(const attempt& run) noexcept;

 private:
  std::string mac(std::string_view label, std::string_view data) const;
  std::string seed_of(std::string_view record_id, std::int64_t expires_at) const;
  std::optional<answer> open_answer(const record& r) const;

  idempotency_store& store_;
  std::string record_key_;
  std::string answer_key_;
  std::function<std::int64_t()> now_;
  ledger_settings settings_;
};

}  // namespace gatehouse::idempotency
