#pragma once
// How many direct uploads one user may have pending, and their clean-up.
//
// Each POST /profile_pic/upload_url reserves room for up to MAX_IMAGE_BYTES
// of bytes nobody has checked yet, so a user holds at most `max_pending`
// pending uploads at once. A pending upload is a *slot*: an upload key
// (images/image_key) whose deadline, written into the key itself, is the
// form's expiry plus the time allowed to confirm. The store is the only
// record, so nothing here trusts the client and every server process and
// Lambda instance sees the same count:
//   - issuing a form writes an empty form marker (the key + ".form") first,
//     so a form nobody has used yet counts as much as a finished upload;
//   - counting lists the user's upload prefix (ListObjectsV2 with a prefix
//     on S3, one directory locally) and counts the distinct live slots among
//     markers and uploads: an upload written again through a still-valid
//     form after its confirm counts too, until its deadline;
//   - dead slots (deadline passed) of the user are deleted before counting,
//     so no new room is ever handed out while old bytes are still kept;
//   - after writing its marker a reservation counts again and withdraws
//     when over the limit: of concurrent requests none can slip past it
//     (each sees every marker written before its own; several may all be
//     refused, never all admitted).
// So what one user can make the service keep is max_pending x MAX_IMAGE_BYTES
// at any time. Users who never come back are cleaned by sweep() (the local
// server runs it on a timer) and on S3 by the bucket's lifecycle rule on
// images::upload_key_prefix (deploy/serverless.yml).
#include "images/object_store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace gatehouse::images {

struct upload_settings {
  std::size_t max_pending = 3;      // MAX_PENDING_UPLOADS
  std::int64_t form_seconds = 300;  // UPLOAD_FORM_TTL: how long a form works
};

struct reserved_upload {
  std::string key;
  std::int64_t form_seconds = 0;  // for object_store::presign_upload
  std::int64_t deadline = 0;      // unix seconds: dead from then on
};

class pending_uploads {
 public:
  // The most keys one listing reads: far above what max_pending lets a
  // user hold (two keys a slot), one S3 page.
  static constexpr std::size_t listing_limit = 1000;

  pending_uploads(object_store& store, upload_settings settings, std::function<std::int64_t()> now_seconds);

  // A fresh slot for `user_id`: deletes the user's dead slots, then counts
  // the live ones; at max_pending already it throws resource_exhausted
  // "rate_limited" with Retry-After until the oldest slot is dead. Else the
  // slot's form marker is written and the key returned.
  reserved_upload reserve(std::string_view user_id);

  // Whether the upload key's deadline has not passed.
  bool is_live(std::string_view upload_key) const;

  // The slot is done (confirmed, or dead): its marker goes, and with
  // `with_upload` the upload object too. Deleting what is not there is fine.
  void release(std::string_view upload_key, bool with_upload);

  // Deletes every dead slot of every user (uploads and markers). Returns
  // how many objects it deleted. For the local server's timer.
  std::size_t sweep();

  // The time a client gets between its form's expiry and the slot's
  // deadline to confirm an upload finished at the last moment.
  std::int64_t confirm_grace_seconds() const;

 private:
  struct census {
    std::size_t listed = 0;
    std::size_t live = 0;
    std::int64_t earliest_deadline = 0;  // of the live slots
  };
  // Lists `prefix`, deletes dead slots' objects, counts live slots.
  census count_and_clean(std::string_view prefix, std::size_t* deleted = nullptr);

  object_store& store_;
  upload_settings settings_;
  std::function<std::int64_t()> now_seconds_;
};

}  // namespace gatehouse::images
