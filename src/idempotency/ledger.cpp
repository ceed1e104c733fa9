#include "idempotency/ledger.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/request_deadline.hpp"
#include "crypto/aead.hpp"
#include "crypto/crypto.hpp"

#include <boost/json.hpp>

namespace gatehouse::idempotency {
namespace {

std::string encode_answer(const answer& a) {
  boost::json::array headers;
  for (const auto& [name, value] : a.headers) headers.push_back(boost::json::array{name, value});
  return boost::json::serialize(boost::json::object{
      {"status", a.status}, {"headers", std::move(headers)}, {"body", crypto::base64_encode(a.body)}});
}

std::optional<answer> decode_answer(std::string_view text) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto& o = doc.as_object();
  const auto* status = o.if_contains("status");
  const auto* headers = o.if_contains("headers");
  const auto* body = o.if_contains("body");
  if (!status || !status->is_int64() || !headers || !headers->is_array() || !body || !body->is_string())
    return std::nullopt;
  answer a;
  a.status = static_cast<int>(status->as_int64());
  for (const auto& h : headers->as_array()) {
    if (!h.is_array() || h.as_array().size() != 2 || !h.as_array()[0].is_string() || !h.as_array()[1].is_string())
      return std::nullopt;
    a.headers.emplace_back(std::string(h.as_array()[0].as_string()), std::string(h.as_array()[1].as_string()));
  }
  auto decoded = crypto::base64_decode(body->as_string());
  if (!decoded) return std::nullopt;
  a.body = std::move(*decoded);
  return a;
}

std::size_t size_of(const answer& a) {
  std::size_t n = a.body.size();
  for (const auto& [name, value] : a.headers) n += name.size() + value.size();
  return n;
}

}  // namespace

std::string_view state_name(record_state s) {
  switch (s) {
    case record_state::running: return "running";
    case record_state::open: return "open";
    case record_state::settled: return "settled";
  }
  return "open";
}

record_state state_named(std::string_view name) {
  if (name == "running") return record_state::running;
  if (name == "settled") return record_state::settled;
  return record_state::open;
}

bool is_valid_key(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (const char c : key)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool is_final(int status) { return status < 500 && status != 401 && status != 429; }

ledger::ledger(idempotency_store& store, std::string record_key, std::string answer_key,
               std::function<std::int64_t()> now, ledger_settings settings)
    : store_(store),
      record_key_(std::move(record_key)),
      answer_key_(std::move(answer_key)),
      now_(std::move(now)),
      settings_(settings) {}

std::string ledger::mac(std::string_view label, std::string_view data) const {
  std::string input(label);
  input.push_back('\0');
  input.append(data);
  return crypto::to_hex(crypto::hmac_sha256(record_key_, input));
}

// One seed per record, not per key: a key used again after its record
// expired starts a new action whose ids are new too.
std::string ledger::seed_of(std::string_view record_id, std::int64_t expires_at) const {
  return mac("seed", std::string(record_id) + "\n" + std::to_string(expires_at));
}

std::optional<answer> ledger::open_answer(const record& r) const {
  const auto sealed = crypto::base64_decode(r.answer);
  if (!sealed) return std::nullopt;
  const auto text = crypto::aead_open(answer_key_, *sealed, r.id);
  if (!text) return std::nullopt;
  return decode_answer(*text);
}

begin_result ledger::begin(const request_facts& request) {
  std::string scoped(request.scope);
  scoped.push_back('\n');
  scoped.append(request.key);
  const std::string id = mac("record", scoped);

  std::string asked(request.method);
  asked.push_back('\n');
  asked.append(request.target);
  asked.push_back('\n');
  asked.append(request.body);
  const std::string fingerprint = mac("request", asked);

  const std::int64_t now = now_();
  const std::int64_t lease_until = now + settings_.lease_seconds;
  const record fresh{id,          fingerprint, crypto::to_hex(crypto::random_bytes(16)), record_state::running,
                     lease_until, now + settings_.retention_seconds, {}};

  // Each round ends or loses a race to another attempt of the same key;
  // three lost races in a row are an attempt that is, for all purposes,
  // still in progress.
  bool took_over = false;
  for (int round = 0; round < 3; ++round) {
    if (store_.insert(fresh, now)) return attempt{id, seed_of(id, fresh.expires_at), took_over};
    const auto found = store_.find(id);
    if (!found || found->expires_at <= now) continue;  // gone meanwhile: insert again
    // This attempt's own write, whose answer was lost (a retried call).
    if (found->state == record_state::running && found->holder == fresh.holder)
      return attempt{id, seed_of(id, found->expires_at), took_over};
    if (!crypto::constant_time_equal(found->fingerprint, fingerprint)) return refusal::key_reused;
    if (found->state == record_state::settled) {
      if (auto kept = open_answer(*found)) return std::move(*kept);
      // Sealed under another server secret, or altered in the store.
      throw storage_unavailable("an idempotency record's answer does not open");
    }
    if (found->state == record_state::running && found->lease_until > now) return refusal::in_progress;
    took_over = true;
    if (store_.take_over(id, fingerprint, fresh.holder, now, lease_until))
      return attempt{id, seed_of(id, found->expires_at), true};
  }
  return refusal::in_progress;
}

void ledger::finish(const attempt& run, const answer& a) noexcept {
  const request_deadline::grace bookkeeping(settings_.bookkeeping_grace);
  try {
    if (is_final(a.status) && size_of(a) <= settings_.max_answer_bytes) {
      store_.settle(run.record_id,
                    crypto::base64_encode(crypto::aead_seal(answer_key_, encode_answer(a), run.record_id)));
    } else {
      store_.release(run.record_id);
    }
  } catch (const std::exception& e) {
    log::warn("idempotency: the answer could not be kept; a retry after the lease runs again",
              {{"what", e.what()}});
  }
}

void ledger::abandon(const attempt& run) noexcept {
  const request_deadline::grace bookkeeping(settings_.bookkeeping_grace);
  try {
    store_.release(run.record_id);
  } catch (const std::exception& e) {
    log::warn("idempotency: the record could not be opened again; a retry after the lease runs again",
              {{"what", e.what()}});
  }
}

}  // namespace gatehouse::idempotency
