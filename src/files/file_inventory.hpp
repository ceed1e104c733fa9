#pragma once
// images::object_inventory over the embedded image store's directory
// (<DATA_DIR>/objects), for `gatehouse doctor`: a walk that never follows
// symbolic links, and deletion of anything it listed, temporary files a
// crash left mid-put included.
#include "images/object_inventory.hpp"

#include <filesystem>

namespace gatehouse::files {

class file_inventory final : public images::object_inventory {
 public:
  explicit file_inventory(std::filesystem::path root);

  std::string location() const override;
  // A missing root is fine (nothing uploaded yet); one that is not a directory is not.
  std::optional<std::string> check_location() override;
  void list(std::string_view prefix, const std::function<void(const images::inventory_entry&)>& visit) override;
  // The local store keeps keys as they are.
  std::optional<std::string> key_of(std::string_view stored) const override;
  // A regular file at a key the store can serve (file_object_store's key shapes).
  bool exists(std::string_view key) override;
  // Any relative key without "." or ".." segments; the user's directory goes too once empty.
  void remove(std::string_view key) override;

 private:
  std::filesystem::path root_;
};

}  // namespace gatehouse::files
