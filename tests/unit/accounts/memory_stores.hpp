#pragma once
// In-memory implementations of the store interfaces, for the domain
// services' unit tests: each keeps the contract its interface states (the
// atomic steps included, under one mutex), so a service tested on them
// behaves as it will on SQLite and DynamoDB, in microseconds.
#include "auth/rate_limiter.hpp"
#include "auth/token_store.hpp"
#include "images/object_store.hpp"
#include "users/user_store.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace gatehouse::testing {

class memory_user_store final : public users::user_store {
 public:
  bool create(const users::user& u) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, existing] : users_)
      if (existing.email == u.email) return false;
    users_[u.user_id] = u;
    return true;
  }
  std::optional<users::user> find_by_id(std::string_view user_id) override {
    std::lock_guard lock(mutex_);
    const auto it = users_.find(std::string(user_id));
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<users::user> find_by_email(std::string_view email) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, u] : users_)
      if (u.email == email) return u;
    return std::nullopt;
  }
  // Ordered by id; the cursor is the last id of the page.
  users::user_page list(std::size_t limit, std::optional<std::string_view> cursor) override {
    std::lock_guard lock(mutex_);
    users::user_page page;
    auto it = cursor ? users_.upper_bound(std::string(*cursor)) : users_.begin();
    for (; it != users_.end() && page.users.size() < limit; ++it) page.users.push_back(it->second);
    if (it != users_.end() && !page.users.empty()) page.next_cursor = page.users.back().user_id;
    return page;
  }
  users::image_swap set_profile_image(std::string_view user_id, std::string_view key) override {
    std::lock_guard lock(mutex_);
    const auto it = users_.find(std::string(user_id));
    if (it == users_.end()) return {};
    users::image_swap swap{true, it->second.profile_image_key};
    it->second.profile_image_key = std::string(key);
    return swap;
  }
  bool replace_password_hash(std::string_view user_id, std::string_view old_hash, std::string_view new_hash) override {
    std::lock_guard lock(mutex_);
    const auto it = users_.find(std::string(user_id));
    if (it == users_.end() || it->second.password_hash != old_hash) return false;
    it->second.password_hash = std::string(new_hash);
    return true;
  }
  bool mark_email_verified(std::string_view user_id, std::string_view email) override {
    std::lock_guard lock(mutex_);
    const auto it = users_.find(std::string(user_id));
    if (it == users_.end() || it->second.email != email) return false;
    it->second.email_verified = true;
    return true;
  }
  bool rename(std::string_view user_id, std::string_view name) override {
    std::lock_guard lock(mutex_);
    const auto it = users_.find(std::string(user_id));
    if (it == users_.end()) return false;
    it->second.name = std::string(name);
    return true;
  }
  users::email_change change_email(std::string_view user_id, std::string_view old_email,
                                   std::string_view new_email) override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, existing] : users_)
      if (existing.email == new_email) return users::email_change::taken;
    const auto it = users_.find(std::string(user_id));
    if (it == users_.end() || it->second.email != old_email) return users::email_change::stale;
    it->second.email = std::string(new_email);
    it->second.email_verified = true;
    return users::email_change::changed;
  }

  bool remove(std::string_view user_id, std::string_view) override {
    std::lock_guard lock(mutex_);
    return users_.erase(std::string(user_id)) > 0;
  }

  // For tests: an account deleted behind the service's back.
  void erase(const std::string& user_id) {
    std::lock_guard lock(mutex_);
    users_.erase(user_id);
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return users_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, users::user> users_;
};

class memory_token_store final : public auth::refresh_token_store {
 public:
  void create_family(const auth::token_family& family, const auth::refresh_token_record& first) override {
    std::lock_guard lock(mutex_);
    families_[family.family_id] = family;
    tokens_[first.token_hash] = first;
  }
  std::optional<auth::refresh_token_record> find_token(std::string_view token_hash) override {
    std::lock_guard lock(mutex_);
    const auto it = tokens_.find(std::string(token_hash));
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<auth::token_family> find_family(std::string_view family_id) override {
    std::lock_guard lock(mutex_);
    const auto it = families_.find(std::string(family_id));
    if (it == families_.end()) return std::nullopt;
    return it->second;
  }
  bool rotate(std::string_view token_hash, std::int64_t used_at, const auth::refresh_token_record& successor) override {
    std::lock_guard lock(mutex_);
    const auto it = tokens_.find(std::string(token_hash));
    if (it == tokens_.end() || it->second.used_at) return false;
    it->second.used_at = used_at;
    it->second.successor_hash = successor.token_hash;
    store_locked(successor);
    return true;
  }
  void put_token_if_absent(const auth::refresh_token_record& record) override {
    std::lock_guard lock(mutex_);
    store_locked(record);
  }
  void revoke_family(std::string_view family_id, std::int64_t revoked_at) override {
    std::lock_guard lock(mutex_);
    const auto it = families_.find(std::string(family_id));
    if (it != families_.end() && !it->second.revoked_at) it->second.revoked_at = revoked_at;
  }
  std::vector<auth::token_family> list_families(std::string_view user_id) override {
    std::lock_guard lock(mutex_);
    std::vector<auth::token_family> out;
    for (const auto& [id, f] : families_)
      if (f.user_id == user_id && !f.revoked_at) out.push_back(f);
    return out;
  }

 private:
  void store_locked(const auth::refresh_token_record& record) {
    tokens_.try_emplace(record.token_hash, record);
    auto& family = families_[record.family_id];
    family.expires_at = std::max(family.expires_at, record.expires_at);
  }

  std::mutex mutex_;
  std::map<std::string, auth::token_family> families_;
  std::map<std::string, auth::refresh_token_record> tokens_;
};

class memory_rate_limiter final : public auth::rate_limiter {
 public:
  auth::hit_result hit(std::string_view key, const auth::rate_limit& limit, std::int64_t now) override {
    std::lock_guard lock(mutex_);
    const std::int64_t start = auth::window_start_of(now, limit.window_seconds);
    const std::int64_t count = ++counts_[{std::string(key), start}];
    return auth::judge(count, limit, start, now);
  }
  void undo(std::string_view key, std::int64_t window_start) override {
    std::lock_guard lock(mutex_);
    const auto it = counts_.find({std::string(key), window_start});
    if (it != counts_.end() && it->second > 0) --it->second;
  }
  void reset(std::string_view key, std::int64_t window_start) override {
    std::lock_guard lock(mutex_);
    counts_.erase({std::string(key), window_start});
  }

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> counts_;
};

// Objects with a version counter as their ETag. `before_read` lets a test
// act between a head and the read that follows it (a client writing the
// upload again, say).
class memory_object_store final : public images::object_store {
 public:
  struct object {
    std::string bytes;
    std::string content_type;
    std::string etag;
  };

  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override {
    std::lock_guard lock(mutex_);
    objects_[std::string(key)] = object{std::string(bytes), std::string(content_type), std::to_string(++version_)};
  }
  void remove(std::string_view key) override {
    std::lock_guard lock(mutex_);
    objects_.erase(std::string(key));
  }
  std::string url_for(std::string_view key) override { return "memory://" + std::string(key); }
  images::upload_form presign_upload(std::string_view key, std::size_t max_bytes,
                                     std::int64_t expires_seconds) override {
    return images::upload_form{"memory://upload",
                               {{"key", std::string(key)}, {"max_bytes", std::to_string(max_bytes)}},
                               expires_seconds};
  }
  std::optional<images::object_head> head(std::string_view key) override {
    std::lock_guard lock(mutex_);
    const auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return std::nullopt;
    return images::object_head{it->second.bytes.size(), it->second.etag};
  }
  std::optional<std::string> read_prefix_if_unchanged(std::string_view key, std::size_t n,
                                                      std::string_view etag) override {
    if (before_read) before_read(std::string(key));
    std::lock_guard lock(mutex_);
    const auto it = objects_.find(std::string(key));
    if (it == objects_.end() || it->second.etag != etag) return std::nullopt;
    return it->second.bytes.substr(0, n);
  }
  std::vector<std::string> list_keys(std::string_view prefix, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    for (auto it = objects_.lower_bound(std::string(prefix));
         it != objects_.end() && it->first.starts_with(prefix) && keys.size() < limit; ++it)
      keys.push_back(it->first);
    return keys;
  }
  bool copy_if_unchanged(std::string_view from, std::string_view to, std::string_view content_type,
                         std::string_view etag) override {
    std::lock_guard lock(mutex_);
    const auto it = objects_.find(std::string(from));
    if (it == objects_.end() || it->second.etag != etag) return false;
    objects_[std::string(to)] = object{it->second.bytes, std::string(content_type), std::to_string(++version_)};
    return true;
  }

  // For tests.
  std::optional<object> get(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = objects_.find(key);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return objects_.size();
  }
  std::function<void(const std::string& key)> before_read;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, object> objects_;
  std::uint64_t version_ = 0;
};

}  // namespace gatehouse::testing
