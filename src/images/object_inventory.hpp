#pragma once
// What `gatehouse doctor` asks of an image store beyond images::object_store:
// listing what is stored and deleting what nothing references. Operator
// tooling, never on a request path: implementations (s3_inventory,
// file_inventory) live in files of their own, so the Lambda's IAM grants,
// derived from the request-path files, never include listing the bucket
// beyond the pending uploads' prefix (object_store::list_keys).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::images {

struct inventory_entry {
  std::string key;              // as listed; need not be a valid image key
  std::int64_t modified_at = 0;  // unix seconds
  std::uint64_t size = 0;
};

class object_inventory {
 public:
  virtual ~object_inventory() = default;

  // Where the objects live, for the report ("s3 bucket x", "files under /d").
  virtual std::string location() const = 0;

  // The store's own health: nullopt when the bucket (or directory) is
  // there, else what is wrong with it. Throws storage_unavailable when it
  // cannot be reached.
  virtual std::optional<std::string> check_location() = 0;

  // Calls `visit` for every object whose key starts with `prefix`, fetched
  // page by page (bounded pages). Throws storage_unavailable.
  virtual void list(std::string_view prefix, const std::function<void(const inventory_entry&)>& visit) = 0;

  // The key a user's stored `profile_image` value names in this store, or
  // nullopt when it names nothing here (a URL of another bucket).
  virtual std::optional<std::string> key_of(std::string_view stored) const = 0;

  // Whether an object is stored at `key`.
  virtual bool exists(std::string_view key) = 0;

  // Deletes the object at a key `list` returned, whatever its shape (a
  // temporary file a crash left, say). Deleting a missing object is fine.
  virtual void remove(std::string_view key) = 0;
};

}  // namespace gatehouse::images
