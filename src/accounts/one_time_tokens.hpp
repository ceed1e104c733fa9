#pragma once
// The one-time tokens of the e-mail links (verification, password reset,
// e-mail change): opaque to clients, 128 random bits, never stored.
//
// A token carries its purpose, the user, its expiry, a random nonce and,
// for an e-mail change, the new address, all under an HMAC (a key derived
// from the server secret) that also covers the account's *state* at
// issue: for a reset, the password hash; for a verification, the address
// and whether it is verified; for an e-mail change, the address. Spending
// a token changes that state, so it works once, and every other token of
// that purpose issued before dies with it: a reset token dies with the
// password it was issued for, without any token table to clean.
#include "base/error.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::accounts {

enum class token_purpose : std::uint8_t { verify_email = 1, reset_password = 2, change_email = 3 };

// What a well-formed, unexpired token of the expected purpose says; its
// binding to the account's state is checked by one_time_tokens::binds.
struct token_claims {
  token_purpose purpose{};
  std::string user_id;
  std::int64_t expires_at = 0;
  std::string new_email;  // change_email only
  std::string nonce;      // part of the MAC input
  std::string mac;
};

// The longest token accepted: anything longer is refused before decoding.
inline constexpr std::size_t max_token_chars = 640;

class one_time_tokens {
 public:
  // `key`: at least 32 bytes (std::invalid_argument otherwise).
  one_time_tokens(std::string key, std::function<std::int64_t()> now_seconds);

  std::string issue(token_purpose purpose, std::string_view user_id, std::string_view state,
                    std::int64_t ttl_seconds, std::string_view new_email = {}) const;

  // The claims of `token` when it is well-formed, of `purpose` and not
  // expired; nullopt otherwise (every such failure looks the same).
  std::optional<token_claims> read(std::string_view token, token_purpose purpose) const;

  // Whether `claims` were issued for the account in `state` (constant time).
  bool binds(const token_claims& claims, std::string_view state) const;

 private:
  std::string mac_of(std::string_view body, std::string_view state) const;

  std::string key_;
  std::function<std::int64_t()> now_seconds_;
};

// 400 invalid_or_expired_token: the one answer for an unknown, used,
// expired or malformed token.
error invalid_or_expired_token();

}  // namespace gatehouse::accounts
