// The keys derived from the server secret: one per purpose, stable, and the
// same bytes Node.js's own HKDF (crypto.hkdfSync, an implementation that
// shares nothing with ours) derives from the same inputs.
#include "crypto/server_secret.hpp"
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>

namespace gatehouse::crypto {
namespace {

const std::string secret = "a server secret of forty-odd bytes, for the test";

std::string node_hkdf(const std::string& purpose) {
  const std::string command =
      "node -e \"const c=require('node:crypto');process.stdout.write(Buffer.from(c.hkdfSync('sha256',"
      "Buffer.from(process.argv[1]),Buffer.from('gatehouse server secret'),Buffer.from(process.argv[2]),32))"
      ".toString('hex'))\" '" + secret + "' '" + purpose + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return {};
  std::string out;
  char buf[256];
  while (const auto n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

TEST(server_secret, each_purpose_gets_its_own_32_byte_key) {
  const server_secret root(secret);
  std::set<std::string> keys;
  for (const auto purpose : {key_purpose::refresh_successors, key_purpose::rate_limit_counters,
                             key_purpose::file_urls, key_purpose::one_time_tokens, key_purpose::mfa_secrets,
                             key_purpose::mfa_recovery_codes}) {
    const auto key = root.key_for(purpose);
    EXPECT_EQ(key.size(), 32u);
    EXPECT_EQ(key, root.key_for(purpose)) << "a key is a function of the secret and the purpose";
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_NE(server_secret(secret + "x").key_for(key_purpose::file_urls), root.key_for(key_purpose::file_urls));
}

TEST(server_secret, matches_nodes_hkdf) {
  const server_secret root(secret);
  for (const auto purpose : {key_purpose::file_urls, key_purpose::one_time_tokens, key_purpose::mfa_secrets})
    EXPECT_EQ(to_hex(root.key_for(purpose)), node_hkdf(std::string(purpose)));
}

}  // namespace
}  // namespace gatehouse::crypto
