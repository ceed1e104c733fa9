#include "accounts/one_time_tokens.hpp"

#include "crypto/crypto.hpp"

#include <stdexcept>

namespace gatehouse::accounts {
namespace {

constexpr std::size_t nonce_bytes = 16;  // 128 bits: unguessable on their own
constexpr std::size_t mac_bytes = 32;
constexpr std::size_t max_field_bytes = 255;  // user ids and e-mails (<= 254) fit a length byte

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (unsigned char c : in.substr(0, 8)) v = (v << 8) | c;
  return v;
}

// Takes a length byte and that many bytes off the front of `in`.
std::optional<std::string> take_field(std::string_view& in) {
  if (in.empty()) return std::nullopt;
  const std::size_t n = static_cast<unsigned char>(in.front());
  if (in.size() < 1 + n) return std::nullopt;
  std::string field(in.substr(1, n));
  in.remove_prefix(1 + n);
  return field;
}

// purpose | expires_at (8, big-endian) | nonce (16) | len, user_id | len, new_email
std::string body_of(token_purpose purpose, std::int64_t expires_at, std::string_view nonce, std::string_view user_id,
                    std::string_view new_email) {
  std::string body;
  body += static_cast<char>(purpose);
  put_u64(body, static_cast<std::uint64_t>(expires_at));
  body += nonce;
  body += static_cast<char>(user_id.size());
  body += user_id;
  body += static_cast<char>(new_email.size());
  body += new_email;
  return body;
}

}  // namespace

error invalid_or_expired_token() {
  return error(error_kind::invalid_argument, "invalid_or_expired_token",
               "the link is invalid or has expired; ask for a new one");
}

one_time_tokens::one_time_tokens(std::string key, std::function<std::int64_t()> now_seconds)
    : key_(std::move(key)), now_seconds_(std::move(now_seconds)) {
  if (key_.size() < 32) throw std::invalid_argument("one_time_tokens: key shorter than 32 bytes");
}

std::string one_time_tokens::issue(token_purpose purpose, std::string_view user_id, std::string_view state,
                                   std::int64_t ttl_seconds, std::string_view new_email) const {
  if (user_id.size() > max_field_bytes || new_email.size() > max_field_bytes)
    throw std::invalid_argument("one_time_tokens: field too long");
  const std::string body =
      body_of(purpose, now_seconds_() + ttl_seconds, crypto::random_bytes(nonce_bytes), user_id, new_email);
  return crypto::base64url_encode(body + mac_of(body, state));
}

std::optional<token_claims> one_time_tokens::read(std::string_view token, token_purpose purpose) const {
  if (token.empty() || token.size() > max_token_chars) return std::nullopt;
  const auto raw = crypto::base64url_decode(token);
  if (!raw || raw->size() < 1 + 8 + nonce_bytes + 2 + mac_bytes) return std::nullopt;
  std::string_view in(*raw);
  token_claims c;
  if (static_cast<std::uint8_t>(in.front()) != static_cast<std::uint8_t>(purpose)) return std::nullopt;
  c.purpose = purpose;
  const std::uint64_t expires = get_u64(in.substr(1, 8));
  if (expires > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  c.expires_at = static_cast<std::int64_t>(expires);
  c.nonce = std::string(in.substr(9, nonce_bytes));
  in.remove_prefix(9 + nonce_bytes);
  auto user_id = take_field(in);
  if (!user_id || user_id->empty()) return std::nullopt;
  auto new_email = take_field(in);
  if (!new_email || in.size() != mac_bytes) return std::nullopt;
  c.user_id = std::move(*user_id);
  c.new_email = std::move(*new_email);
  c.mac = std::string(in);
  if (now_seconds_() >= c.expires_at) return std::nullopt;
  return c;
}

bool one_time_tokens::binds(const token_claims& c, std::string_view state) const {
  const std::string body = body_of(c.purpose, c.expires_at, c.nonce, c.user_id, c.new_email);
  return crypto::constant_time_equal(mac_of(body, state), c.mac);
}

std::string one_time_tokens::mac_of(std::string_view body, std::string_view state) const {
  // The state follows a separator the body's fixed layout cannot produce
  // ambiguously: the body's own length is part of it.
  std::string input(body);
  put_u64(input, body.size());
  input += state;
  return std::string(crypto::as_bytes(crypto::hmac_sha256(key_, input)));
}

}  // namespace gatehouse::accounts
