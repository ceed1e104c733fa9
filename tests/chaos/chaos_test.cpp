// The chaos run (issue 21): a seeded, bounded, concurrent load of every
// write route (tests/chaos/load.mjs) through injected faults, then, with the
// faults off, an independent checker (tests/chaos/check.mjs) that compares
// every recorded answer with the store, and `gatehouse doctor`, `doctor
// --repair`, `doctor`, which must end clean. Three variants:
//
//   storage_faults_on_aws     dynalite and s3rver behind the SigV4-checking
//                             proxies, with tests/peers/chaos-proxy.mjs in
//                             front of each (resets, lost and truncated
//                             answers, stalls, delays per request chunk), so
//                             Gatehouse's own storage calls meet the faults;
//   client_faults_on_embedded SQLite + files, chaos-proxy.mjs between the load
//                             and the server: answers lost on the way back;
//   sigkill_on_embedded       SQLite + files, the server killed with SIGKILL
//                             at seeded random moments and restarted on the
//                             same port and DATA_DIR while the load runs.
//
// CHAOS_SECONDS (default 12) is how long the load keeps starting rounds;
// CHAOS_SEED (default 21) seeds the load's plan, the proxies' fault draws and
// the kill schedule; both are printed. `make chaos SECONDS=N [SEED=S]` runs
// all three for longer. Every child runs on 127.0.0.1 in its own process
// group and dies with this process (PR_SET_PDEATHSIG).
#include "support/aws_peers.hpp"
#include "support/gatehouse_process.hpp"
#include "support/http_client.hpp"
#include "support/node_peer.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::testing {
namespace {
namespace fs = std::filesystem;
using env_map = std::map<std::string, std::string>;
using clock_type = std::chrono::steady_clock;

long env_number(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::stol(v);
}

const long seconds = env_number("CHAOS_SECONDS", 12);
const unsigned long seed = static_cast<unsigned long>(env_number("CHAOS_SEED", 21));

fs::path chaos_dir() { return fs::path(GATEHOUSE_SOURCE_DIR) / "tests" / "chaos"; }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// `node script args...` in tests/chaos, its own process group, output to
// `log`, killed with us; wait() reaps it (SIGKILL to the group after `limit`).
class node_run {
 public:
  node_run(const std::string& script, const std::vector<std::string>& args, fs::path log) : log_(std::move(log)) {
    std::vector<std::string> all{"node", (chaos_dir() / script).string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log_file = log_.string(), cwd = chaos_dir().string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int in_fd = ::open("/dev/null", O_RDONLY);
      const int out_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in_fd < 0 || out_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0)
        ::_exit(126);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::setenv("NODE_NO_WARNINGS", "1", 1);
      ::execvp("node", argv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
  }
  ~node_run() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // The exit code, or -1 while it runs.
  int poll() {
    if (pid_ <= 0) return code_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return -1;
    pid_ = -1;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return code_;
  }
  int wait(std::chrono::seconds limit) {
    const auto deadline = clock_type::now() + limit;
    while (poll() < 0) {
      if (clock_type::now() > deadline) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return code_ = 124;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return code_;
  }
  std::string output() const { return read_text(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int code_ = -1;
};

// A chaos proxy in front of `target`, its faults off until on().
class chaos_proxy {
 public:
  chaos_proxy(const std::string& name, unsigned short target, unsigned long proxy_seed, const fs::path& dir,
              std::vector<std::string> rates)
      : peer_("chaos-proxy.mjs", with(rates, {"--target-port", std::to_string(target), "--seed",
                                              std::to_string(proxy_seed), "--name", name, "--off"}),
              dir / (name + "-proxy.log")) {
    const std::string log = peer_.log();
    const auto at = log.find(" ADMIN ");
    if (at == std::string::npos) throw std::runtime_error("chaos-proxy printed no admin port: " + log);
    admin_ = static_cast<unsigned short>(std::stoul(log.substr(at + 7)));
  }
  unsigned short port() const { return peer_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  void on() { post("/faults/on"); }
  void off() { post("/faults/off"); }
  std::string stats() const {
    http_client c(admin_);
    return c.get("/stats").body;
  }
  std::string log() const { return peer_.log(); }

 private:
  static std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  void post(const std::string& path) const {
    http_client c(admin_);
    const auto r = c.send("POST", path);
    if (r.status != 200) throw std::runtime_error("chaos-proxy admin " + path + ": " + r.body);
  }
  node_peer peer_;
  unsigned short admin_ = 0;
};

// The server's settings for every variant: the suite's secrets, cheap
// bcrypt, limits off (one source address), a long reuse grace (retried
// refreshes), long-lived access tokens (a long run).
// Requests end within 6 s and an attempt that died (a SIGKILL, or a record
// its own faults left running) holds its Idempotency-Key for 7 s, so the
// load's retries, which wait out request_in_progress for 15 s, converge
// within the run.
env_map server_env(const fs::path& data_dir) {
  return {{"DATA_DIR", data_dir.string()},
          {"REFRESH_REUSE_GRACE", "60"},
          {"ACCESS_TOKEN_TTL", "7200"},
          {"LOG_LEVEL", "warn"},
          {"BCRYPT_QUEUE_DEPTH", "1024"},
          {"REQUEST_TIMEOUT_MS", "6000"},
          {"IDEMPOTENCY_LEASE", "7s"}};
}

struct doctor_outcome {
  int code = -1;
  std::string output;
};

doctor_outcome doctor(env_map env, const std::vector<std::string>& args) {
  env.emplace("JWT_PRIVATE_KEY", test_jwt_private_key);
  env.emplace("SERVER_SECRET", test_server_secret);
  std::vector<std::string> full{"doctor"};
  full.insert(full.end(), args.begin(), args.end());
  doctor_outcome r;
  r.code = run_gatehouse(env, full, r.output);
  return r;
}

// What every variant does after the load: faults off (done by the caller),
// the checker, then doctor with the server stopped.
class chaos_run : public ::testing::Test {
 protected:
  void SetUp() override {
    std::cout << "chaos: seed " << seed << ", " << seconds << " s of load (CHAOS_SEED=" << seed
              << " CHAOS_SECONDS=" << seconds << " reproduce this run's plan)" << std::endl;
  }

  std::vector<std::string> load_args(const std::string& base, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{"--base", base, "--out", record().string(), "--seed", std::to_string(seed),
                               "--seconds", std::to_string(seconds)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  fs::path record() const { return dir_.path() / "record.jsonl"; }
  void save(const std::string& name, const std::string& text) const { std::ofstream(dir_.path() / name) << text; }

  // Runs the load to its end; returns its output.
  void finish_load(node_run& load) {
    const int code = load.wait(std::chrono::seconds(seconds + 240));
    std::cout << load.output();
    ASSERT_EQ(code, 0) << "load.mjs failed:\n" << load.output();
  }

  void check(const std::string& base, std::vector<std::string> store_args) {
    std::vector<std::string> a{"--record", record().string(), "--base", base};
    a.insert(a.end(), store_args.begin(), store_args.end());
    node_run checker("check.mjs", a, dir_.path() / "check.log");
    const auto t = clock_type::now();
    const int code = checker.wait(std::chrono::seconds(seconds * 4 + 240));
    std::cout << checker.output() << "chaos: check took " << since(t) << " s" << std::endl;
    EXPECT_EQ(code, 0) << "the checker found violations (seed " << seed << "):\n" << checker.output();
  }

  // doctor reports; --repair --min-age 0 (no server runs) fixes what a
  // crash may leave; a last doctor must pass.
  void doctor_clean(const env_map& env) {
    const auto first = doctor(env, {"--min-age", "0"});
    std::cout << "chaos: doctor exited " << first.code << (first.code ? ":\n" + first.output : "\n");
    const auto repair = doctor(env, {"--repair", "--min-age", "0"});
    std::cout << "chaos: doctor --repair exited " << repair.code << (first.code ? ":\n" + repair.output : "\n");
    const auto last = doctor(env, {"--min-age", "0"});
    EXPECT_EQ(last.code, 0) << "doctor after --repair:\n" << last.output;
    EXPECT_EQ(last.output.find("\nfail "), std::string::npos) << last.output;
    EXPECT_EQ(last.output.rfind("fail ", 0), std::string::npos) << last.output;
  }

  // The record and every log stay in CHAOS_OUTPUT_DIR (default
  // chaos-output/<variant> under the working directory: ctest's is
  // build/<preset>/tests/chaos), replaced by each run, to study a failure.
  void TearDown() override {
    const char* configured = std::getenv("CHAOS_OUTPUT_DIR");
    const fs::path out = fs::path(configured && *configured ? configured : "chaos-output") /
                         ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::error_code ec;
    fs::remove_all(out, ec);
    fs::create_directories(out, ec);
    for (const auto& e : fs::directory_iterator(dir_.path(), ec))
      if (e.is_regular_file()) fs::copy_file(e.path(), out / e.path().filename(), ec);
    std::cout << "chaos: record and logs in " << fs::absolute(out).string() << std::endl;
  }

  temp_dir dir_;
};

TEST_F(chaos_run, storage_faults_on_aws) {
  aws_peers peers;
  const auto t0 = clock_type::now();
  // Per request chunk between Gatehouse and each SigV4 proxy.
  // About the operator's run of issue 21 (20% resets, 10% stalls), with
  // fewer stalls (each costs a 1 s timeout) and some answers lost after the
  // peer acted: enough that Gatehouse's four attempts sometimes run out (503).
  const std::vector<std::string> rates{"--reset", "0.12", "--lose", "0.10", "--truncate", "0.05",
                                       "--stall", "0.03", "--delay", "0.10", "--delay-ms", "150"};
  chaos_proxy ddb("dynamodb", peers.dynamodb_port(), seed + 1, dir_.path(), rates);
  chaos_proxy s3("s3", peers.s3_port(), seed + 2, dir_.path(), rates);
  auto env = server_env(dir_.path() / "data");
  for (const auto& [k, v] : peers.gatehouse_env()) env[k] = v;
  env["USERS_TABLE"] = peers.new_table_name();
  env["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.url();
  env["AWS_ENDPOINT_URL_S3"] = s3.url();
  // A stall is given up after 1 s, a storage call after 4 s (then 503).
  env["AWS_CONNECT_TIMEOUT_MS"] = "500";
  env["AWS_REQUEST_TIMEOUT_MS"] = "1000";
  env["AWS_TOTAL_TIMEOUT_MS"] = "4000";
  {
    gatehouse_process server(env);  // migrate --create-tables and start with the faults off
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    ddb.on();
    s3.on();
    node_run load("load.mjs", load_args(base, {"--emails", "16", "--signups-per-email", "4"}), dir_.path() / "load.log");
    finish_load(load);
    ddb.off();
    s3.off();
    std::cout << "chaos: load took " << since(t0) << " s; faults " << ddb.stats() << " " << s3.stats() << std::endl;
    check(base, {"--backend", "aws", "--dynamodb", "http://127.0.0.1:" + std::to_string(peers.raw_dynamodb_port()),
                 "--s3", "http://127.0.0.1:" + std::to_string(peers.raw_s3_port()), "--table", env["USERS_TABLE"],
                 "--bucket", peers.bucket(), "--access-key", peers.access_key(), "--secret-key", peers.secret_key(),
                 "--region", peers.region()});
    save("server.log", server.log_text());
  }
  auto doctor_env = env;
  doctor_env["AWS_ENDPOINT_URL_DYNAMODB"] = peers.dynamodb_url();
  doctor_env["AWS_ENDPOINT_URL_S3"] = peers.s3_url();
  doctor_clean(doctor_env);
  std::cout << "chaos: storage_faults_on_aws took " << since(t0) << " s" << std::endl;
}

TEST_F(chaos_run, client_faults_on_embedded) {
  const auto t0 = clock_type::now();
  const auto env = server_env(dir_.path() / "data");
  {
    gatehouse_process server(env);
    chaos_proxy front("front", server.port(), seed + 3, dir_.path(),
                      {"--reset", "0.06", "--lose", "0.06", "--truncate", "0.04", "--stall", "0.01", "--delay",
                       "0.10", "--delay-ms", "100"});
    front.on();
    // A stalled answer is given up after 3 s (the server answers in milliseconds).
    node_run load("load.mjs", load_args(front.url(), {"--emails", "16", "--signups-per-email", "4", "--timeout-ms", "3000"}),
                  dir_.path() / "load.log");
    finish_load(load);
    front.off();
    std::cout << "chaos: load took " << since(t0) << " s; faults " << front.stats() << std::endl;
    check(front.url(), {"--backend", "embedded", "--data-dir", env.at("DATA_DIR")});
    save("server.log", server.log_text());
  }
  doctor_clean(env);
  std::cout << "chaos: client_faults_on_embedded took " << since(t0) << " s" << std::endl;
}

TEST_F(chaos_run, sigkill_on_embedded) {
  const auto t0 = clock_type::now();
  auto env = server_env(dir_.path() / "data");
  env["PORT"] = std::to_string(free_loopback_port());
  const std::string base = "http://127.0.0.1:" + env["PORT"];
  auto server = std::make_unique<gatehouse_process>(env);
  std::string server_logs;
  node_run load("load.mjs", load_args(base, {"--emails", "16", "--signups-per-email", "4", "--timeout-ms", "5000"}),
                dir_.path() / "load.log");
  std::mt19937_64 kills(seed + 4);
  std::uniform_int_distribution<int> pause_ms(200, 1200);
  int killed = 0;
  std::string schedule;
  while (load.poll() < 0) {
    const int ms = pause_ms(kills);
    const auto until = clock_type::now() + std::chrono::milliseconds(ms);
    while (clock_type::now() < until && load.poll() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (load.poll() >= 0) break;
    server->stop(SIGKILL);
    server_logs += server->log_text();
    server.reset();
    ++killed;
    schedule += std::to_string(static_cast<long>(since(t0) * 1000)) + " ";
    server = std::make_unique<gatehouse_process>(env);  // same port, same DATA_DIR
  }
  finish_load(load);
  std::cout << "chaos: " << killed << " SIGKILLs at ms " << schedule << "; load took " << since(t0) << " s" << std::endl;
  EXPECT_GT(killed, 0);
  check(base, {"--backend", "embedded", "--data-dir", env.at("DATA_DIR")});
  server_logs += server->log_text();
  server->stop(SIGTERM);
  save("server.log", server_logs);
  env.erase("PORT");
  doctor_clean(env);
  std::cout << "chaos: sigkill_on_embedded took " << since(t0) << " s" << std::endl;
}

}  // namespace
}  // namespace gatehouse::testing
