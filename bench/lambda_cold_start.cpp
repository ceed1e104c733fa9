// Lambda cold start and memory (issues 4 and 7): the gatehouse binary
// spawned as Lambda spawns `bootstrap` (no arguments,
// AWS_LAMBDA_RUNTIME_API in the environment), against the test suite's
// Runtime API emulator running in this process. `--command` (with `--arg`,
// `--env`, `--label`) spawns anything else the same way, e.g. the
// Node.js/Express original's runtime loop (issue 7, bench/run.mjs):
//   lambda_cold_start --label original --command node
//       --arg bench/express-original/runtime.js --env USERS_TABLE=... ...
//
//  - Cold start, N spawns (default 20, after one untimed warm-up so every
//    timed spawn finds the binary in the page cache): from just before
//    fork() to the emulator reading the first GET /next, and to it reading
//    the response to a GET /health event queued before the spawn.
//  - Memory: one process serves a fixed mix of invocations (default 100);
//    its VmHWM (peak resident set) is read from /proc before it is killed.
//
// Prints a table; writes the raw samples as JSON (bench/results/ by default).
// Exits non-zero only when the benchmark could not run (spawn failed, an
// invocation got no answer or an unexpected status), never for a missed target.
#include "api_gateway_event.hpp"
#include "runtime_emulator.hpp"

#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include "crypto/crypto.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif
#ifndef GATEHOUSE_BUILT_BINARY
#error "GATEHOUSE_BUILT_BINARY must name this build tree's gatehouse"
#endif

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using gatehouse::testing::runtime_emulator;
using gatehouse::testing::temp_dir;
using clock_type = runtime_emulator::clock;

// Cold-start and memory targets from issue 4, on this machine.
constexpr double target_first_next_median_ms = 10.0;
constexpr double target_peak_rss_mib = 16.0;

// ---------------------------------------------------------------- the child

// What to spawn: an executable (an absolute or relative path, never looked
// up on PATH here) and its arguments after argv[0].
struct command_line {
  fs::path executable;
  std::vector<std::string> args;
};

// The binary as Lambda starts it: argv = {path, args...}, only `env` in the
// environment, stdout and stderr appended to `log_path`. Killed on
// destruction if still running, and by the kernel if this process dies
// first (PR_SET_PDEATHSIG), so an interrupted run leaves nothing behind.
class child_process {
 public:
  child_process(const command_line& cmd, const std::map<std::string, std::string>& env, const fs::path& log_path) {
    // Everything is built before fork: only async-signal-safe calls after it
    // (this process has the emulator's threads).
    const std::string path = cmd.executable.string();
    std::vector<std::string> env_strings;
    env_strings.reserve(env.size());
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const auto& a : cmd.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path.string());

    started_ = clock_type::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
      ::dup2(log_fd, 1);  // dup2 clears O_CLOEXEC on the copies
      ::dup2(log_fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid < 0) throw std::runtime_error("fork failed");
    pid_ = pid;
  }
  ~child_process() { kill(); }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  clock_type::time_point started() const { return started_; }

  // The exit status if the child has already ended (it should not have).
  std::optional<int> exited() {
    if (reaped_) return status_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }

  void kill() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
  }

 private:
  pid_t pid_ = -1;
  clock_type::time_point started_;
  bool reaped_ = false;
  int status_ = 0;
};

// A `Vm...:   1234 kB` line of /proc/<pid>/status, in KiB.
std::optional<long> proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream values(line.substr(field.size() + 1));
    long kib = 0;
    if (values >> kib) return kib;
  }
  return std::nullopt;
}

// The CPU time the process has run so far and how often it was preempted,
// from /proc/<pid>/sched (a scheduler debug file: absent on some kernels).
// On a loaded machine, wall time to /next is this plus time spent waiting
// for a CPU; this part is the binary's own cost.
struct cpu_use {
  double on_cpu_ms = 0;
  long preemptions = 0;
};
std::optional<cpu_use> proc_sched(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/sched");
  std::optional<cpu_use> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream value(line.substr(colon + 1));
    if (line.rfind("se.sum_exec_runtime", 0) == 0) {
      if (!out) out.emplace();
      value >> out->on_cpu_ms;  // already in milliseconds
    } else if (line.rfind("nr_involuntary_switches", 0) == 0) {
      if (!out) out.emplace();
      value >> out->preemptions;
    }
  }
  return out;
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------- events

using gatehouse::testing::v2_request;

// The bench's events: numbered request ids and their own user agent.
std::string to_event(v2_request r, int sequence) {
  r.request_id = "bench-" + std::to_string(sequence);
  r.user_agent = "lambda-cold-start-bench";
  return gatehouse::testing::to_event(r);
}

struct answer {
  int status = 0;
  std::string body;
};

// The function's answer as API Gateway would read it; throws on anything
// but a well-formed response document.
answer to_answer(const gatehouse::testing::invocation_result& r) {
  if (r.kind != "response") throw std::runtime_error("invocation failed: " + r.error_type + " " + r.body);
  const json::object doc = json::parse(r.body).as_object();
  answer a;
  a.status = static_cast<int>(doc.at("statusCode").as_int64());
  const std::string body(doc.at("body").as_string());
  if (doc.at("isBase64Encoded").as_bool()) {
    auto decoded = gatehouse::crypto::base64_decode(body);
    if (!decoded) throw std::runtime_error("response body is not base64");
    a.body = std::move(*decoded);
  } else {
    a.body = body;
  }
  return a;
}

// The answer to invocation `id`; throws, with the process's log, when the
// process ends first or nothing comes within 10 s.
gatehouse::testing::invocation_result await_result(const runtime_emulator& emu, child_process& child,
                                                   const std::string& id, const fs::path& log) {
  const auto deadline = clock_type::now() + 10s;
  while (clock_type::now() < deadline) {
    if (auto result = emu.wait_result(id, 20ms)) return *result;
    if (auto code = child.exited())
      throw std::runtime_error("the process exited with status " + std::to_string(*code) + "; log:\n" + file_text(log));
  }
  throw std::runtime_error("no answer to invocation " + id + " within 10 s; log:\n" + file_text(log));
}

const v2_request health_request{.method = "GET", .path = "/health"};

// What to run and with which environment, besides the per-spawn part.
struct spawn_spec {
  command_line cmd;
  std::map<std::string, std::string> extra_env;  // --env K=V, applied last
};

std::map<std::string, std::string> lambda_env(const spawn_spec& spec, const runtime_emulator& emu,
                                              const fs::path& data_dir) {
  std::map<std::string, std::string> env{{"AWS_LAMBDA_RUNTIME_API", emu.address()},
                                         {"DATA_DIR", data_dir.string()},
                                         {"JWT_PRIVATE_KEY", gatehouse::testing::test_jwt_private_key},
                                         {"JWT_ISSUER", gatehouse::testing::test_lambda_issuer},
                                         {"SERVER_SECRET", gatehouse::testing::test_server_secret},
                                         {"LOG_LEVEL", "info"},
                                         {"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  for (const auto& [k, v] : spec.extra_env) env[k] = v;
  return env;
}

// ---------------------------------------------------------------- statistics

struct summary {
  double min = 0, median = 0, p90 = 0, max = 0;
};

// Median: the mean of the middle two for an even count. p90: nearest rank
// (the ceil(0.9 n)-th smallest), so with 20 samples the 18th.
summary summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  summary s;
  s.min = v.front();
  s.max = v.back();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n)));
  s.p90 = v[std::max<std::size_t>(rank, 1) - 1];
  return s;
}

json::object to_json(const summary& s) {
  return {{"min", s.min}, {"median", s.median}, {"p90", s.p90}, {"max", s.max}};
}

double ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// ---------------------------------------------------------------- cold start

struct cold_sample {
  double first_next_ms = 0;
  double first_response_ms = 0;
  double rss_after_first_mib = 0;  // VmHWM once the first response is posted
  std::optional<cpu_use> cpu;      // on-CPU time up to the first response
};

// One spawn: a fresh emulator and DATA_DIR, a GET /health queued before the
// process exists, so its first GET /next is answered at once.
cold_sample cold_spawn(const spawn_spec& spec) {
  temp_dir dir;
  fs::create_directories(dir.path() / "data");
  runtime_emulator emu;
  const std::string id = emu.enqueue(to_event(health_request, 0));
  const fs::path log = dir.path() / "child.log";
  child_process child(spec.cmd, lambda_env(spec, emu, dir.path() / "data"), log);

  const answer a = to_answer(await_result(emu, child, id, log));
  if (a.status != 200) throw std::runtime_error("GET /health answered " + std::to_string(a.status) + ": " + a.body);

  cold_sample s;
  s.first_next_ms = ms_between(child.started(), *emu.first_next_at());
  s.first_response_ms = ms_between(child.started(), *emu.result_at(id));
  // The process is now waiting in its second GET /next.
  if (auto hwm = proc_status_kib(child.pid(), "VmHWM")) s.rss_after_first_mib = static_cast<double>(*hwm) / 1024.0;
  s.cpu = proc_sched(child.pid());
  child.kill();  // before the emulator goes: Lambda freezes, then kills
  return s;
}

// ---------------------------------------------------------------- memory

struct memory_result {
  int invocations = 0;
  std::map<std::string, int> mix;  // "POST /signup" -> count
  double vm_hwm_mib = 0;           // peak resident set
  double vm_rss_mib = 0;           // resident set at the end
  double wall_seconds = 0;         // the whole run, bcrypt included
};

// One process, `count` invocations in a fixed ten-step cycle that touches
// every route of the contract and both storage paths (SQLite, image files):
// health, signup, login, users, users/me, upload (a 1x1 PNG as a base64
// multipart body), users/me (with the signed image URL), health, login
// again, users. Each cycle signs up a new user, so the list grows.
memory_result serve_mix(const spawn_spec& spec, int count) {
  temp_dir dir;
  fs::create_directories(dir.path() / "data");
  runtime_emulator emu;
  auto env = lambda_env(spec, emu, dir.path() / "data");
  // bcrypt at its minimum cost so the signups and logins take milliseconds,
  // not a quarter second each; its memory (a 4 KiB state) does not depend
  // on the cost. The cold-start spawns run with the default cost (they
  // never hash).
  env["BCRYPT_COST"] = "4";
  const fs::path log = dir.path() / "child.log";
  const auto started = clock_type::now();
  child_process child(spec.cmd, env, log);

  memory_result m;
  std::string token;
  const std::string password = "correct horse battery";
  const std::string png = gatehouse::testing::sample_png();
  // The users it signs up are new to whatever store the process uses (a
  // shared DynamoDB table too), whatever ran before.
  const std::string run_tag = gatehouse::crypto::to_hex(gatehouse::crypto::random_bytes(4));

  for (int i = 0; i < count; ++i) {
    const int cycle = i / 10;
    const std::string email = "bench-" + run_tag + "-" + std::to_string(cycle) + "@example.com";
    const std::string credentials = R"({"email":")" + email + R"(","password":")" + password + R"("})";
    const gatehouse::testing::header_list json_type{{"content-type", "application/json"}};
    const gatehouse::testing::header_list bearer{{"authorization", "Bearer " + token}};
    v2_request r;
    int expected = 200;
    switch (i % 10) {
      case 0:
      case 7:
        r = health_request;
        break;
      case 1:
        r = {.method = "POST",
             .path = "/signup",
             .headers = json_type,
             .body = R"({"name":"Bench )" + std::to_string(cycle) + R"(","email":")" + email + R"(","password":")" +
                     password + R"("})"};
        expected = 201;
        break;
      case 2:
      case 8:
        r = {.method = "POST", .path = "/login", .headers = json_type, .body = credentials};
        break;
      case 3:
        r = {.method = "GET", .path = "/users", .query = "limit=25", .headers = bearer};
        break;
      case 9:
        r = {.method = "GET", .path = "/users", .headers = bearer};
        break;
      case 4:
      case 6:
        r = {.method = "GET", .path = "/users/me", .headers = bearer};
        break;
      case 5:
        r = {.method = "POST",
             .path = "/upload_profile_pic",
             .headers = gatehouse::testing::multipart_headers(token),
             .body = gatehouse::testing::multipart_body({{"image", "me.png", "image/png", png}}),
             .binary = true};
        break;
    }
    const answer a = to_answer(await_result(emu, child, emu.enqueue(to_event(r, i + 1)), log));
    if (a.status != expected)
      throw std::runtime_error(r.method + " " + r.path + " answered " + std::to_string(a.status) + ", expected " +
                               std::to_string(expected) + ": " + a.body);
    if (r.path == "/login") token = std::string(json::parse(a.body).at("token").as_string());
    ++m.mix[r.method + " " + r.path];
    ++m.invocations;
  }
  m.wall_seconds = std::chrono::duration<double>(clock_type::now() - started).count();

  if (auto code = child.exited()) throw std::runtime_error("the process exited with status " + std::to_string(*code));
  const auto hwm = proc_status_kib(child.pid(), "VmHWM");
  const auto rss = proc_status_kib(child.pid(), "VmRSS");
  if (!hwm || !rss) throw std::runtime_error("cannot read /proc/" + std::to_string(child.pid()) + "/status");
  m.vm_hwm_mib = static_cast<double>(*hwm) / 1024.0;
  m.vm_rss_mib = static_cast<double>(*rss) / 1024.0;
  child.kill();
  return m;
}

// ---------------------------------------------------------------- the machine

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

json::object machine_description() {
  std::string cpu = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = trim(line.substr(line.find(':') + 1));
      break;
    }
  }
  utsname u{};
  ::uname(&u);
  // The 1, 5 and 15 minute load averages: other work on a shared machine
  // shows in the figures.
  std::string load;
  std::ifstream loadavg("/proc/loadavg");
  for (int i = 0; i < 3; ++i) {
    std::string field;
    if (!(loadavg >> field)) break;
    load += (load.empty() ? "" : " ") + field;
  }
  return {{"nproc", static_cast<std::int64_t>(std::thread::hardware_concurrency())},
          {"cpu", cpu},
          {"kernel", std::string(u.sysname) + " " + u.release + " " + u.machine},
          {"loadavg_at_start", load}};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string fixed(double v, int decimals = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void print_row(const std::string& name, const summary& s, const std::string& target) {
  std::printf("  %-36s %8s %8s %8s %8s   %s\n", name.c_str(), fixed(s.min).c_str(), fixed(s.median).c_str(),
              fixed(s.p90).c_str(), fixed(s.max).c_str(), target.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path source_dir = GATEHOUSE_SOURCE_DIR;
  const fs::path packaged = source_dir / "build/lambda-package/bin/gatehouse";

  CLI::App app{"Lambda cold start and peak RSS of the gatehouse binary (or of --command), through a Runtime API "
               "emulator"};
  std::string binary_arg;
  std::string command_arg;
  std::vector<std::string> extra_args;
  std::vector<std::string> env_args;
  std::string label = "gatehouse";
  int spawns = 20;
  int invocations = 100;
  std::string out = (source_dir / "bench/results/lambda_cold_start.json").string();
  app.add_option("binary", binary_arg,
                 "the executable to start as `bootstrap` (default: the packaged " + packaged.string() +
                     ", else this build's gatehouse)");
  app.add_option("--spawns", spawns, "timed cold starts")->check(CLI::Range(1, 1000));
  app.add_option("--invocations", invocations, "invocations served before reading peak RSS")
      ->check(CLI::Range(1, 100000));
  app.add_option("--out", out, "where to write the JSON results");
  app.add_option("--command", command_arg,
                 "spawn this instead of a gatehouse binary: a path, or a name looked up on PATH (e.g. node)")
      ->excludes("binary");
  app.add_option("--arg", extra_args, "an argument for --command (repeatable, in order; --arg=-x for a dash)")
      ->allow_extra_args(false);
  app.add_option("--env", env_args, "K=V added to the child's environment (repeatable; overrides the defaults)")
      ->allow_extra_args(false);
  app.add_option("--label", label, "the name printed and written to the results (default: gatehouse)");
  CLI11_PARSE(app, argc, argv);

  spawn_spec spec;
  std::vector<std::string> env_names;
  for (const auto& kv : env_args) {
    const auto eq = kv.find('=');
    if (eq == 0 || eq == std::string::npos) {
      std::cerr << "--env expects K=V, got '" << kv << "'\n";
      return 2;
    }
    spec.extra_env[kv.substr(0, eq)] = kv.substr(eq + 1);
    env_names.push_back(kv.substr(0, eq));
  }
  if (!extra_args.empty() && command_arg.empty()) {
    std::cerr << "--arg needs --command\n";
    return 2;
  }

  fs::path binary;
  std::string note;
  if (!command_arg.empty()) {
    binary = command_arg;
    if (command_arg.find('/') == std::string::npos) {
      // As execvp would, but resolved here, before fork.
      const char* path = std::getenv("PATH");
      std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
      for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty()) continue;
        if (::access((fs::path(dir) / command_arg).c_str(), X_OK) == 0) {
          binary = fs::path(dir) / command_arg;
          break;
        }
      }
    }
  } else if (!binary_arg.empty()) {
    binary = binary_arg;
  } else if (fs::exists(packaged)) {
    binary = packaged;
    note = "the packaged bootstrap (make package)";
  } else {
    binary = GATEHOUSE_BUILT_BINARY;
    note = "NOTE: no packaged binary at " + packaged.string() +
           " (run `make package`); measuring this build's dynamically linked gatehouse instead";
  }
  if (::access(binary.c_str(), X_OK) != 0) {
    std::cerr << "not an executable: " << binary << "\n";
    return 2;
  }
  spec.cmd = {binary, extra_args};
  // Issue 4's targets are about the gatehouse binary; another command's
  // run reports its figures and leaves the comparison to bench/run.mjs.
  const bool own_targets = command_arg.empty();

  try {
    const json::object machine = machine_description();
    std::string shown = binary.string();
    for (const auto& a : extra_args) shown += " " + a;
    std::printf("%s Lambda cold start: %s (%.1f MiB executable)\n", label.c_str(), shown.c_str(),
                static_cast<double>(fs::file_size(binary)) / (1024.0 * 1024.0));
    if (!env_names.empty()) {
      std::string names;
      for (const auto& n : env_names) names += (names.empty() ? "" : " ") + n;
      std::printf("  extra environment: %s\n", names.c_str());
    }
    if (!note.empty()) std::printf("  %s\n", note.c_str());
    std::printf("  machine: %s, %u CPUs, %s, load %s\n", machine.at("cpu").as_string().c_str(),
                static_cast<unsigned>(machine.at("nproc").as_int64()), machine.at("kernel").as_string().c_str(),
                machine.at("loadavg_at_start").as_string().c_str());

    (void)cold_spawn(spec);  // warm-up: page cache, untimed
    std::vector<double> first_next, first_response, rss_after_first, on_cpu, preempted;
    for (int i = 0; i < spawns; ++i) {
      const cold_sample s = cold_spawn(spec);
      first_next.push_back(s.first_next_ms);
      first_response.push_back(s.first_response_ms);
      rss_after_first.push_back(s.rss_after_first_mib);
      if (s.cpu) {
        on_cpu.push_back(s.cpu->on_cpu_ms);
        preempted.push_back(static_cast<double>(s.cpu->preemptions));
      }
    }
    const summary next_s = summarize(first_next);
    const summary response_s = summarize(first_response);
    const summary rss_first_s = summarize(rss_after_first);
    const summary on_cpu_s = summarize(on_cpu);
    const summary preempted_s = summarize(preempted);
    const memory_result mem = serve_mix(spec, invocations);

    const bool next_met = next_s.median < target_first_next_median_ms;
    const bool rss_met = mem.vm_hwm_mib < target_peak_rss_mib;
    const std::string heading = std::to_string(spawns) + " spawns (after 1 untimed warm-up)";
    std::printf("\n  %-36s %8s %8s %8s %8s\n", heading.c_str(), "min", "median", "p90", "max");
    print_row("spawn -> first GET /next (ms)", next_s,
              own_targets ? "target: median < " + fixed(target_first_next_median_ms, 0) + " ms, " +
                                (next_met ? "met" : "MISSED")
                          : "");
    print_row("spawn -> first response (ms)", response_s, "(GET /health)");
    if (!on_cpu.empty()) {
      print_row("on-CPU time to first response (ms)", on_cpu_s, "(/proc/<pid>/sched: the binary's own cost)");
      print_row("preemptions before it", preempted_s, "(CPU contention from other work)");
    }
    print_row("peak RSS at first response (MiB)", rss_first_s, "");
    std::printf("\n  peak RSS (VmHWM) after %d mixed invocations: %s MiB", mem.invocations,
                fixed(mem.vm_hwm_mib).c_str());
    if (own_targets)
      std::printf("   target: < %s MiB, %s", fixed(target_peak_rss_mib, 0).c_str(), rss_met ? "met" : "MISSED");
    std::printf("\n");
    std::printf("  (RSS at the end %s MiB; the %d invocations took %s s with BCRYPT_COST=4)\n",
                fixed(mem.vm_rss_mib).c_str(), mem.invocations, fixed(mem.wall_seconds).c_str());

    json::object mix;
    for (const auto& [k, v] : mem.mix) mix[k] = v;
    const auto samples = [](const std::vector<double>& v) { return json::value_from(v); };
    json::object doc{
        {"benchmark", "lambda_cold_start"},
        {"label", label},
        {"when", utc_now()},
        {"binary", binary.string()},
        {"args", json::value_from(extra_args)},
        {"extra_env_names", json::value_from(env_names)},
        {"binary_bytes", fs::file_size(binary)},
        {"binary_note", note},
        {"machine", machine},
        {"data_dir_root", fs::temp_directory_path().string()},
        {"cold_start",
         {{"spawns", spawns},
          {"warmup_spawns", 1},
          {"clock", "steady_clock from just before fork() to the emulator reading the request"},
          {"first_next_ms", to_json(next_s)},
          {"first_response_ms", to_json(response_s)},
          {"vm_hwm_after_first_response_mib", to_json(rss_first_s)},
          {"on_cpu_to_first_response_ms", on_cpu.empty() ? json::value() : json::value(to_json(on_cpu_s))},
          {"preemptions_to_first_response", on_cpu.empty() ? json::value() : json::value(to_json(preempted_s))},
          {"samples",
           {{"first_next_ms", samples(first_next)},
            {"first_response_ms", samples(first_response)},
            {"vm_hwm_after_first_response_mib", samples(rss_after_first)},
            {"on_cpu_to_first_response_ms", samples(on_cpu)},
            {"preemptions_to_first_response", samples(preempted)}}}}},
        {"memory",
         {{"invocations", mem.invocations},
          {"mix", mix},
          {"bcrypt_cost", 4},
          {"vm_hwm_mib", mem.vm_hwm_mib},
          {"vm_rss_end_mib", mem.vm_rss_mib},
          {"wall_seconds", mem.wall_seconds}}},
        // Issue 4's targets, for the gatehouse binary only (null otherwise).
        {"targets", own_targets ? json::value(json::object{
                                      {"first_next_median_ms",
                                       {{"target", target_first_next_median_ms}, {"met", next_met}}},
                                      {"peak_rss_mib", {{"target", target_peak_rss_mib}, {"met", rss_met}}}})
                                : json::value()}};
    const fs::path out_path(out);
    if (out_path.has_parent_path()) fs::create_directories(out_path.parent_path());
    std::ofstream(out_path) << json::serialize(doc) << "\n";
    std::printf("\n  raw results: %s\n", out_path.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "lambda_cold_start: " << e.what() << "\n";
    return 1;
  }
}
