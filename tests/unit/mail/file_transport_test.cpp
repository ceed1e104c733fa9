// file_transport on a real temporary directory: names, modes, bytes,
// atomic renames, concurrent writers and the errors a broken directory gives.
#include "mail/file_transport.hpp"

#include "mail_reader.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::mail {
namespace {

namespace fs = std::filesystem;
using testing::temp_dir;

outgoing letter(std::string data = "Subject: hi\r\nTo: ada@example.com\r\n\r\nbody\r\n") {
  return outgoing{"no-reply@gatehouse.example", "ada@example.com", std::move(data), "abc@gatehouse.example"};
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(file_transport, writes_the_exact_bytes_to_a_timestamped_0600_file_and_nothing_else) {
  temp_dir dir;
  file_transport out(dir.path());
  std::string data;
  for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  data += std::string(1 << 20, 'x');  // larger than any single write needs to be
  out.deliver(letter(data));
  const auto files = entries(dir.path());
  ASSERT_EQ(files.size(), 1u) << "no temporary file is left behind";
  EXPECT_TRUE(std::regex_match(files[0].filename().string(), std::regex(R"(\d{8}T\d{6}Z-[0-9a-f]{16}\.eml)")))
      << files[0];
  EXPECT_EQ(mode_of(files[0]), 0600u);
  EXPECT_EQ(testing::read_bytes(files[0]), data);
}

TEST(file_transport, creates_a_missing_directory_0700) {
  temp_dir dir;
  const auto spool = dir.path() / "a" / "b";
  file_transport out(spool);
  out.deliver(letter());
  EXPECT_EQ(mode_of(dir.path() / "a"), 0700u);
  EXPECT_EQ(mode_of(spool), 0700u);
  EXPECT_EQ(entries(spool).size(), 1u);
}

TEST(file_transport, concurrent_deliveries_each_get_their_own_complete_file) {
  temp_dir dir;
  file_transport out(dir.path());
  constexpr int threads = 8, each = 25;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&out, t] {
      for (int i = 0; i < each; ++i) out.deliver(letter("message " + std::to_string(t) + "/" + std::to_string(i) + "\r\n"));
    });
  for (auto& th : pool) th.join();
  std::set<std::string> contents;
  for (const auto& f : entries(dir.path())) {
    EXPECT_EQ(f.extension(), ".eml") << f;
    contents.insert(testing::read_bytes(f));
  }
  EXPECT_EQ(contents.size(), static_cast<std::size_t>(threads * each));
}

void expect_permanent_failure_without_the_address(const fs::path& spool) {
  file_transport out(spool);
  try {
    out.deliver(letter());
    FAIL() << "delivered into " << spool;
  } catch (const delivery_error& e) {
    EXPECT_FALSE(e.retryable()) << e.what();
    const std::string what = e.what();
    EXPECT_EQ(what.find("ada@example.com"), std::string::npos) << what;
    EXPECT_EQ(what.find("no-reply"), std::string::npos) << what;
  }
}

TEST(file_transport, a_path_through_a_file_is_a_permanent_error) {
  temp_dir dir;
  testing::write_bytes(dir.path() / "plain-file", "x");
  expect_permanent_failure_without_the_address(dir.path() / "plain-file");
  expect_permanent_failure_without_the_address(dir.path() / "plain-file" / "spool");
}

// Root writes into a 0500 directory anyway, so as root the delivery is
// tried in a child that has become nobody first.
TEST(file_transport, an_unwritable_directory_is_a_permanent_error_and_leaves_nothing) {
  temp_dir dir;
  const auto spool = dir.path() / "spool";
  fs::create_directory(spool);
  fs::permissions(spool, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() != 0) {
    expect_permanent_failure_without_the_address(spool);
  } else {
    // nobody may pass through the test directory, so it is the spool's own mode that refuses.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      try {
        file_transport(spool).deliver(letter());
        ::_exit(1);
      } catch (const delivery_error& e) {
        ::_exit(e.retryable() || std::string(e.what()).find("ada@") != std::string::npos ? 2 : 0);
      }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: delivered, 2: retryable or names the address, 3: no setuid";
  }
  fs::permissions(spool, fs::perms::owner_all);
  EXPECT_TRUE(entries(spool).empty());
}

}  // namespace
}  // namespace gatehouse::mail
