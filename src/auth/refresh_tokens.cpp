#include "auth/refresh_tokens.hpp"

#include "base/log.hpp"
#include "crypto/crypto.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace gatehouse::auth {
namespace {

constexpr std::size_t min_key_bytes = 32;
constexpr std::size_t token_bytes = 32;  // 256 bits

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

error invalid_refresh_token() {
  return error(error_kind::unauthenticated, "invalid_refresh_token",
               "the refresh token is invalid, expired or revoked");
}

std::string hash_refresh_token(std::string_view token) { return crypto::to_hex(crypto::sha256(token)); }

bool is_well_formed_refresh_token(std::string_view token) {
  if (token.size() != refresh_token_chars) return false;
  for (char c : token)
    if (!is_base64url_char(c)) return false;
  return true;
}

refresh_token_service::refresh_token_service(refresh_token_store& store, std::string key,
                                             refresh_settings settings,
                                             std::function<std::chrono::milliseconds()> now)
    : store_(store), key_(std::move(key)), settings_(settings), now_(std::move(now)) {
  if (key_.size() < min_key_bytes)
    throw std::invalid_argument("refresh token key must be at least 32 bytes");
  if (settings_.ttl_seconds <= 0 || settings_.reuse_grace_seconds < 0 || settings_.session_max_age_seconds <= 0 ||
      settings_.max_sessions_per_user < 1)
    throw std::invalid_argument("refresh token settings out of range");
}

std::int64_t refresh_token_service::now_seconds() const {
  return std::chrono::floor<std::chrono::seconds>(now_()).count();
}

std::int64_t refresh_token_service::token_expiry(std::int64_t now, std::int64_t created_at) const {
  return std::min(now + settings_.ttl_seconds, created_at + settings_.session_max_age_seconds);
}

bool refresh_token_service::is_live(const token_family& f, std::int64_t now) const {
  // expires_at: no token of the family outlives it, so none can work after it.
  return !f.revoked_at && now < f.expires_at && now < f.created_at + settings_.session_max_age_seconds;
}

std::string refresh_token_service::successor_of(std::string_view token) const {
  // The "successor\n" prefix keeps this HMAC apart from any other use of the key.
  std::string message = "successor\n";
  message.append(token);
  return crypto::base64url_encode(crypto::as_bytes(crypto::hmac_sha256(key_, message)));
}

refresh_token_record refresh_token_service::record_for(const std::string& token,
                                                       const refresh_token_record& family_of,
                                                       std::int64_t expires_at) const {
  refresh_token_record r;
  r.token_hash = hash_refresh_token(token);
  r.family_id = family_of.family_id;
  r.user_id = family_of.user_id;
  r.expires_at = expires_at;
  return r;
}

issued_refresh_token refresh_token_service::issue(std::string_view user_id) {
  const auto at = now_();  // read once: the second and the milliseconds agree
  const std::int64_t now = std::chrono::floor<std::chrono::seconds>(at).count();
  const std::int64_t now_ms = at.count();
  issued_refresh_token out{crypto::base64url_encode(crypto::random_bytes(token_bytes)),
                           std::string(user_id), crypto::uuid_v4()};
  const std::int64_t expires_at = token_expiry(now, now);
  token_family family{out.family_id, out.user_id, now, now_ms, expires_at, std::nullopt};
  refresh_token_record first;
  first.token_hash = hash_refresh_token(out.token);
  first.family_id = out.family_id;
  first.user_id = out.user_id;
  first.expires_at = expires_at;
  store_.create_family(family, first);
  trim_sessions(out.user_id, out.family_id);
  return out;
}

std::vector<token_family> refresh_token_service::live_sessions(std::string_view user_id) {
  const std::int64_t now = now_seconds();
  auto families = store_.list_families(user_id);
  std::erase_if(families, [&](const token_family& f) { return f.user_id != user_id || !is_live(f, now); });
  // Newest first; the id breaks ties, so every caller sees one order.
  std::sort(families.begin(), families.end(), [](const token_family& a, const token_family& b) {
    if (a.created_at_ms != b.created_at_ms) return a.created_at_ms > b.created_at_ms;
    return a.family_id > b.family_id;
  });
  return families;
}

void refresh_token_service::trim_sessions(const std::string& user_id, const std::string& kept_family_id) {
  try {
    auto others = live_sessions(user_id);
    std::erase_if(others, [&](const token_family& f) { return f.family_id == kept_family_id; });
    // The new session always stays: its login is being answered.
    const auto keep = static_cast<std::size_t>(settings_.max_sessions_per_user - 1);
    if (others.size() <= keep) return;
    const std::int64_t now = now_seconds();
    for (std::size_t i = keep; i < others.size(); ++i) store_.revoke_family(others[i].family_id, now);
    log::info("sessions beyond MAX_SESSIONS_PER_USER revoked, oldest first",
              {{"user_id", user_id}, {"revoked", others.size() - keep}});
  } catch (const std::exception& e) {
    log::warn("could not trim the sessions of a user; the next login will", {{"user_id", user_id}, {"what", e.what()}});
  }
}

void refresh_token_service::revoke_and_reject(const refresh_token_record& presented, std::int64_t now,
                                             std::string_view reason) {
  store_.revoke_family(presented.family_id, now);
  // A security event worth a line: ids only, never a token or its hash.
  log::warn("refresh token family revoked",
            {{"reason", reason}, {"user_id", presented.user_id}, {"family_id", presented.family_id}});
  throw invalid_refresh_token();
}

issued_refresh_token refresh_token_service::refresh(
    std::string_view presented, const std::function<bool(const std::string& user_id)>& accept_user) {
  if (!is_well_formed_refresh_token(presented)) throw invalid_refresh_token();
  const std::int64_t now = now_seconds();
  const std::string hash = hash_refresh_token(presented);

  auto record = store_.find_token(hash);
  if (!record) throw invalid_refresh_token();
  // A family the store no longer has counts as revoked: fail closed.
  const auto family = store_.find_family(record->family_id);
  if (!family || family->revoked_at) throw invalid_refresh_token();
  // Checked here, whatever the store's clean-up has or has not done yet.
  if (record->expires_at <= now) throw invalid_refresh_token();
  // The session's end, however fresh the token (one issued before
  // SESSION_MAX_AGE was lowered may outlive it).
  if (now >= family->created_at + settings_.session_max_age_seconds) throw invalid_refresh_token();
  if (!accept_user(record->user_id)) revoke_and_reject(*record, now, "user no longer exists");

  const std::string successor = successor_of(presented);
  const auto next = record_for(successor, *record, token_expiry(now, family->created_at));
  issued_refresh_token out{successor, record->user_id, record->family_id};

  if (!record->used_at) {
    if (store_.rotate(hash, now, next)) return out;
    // Another request rotated it between our read and our write: read its
    // mark and judge it like any used token (normally: within the grace).
    record = store_.find_token(hash);
    if (!record || !record->used_at) throw invalid_refresh_token();
  }

  // Used already. The successor check guards against a mark made with
  // another key (a changed JWT secret): then there is nothing to hand out.
  const bool same_successor =
      record->successor_hash && crypto::constant_time_equal(*record->successor_hash, next.token_hash);
  if (same_successor && now < *record->used_at + settings_.reuse_grace_seconds) {
    // The winner may have failed between its mark and its insert.
    store_.put_token_if_absent(next);
    return out;
  }
  revoke_and_reject(*record, now, "a used refresh token was presented again");
}

void refresh_token_service::revoke(std::string_view presented) {
  if (!is_well_formed_refresh_token(presented)) return;
  const std::int64_t now = now_seconds();
  const auto record = store_.find_token(hash_refresh_token(presented));
  if (!record || record->expires_at <= now) return;
  store_.revoke_family(record->family_id, now);
}

void refresh_token_service::revoke_all(std::string_view user_id) {
  const std::int64_t now = now_seconds();
  for (const auto& f : live_sessions(user_id)) store_.revoke_family(f.family_id, now);
}

}  // namespace gatehouse::auth
