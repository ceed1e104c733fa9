#pragma once
// What the operator-command suites (doctor, users) share: one store per
// test on the current backend, made-up ids, running programs to the end,
// and reading or planting data behind Gatehouse's back (the sqlite3 shell,
// the AWS SDK for JavaScript, s3rver itself, the objects directory).
#include "http_client.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::testing {

using env_map = std::map<std::string, std::string>;

bool is_aws();

// `n` random lowercase hex digits.
std::string random_hex(std::size_t n);

// A v4-shaped id nobody signed up with.
std::string made_up_user_id();

// Prepares `env` for a store of the test's own under `data_dir`: DATA_DIR;
// on AWS also the peers' variables, a fresh users table and a new bucket
// named `bucket_prefix` + random hex (the shared one holds other tests'
// objects, which doctor would rightly call orphans). Throws when the
// bucket cannot be made.
void prepare_store(env_map& env, const std::filesystem::path& data_dir, const std::string& bucket_prefix);

// An object behind Gatehouse's back in the store `env` describes: a file
// under DATA_DIR/objects, or s3rver itself (bypassing the signing proxy).
void put_object(const env_map& env, const std::string& key, const std::string& bytes);

// Runs a program to completion; returns its exit code (-1 when killed),
// with its stdout and stderr together appended to `out`.
int run_program(const std::vector<std::string>& args, std::string& out);

// The same, but returns the output and throws unless it exits 0.
std::string run_program_checked(const std::vector<std::string>& args);

// AWS SDK for JavaScript v3 operations (tests/peers/sdk-smoke.mjs) on the
// shared peers; every one must succeed. Their results, in order.
boost::json::array sdk(const boost::json::array& ops);

// Every item of a DynamoDB table, by the SDK's Scan.
boost::json::array scan(const std::string& table);

// POST /upload_profile_pic with `bytes` as a PNG named me.png.
http_result upload(http_client& c, const std::string& token, const std::string& bytes);

}  // namespace gatehouse::testing
