#pragma once
// Local stand-ins for DynamoDB and S3 for the AWS-mode tests: dynalite and
// s3rver (npm packages in tests/peers/node_modules, installed by `npm ci`),
// each behind tests/peers/sigv4-proxy.mjs, which forwards only requests whose
// SigV4 signature @smithy/signature-v4 reproduces and answers 403 otherwise.
// Everything binds 127.0.0.1 on free ports; every child runs in its own
// process group, is killed by the destructor and dies with the test process
// (PR_SET_PDEATHSIG, so construct this on the thread that lives as long as
// the object: the main thread, or a gtest SetUp).
//
// Both peers keep their data on disk in a temporary directory (dynalite with
// --path, s3rver with --directory), so stop_*() then start_*() keeps tables,
// items and objects. The access key is "S3RVER" because s3rver refuses any
// other key id before it even looks at the (unchecked) V4 signature.
#include "gatehouse_process.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::testing {

enum class aws_service { dynamodb, s3 };

// What a proxy has seen since it (re)started.
struct proxy_stats {
  long verified = 0;   // signature checked and correct
  long rejected = 0;   // answered 403/400/413 by the proxy itself
  long forwarded = 0;  // passed on to the peer
  long throttled = 0;  // answered a throttling error (throttle_next)
  long failed = 0;     // answered a 500 (fail_next)
  long delayed = 0;    // held before forwarding (delay_next)
  long held = 0;       // ranged GETs held until release_reads (hold_next_reads)
  long if_match_signed = 0;      // GET/HEAD with If-Match among the signed headers
  long precondition_failed = 0;  // answered 412: If-Match is not the current ETag
  long lost = 0;       // applied by the peer, answer lost (lose_next_answers)
};

class aws_peers {
 public:
  // Starts dynalite, s3rver (with bucket() created) and both proxies, and
  // returns once all four answer. Throws if tests/peers/node_modules is
  // missing (run `npm ci` in tests/peers) or a peer does not start.
  aws_peers();
  ~aws_peers();
  aws_peers(const aws_peers&) = delete;
  aws_peers& operator=(const aws_peers&) = delete;

  // The proxies: what Gatehouse and SDK clients talk to.
  std::string dynamodb_url() const { return url_of(dynamodb_.proxy_port); }
  std::string s3_url() const { return url_of(s3_.proxy_port); }
  unsigned short dynamodb_port() const { return dynamodb_.proxy_port; }
  unsigned short s3_port() const { return s3_.proxy_port; }
  // The peers themselves, unsigned access, for tests that must bypass the check.
  unsigned short raw_dynamodb_port() const { return dynamodb_.peer_port; }
  unsigned short raw_s3_port() const { return s3_.peer_port; }

  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  const std::string& region() const { return region_; }
  const std::string& bucket() const { return bucket_; }
  // The USERS_TABLE gatehouse_env() names: unique to this object, not created.
  const std::string& users_table() const { return users_table_; }
  // Another unique table name, for a test that wants a fresh store.
  std::string new_table_name();
  // Where s3rver keeps the objects (<dir>/<bucket>/...), to inspect without HTTP.
  std::filesystem::path s3_data_dir() const { return dir_.path() / "s3"; }

  // AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
  // AWS_SECRET_ACCESS_KEY, AWS_REGION, USERS_TABLE=users_table(),
  // PROFILE_IMAGES_BUCKET=bucket().
  std::map<std::string, std::string> gatehouse_env() const;

  // Stop a peer together with its proxy, so its endpoint refuses connections
  // as an unreachable service does; start brings both back on the same
  // ports with the same data. Calling either twice is harmless.
  void stop_dynamodb();
  void start_dynamodb();
  void stop_s3();
  void start_s3();

  // The next `n` correctly signed requests to that proxy are answered with the
  // service's throttling error (DynamoDB: 400 ProvisionedThroughputExceededException;
  // S3: 503 SlowDown) instead of being forwarded. Replaces any pending count.
  void throttle_next(aws_service service, int n);
  // ... with a 500 (InternalServerError / InternalError).
  void fail_next(aws_service service, int n);
  // ... are held `delay_ms` before being forwarded (a slow or hung peer).
  void delay_next(aws_service service, int n, int delay_ms);
  // ... reach the peer and take effect, then the connection is reset
  // before the answer: a write whose outcome the client cannot know.
  // `after` requests go through untouched first; with `operation` (a
  // DynamoDB X-Amz-Target operation, "UpdateItem"), only those count.
  void lose_next_answers(aws_service service, int n, int after = 0, const std::string& operation = "");
  // S3: the next `n` ranged GETs (object reads) wait at the proxy until
  // release_reads(), so a test can change the object in between.
  void hold_next_reads(int n);
  void release_reads();
  proxy_stats stats(aws_service service) const;

  // Runs `node <args...>` in tests/peers (so scripts there find the installed
  // packages) with a 60 s limit; returns the exit code, with the outputs.
  int run_node(const std::vector<std::string>& args, std::string& out, std::string& err) const;
  static std::filesystem::path peers_dir();

  // The peers' and proxies' logs, for failure messages.
  std::string logs() const;

 private:
  struct child {
    int pid = -1;
    std::filesystem::path log;
  };
  struct service_peer {
    std::string name;  // "dynamodb" or "s3"
    unsigned short peer_port = 0;
    unsigned short proxy_port = 0;
    child peer;
    child proxy;
  };

  static std::string url_of(unsigned short port) { return "http://127.0.0.1:" + std::to_string(port); }
  service_peer& peer_of(aws_service s) { return s == aws_service::dynamodb ? dynamodb_ : s3_; }
  const service_peer& peer_of(aws_service s) const { return s == aws_service::dynamodb ? dynamodb_ : s3_; }

  child spawn(const std::string& log_name, const std::vector<std::string>& args, bool legacy_openssl) const;
  void launch_peer(service_peer& p);
  void await_peer(service_peer& p);
  void launch_proxy(service_peer& p);
  void await_proxy(service_peer& p);
  void start_both(service_peer& p);
  void stop_both(service_peer& p);
  void post_fault(aws_service service, const std::string& json) const;

  temp_dir dir_;
  std::string node_;
  std::string access_key_ = "S3RVER";
  std::string secret_key_;
  std::string region_ = "eu-west-2";
  std::string bucket_ = "gatehouse-test-images";
  std::string users_table_;
  int tables_made_ = 0;
  mutable int spawned_ = 0;
  service_peer dynamodb_;
  service_peer s3_;
};

}  // namespace gatehouse::testing
