#include "images/pending_uploads.hpp"

#include "base/error.hpp"
#include "images/image_key.hpp"

#include <algorithm>
#include <set>

namespace gatehouse::images {
namespace {

// Room to confirm after the form's expiry: a form's last upload may finish
// then. Never longer than the form itself, so a short UPLOAD_FORM_TTL (in
// tests) keeps slots short too.
constexpr std::int64_t max_confirm_grace_seconds = 60;

error too_many_pending(std::int64_t retry_after) {
  return error(error_kind::resource_exhausted, "rate_limited",
               "too many upload forms outstanding; confirm one or wait until one expires")
      .with_header("retry-after", std::to_string(std::max<std::int64_t>(1, retry_after)));
}

}  // namespace

pending_uploads::pending_uploads(object_store& store, upload_settings settings,
                                 std::function<std::int64_t()> now_seconds)
    : store_(store), settings_(settings), now_seconds_(std::move(now_seconds)) {
  if (settings_.max_pending == 0 || settings_.form_seconds <= 0 || !now_seconds_)
    throw error(error_kind::internal, "internal", "pending uploads: bad settings");
}

std::int64_t pending_uploads::confirm_grace_seconds() const {
  return std::min(settings_.form_seconds, max_confirm_grace_seconds);
}

pending_uploads::census pending_uploads::count_and_clean(std::string_view prefix, std::size_t* deleted) {
  const std::int64_t now = now_seconds_();
  census c;
  std::set<std::string, std::less<>> live;
  const auto keys = store_.list_keys(prefix, listing_limit);
  c.listed = keys.size();
  for (const auto& key : keys) {
    const auto deadline = upload_deadline_of(key);
    if (!deadline) continue;  // not a shape we write: not ours to count or delete
    if (*deadline <= now) {
      store_.remove(key);
      if (deleted) ++*deleted;
      continue;
    }
    if (live.insert(std::string(upload_key_of(key))).second)
      c.earliest_deadline = c.live++ == 0 ? *deadline : std::min(c.earliest_deadline, *deadline);
  }
  return c;
}

reserved_upload pending_uploads::reserve(std::string_view user_id) {
  const std::string prefix = upload_prefix_of(user_id);
  const auto before = count_and_clean(prefix);
  const std::int64_t now = now_seconds_();
  if (before.live >= settings_.max_pending) throw too_many_pending(before.earliest_deadline - now);

  reserved_upload r;
  r.form_seconds = settings_.form_seconds;
  r.deadline = now + settings_.form_seconds + confirm_grace_seconds();
  r.key = new_upload_key(user_id, r.deadline);
  const std::string marker = form_marker_of(r.key);
  store_.put(marker, "", "application/octet-stream");
  // Concurrent reservations of this user have written their markers too:
  // counted again, ours included, so that together they stay within the limit.
  const auto after = count_and_clean(prefix);
  if (after.live > settings_.max_pending) {
    store_.remove(marker);
    throw too_many_pending(after.earliest_deadline - now_seconds_());
  }
  return r;
}

bool pending_uploads::is_live(std::string_view upload_key) const {
  const auto deadline = upload_deadline_of(upload_key);
  return deadline && *deadline > now_seconds_();
}

void pending_uploads::release(std::string_view upload_key, bool with_upload) {
  store_.remove(form_marker_of(upload_key));
  if (with_upload) store_.remove(upload_key);
}

std::size_t pending_uploads::sweep() {
  std::size_t deleted = 0;
  // A listing is bounded; while one came back full and deleted something,
  // what is left may hold more dead slots.
  for (;;) {
    const std::size_t before = deleted;
    const auto c = count_and_clean(upload_key_prefix, &deleted);
    if (deleted == before || c.listed < listing_limit) break;
  }
  return deleted;
}

}  // namespace gatehouse::images
