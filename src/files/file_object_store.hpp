#pragma once
// The embedded image store: objects are files at <root>/<key>, served back
// through HMAC-signed, time-limited URLs (GET /files/<key>?expires=&sig=),
// and written directly by clients through HMAC-signed upload forms
// (POST /files/upload), whose policy this store enforces itself.
// Keys must have the exact shape images::new_image_key or
// images::new_upload_key produces (or an upload's form marker); any other
// key is not_found, so no path outside the root can ever be named. Only
// image keys are ever served.
#include "base/clock.hpp"
#include "files/url_signer.hpp"
#include "images/object_store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::files {

class file_object_store final : public images::object_store, public images::local_object_server {
 public:
  // Where presign_upload's forms are posted, under `public_base_url`.
  static constexpr std::string_view upload_path = "/files/upload";

  // Larger files are refused on read (storage_unavailable): uploads are
  // far smaller, so such a file was not written by us.
  static constexpr std::size_t max_object_bytes = 64u << 20;

  // `public_base_url` is what clients use to reach this server, e.g.
  // "http://localhost:3000" (a trailing '/' is ignored). `url_ttl` must be
  // positive; `url_signing_key` non-empty.
  file_object_store(std::filesystem::path root, std::string url_signing_key,
                    std::string public_base_url, std::chrono::seconds url_ttl,
                    std::function<std::int64_t()> now_seconds = gatehouse::system_now_seconds);

  // Atomic: written to a temporary file in the same directory, synced, then
  // renamed, so a reader sees the old object or the whole new one. The
  // content type is implied by the key's extension and not stored.
  void put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  void remove(std::string_view key) override;
  std::string url_for(std::string_view key) override;

  // The form's fields, in order: key, expires (unix seconds), max_bytes,
  // signature (see url_signer). The content type is not stored: served
  // objects take theirs from the key's extension.
  images::upload_form presign_upload(std::string_view key, std::size_t max_bytes,
                                     std::int64_t expires_seconds) override;
  // The etag names the file's inode, size and modification time.
  std::optional<images::object_head> head(std::string_view key) override;
  // The etag is checked on the descriptor that is read, as copy_if_unchanged does.
  std::optional<std::string> read_prefix_if_unchanged(std::string_view key, std::size_t n,
                                                      std::string_view etag) override;
  // Deletes the temporary files of writes that never finished (a process
  // killed inside put) once they are older than `older_than`: regular files
  // named ".<name>.<16 hex>.tmp", anywhere under the root, links never
  // followed. How many went. No put takes anywhere near an hour.
  std::size_t remove_stale_temporaries(std::chrono::seconds older_than);

  // A walk of the prefix's directory (file_inventory's, never following
  // links) keeping upload keys and form markers only.
  std::vector<std::string> list_keys(std::string_view prefix, std::size_t limit) override;
  bool copy_if_unchanged(std::string_view from, std::string_view to, std::string_view content_type,
                         std::string_view etag) override;

  // permission_denied ("invalid_signature" / "url_expired") first, then
  // not_found for a bad key or a missing file.
  images::stored_object read_signed(std::string_view key, std::string_view expires,
                                    std::string_view signature) override;
  void receive_signed_upload(const images::signed_upload& form) override;

 private:
  // root_/key for a valid key; throws not_found for anything else.
  std::filesystem::path path_of(std::string_view key) const;

  std::filesystem::path root_;
  url_signer signer_;
  std::string public_base_url_;
  std::chrono::seconds url_ttl_;
  std::function<std::int64_t()> now_seconds_;
};

}  // namespace gatehouse::files
