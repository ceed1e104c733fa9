#pragma once
// MAIL_TRANSPORT=file:DIR: each message becomes DIR/<UTC time>-<random>.eml,
// exactly the bytes a mail server would have been given (the To header
// names the recipient). For development and tests, and for a site that
// hands mail on from a spool directory. A reader of DIR never sees half a
// message: each is written to a hidden temporary file in DIR, flushed to
// disk, then renamed.
#include "mail/transport.hpp"

#include <filesystem>

namespace gatehouse::mail {

class file_transport : public transport {
 public:
  // DIR need not exist yet: it is created (0700, parents too) on first use.
  explicit file_transport(std::filesystem::path directory);

  // Writes the file (0600) and returns once it and its directory entry are
  // on disk. Throws delivery_error: not retryable when the directory cannot
  // be created or written (permissions, a read-only file system, no space,
  // a path through a file), retryable for what may pass (I/O errors, too
  // many open files, interrupted writes). Thread-safe: nothing is shared
  // between calls but the directory.
  void deliver(const outgoing& message) override;

  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path directory_;
};

}  // namespace gatehouse::mail
