#pragma once
// Which storage the HTTP suite runs against, chosen per test process by
// GATEHOUSE_TEST_BACKEND: "embedded" (SQLite + files, the default) or
// "aws" (DynamoDB + S3: dynalite and s3rver behind the SigV4-verifying
// proxies, started once per process). The same tests run on both.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::testing {

enum class backend_kind { embedded, aws };

backend_kind current_backend();

// What a gatehouse process needs to use the current backend: nothing for
// embedded; for aws, endpoints, credentials, region, a fresh users table
// (one per call, so servers never share users) and the bucket.
std::map<std::string, std::string> backend_env();

class aws_peers;

// The peers backend_env() points servers at (started on first use), for
// tests that read or write DynamoDB and S3 behind Gatehouse's back. Only
// meaningful when current_backend() is aws.
aws_peers& shared_aws_peers();

// Objects stored under `prefix` ("profile-images/<userId>/"): files under
// DATA_DIR/objects, or keys in the bucket.
std::size_t count_objects(const std::string& data_dir, const std::string& prefix);

// The names of those objects, relative to `prefix`.
std::vector<std::string> object_names(const std::string& data_dir, const std::string& prefix);

}  // namespace gatehouse::testing
