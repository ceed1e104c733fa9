#pragma once
// Access tokens already verified, by their exact bytes, until they expire.
//
// A client repeats its token on every request for its whole lifetime, and
// an RS256, ES256 or EdDSA verification costs tens of microseconds where a
// lookup costs well under one. Only tokens that passed every check are put
// in, each until its `exp` plus the leeway, so a hit answers exactly what a
// verification would have (the keys of a process never change), inside the
// window the token's iat/nbf and exp allow (a clock set back meanwhile
// finds a token not yet valid, as verification would). The cache
// is bounded: when a shard is full its expired entries go first, then an
// arbitrary one; an attacker cannot fill it with tokens we did not sign.
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::auth {

template <typename Claims>
class verified_token_cache {
 public:
  // At most `capacity` tokens in all (0: no caching).
  explicit verified_token_cache(std::size_t capacity) : per_shard_(capacity / shard_count) {}

  // The claims of `token` if it is held and `now` is inside its window.
  std::optional<Claims> find(std::string_view token, std::int64_t now) const {
    if (per_shard_ == 0) return std::nullopt;
    const shard& s = shard_of(token);
    std::lock_guard lock(s.mutex);
    auto it = s.entries.find(token);
    if (it == s.entries.end() || now < it->second.valid_from || now > it->second.valid_until) return std::nullopt;
    return it->second.claims;
  }

  // Holds `claims` for `token` from `valid_from` to `valid_until` (seconds
  // since the epoch, both included).
  void put(std::string_view token, const Claims& claims, std::int64_t valid_from, std::int64_t valid_until,
           std::int64_t now) {
    if (per_shard_ == 0) return;
    shard& s = shard_of(token);
    std::lock_guard lock(s.mutex);
    if (s.entries.size() >= per_shard_) make_room(s, now);
    s.entries.insert_or_assign(std::string(token), entry{claims, valid_from, valid_until});
  }

 private:
  static constexpr std::size_t shard_count = 16;  // worker threads rarely wait on one another

  struct entry {
    Claims claims;
    std::int64_t valid_from = 0;
    std::int64_t valid_until = 0;
  };
  struct transparent_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, entry, transparent_hash, std::equal_to<>> entries;
  };

  shard& shard_of(std::string_view token) { return shards_[transparent_hash{}(token) % shard_count]; }
  const shard& shard_of(std::string_view token) const { return shards_[transparent_hash{}(token) % shard_count]; }

  void make_room(shard& s, std::int64_t now) {
    std::erase_if(s.entries, [now](const auto& kv) { return now > kv.second.valid_until; });
    if (s.entries.size() >= per_shard_) s.entries.erase(s.entries.begin());
  }

  std::size_t per_shard_;
  std::array<shard, shard_count> shards_;
};

}  // namespace gatehouse::auth
