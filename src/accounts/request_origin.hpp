#pragma once
#include <string>
#include <string_view>

namespace gatehouse::accounts {

// One client action across its retries (the record of an Idempotency-Key,
// idempotency/ledger): the ids a flow makes come from `seed`, so a retry
// whose earlier attempt did write finds that write as its own instead of
// as a conflict with someone else's.
struct client_action {
  std::string seed;                  // empty: no key, every id is fresh
  bool may_have_run_before = false;  // an earlier attempt ended without a final answer

  // A UUID for `purpose` ("user"): random without a seed, else the same on
  // every attempt of the action (and unguessable: the seed is an HMAC).
  std::string id_for(std::string_view purpose) const;
  // The same 128 bits as 32 lower-case hex digits (an object's name).
  std::string name_for(std::string_view purpose) const;

 private:
  std::string bytes_for(std::string_view purpose) const;  // 16
};

// Where a request came from, as its front end saw it: the source address
// the rate limits count (api/client_ip decides it), the id the logs of its
// work carry, and the client action it is an attempt of. Nothing about the
// transport beyond that.
struct request_origin {
  std::string source_ip;
  std::string request_id;
  client_action action{};
};

}  // namespace gatehouse::accounts
