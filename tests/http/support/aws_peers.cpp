#include "aws_peers.hpp"

#include "fixtures.hpp"
#include "http_client.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

extern char** environ;

namespace gatehouse::testing {
namespace fs = std::filesystem;

namespace {

constexpr auto start_timeout = std::chrono::seconds(20);

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error("aws_peers: no `node` executable on PATH (Node.js runs the test peers)");
}

std::string random_hex(std::size_t n) {
  static std::mt19937_64 gen{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(digits[gen() % 16]);
  return s;
}

// Forks and execs `exe` in its own process group; stdout to `out`, stderr
// to `err`, stdin from /dev/null, no other inherited descriptors. The child
// is killed when the thread that started it dies.
pid_t start_process(const std::string& exe, const std::vector<std::string>& args,
                    const std::vector<std::string>& env, const fs::path& out, const fs::path& err,
                    const fs::path& cwd) {
  // Everything is prepared before fork: only async-signal-safe calls after it.
  std::vector<char*> argv{const_cast<char*>(exe.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string out_s = out.string(), err_s = err.string(), cwd_s = cwd.string();
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("aws_peers: fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    const int in_fd = ::open("/dev/null", O_RDONLY);
    const int out_fd = ::open(out_s.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int err_fd = out_s == err_s ? out_fd : ::open(err_s.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(126);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (::close_range(3, ~0U, 0) != 0)
      for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    if (::chdir(cwd_s.c_str()) != 0) ::_exit(126);
    ::execve(exe.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here, so it holds before either side runs on
  return pid;
}

// Reaps `pid` if it has exited; returns its status text or "" while it runs.
std::string exit_status_if_done(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return {};
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

// SIGTERM to the whole group, SIGKILL if it is still there after 3 s.
void kill_group(int& pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  pid = -1;
}

// The environment for node children: ours, with NODE_OPTIONS replaced.
std::vector<std::string> node_environment(bool legacy_openssl) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("NODE_OPTIONS=", 0) == 0 || entry.rfind("NODE_NO_WARNINGS=", 0) == 0) continue;
    env.push_back(entry);
  }
  // s3rver's truncated listings use an MD5-based cipher that OpenSSL 3 moved to the legacy provider.
  if (legacy_openssl) env.emplace_back("NODE_OPTIONS=--openssl-legacy-provider");
  // The SDK warns about Node versions on stderr; tests read stderr for real errors.
  env.emplace_back("NODE_NO_WARNINGS=1");
  return env;
}

// Waits until the child's log holds a line starting with `marker`; returns
// the rest of that line. Throws if the child exits or the time runs out.
std::string await_line(int& pid, const fs::path& log, const std::string& marker, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_text(log);
    std::size_t at = 0;
    if (text.rfind(marker, 0) != 0) {
      at = text.find("\n" + marker);
      if (at != std::string::npos) ++at;
    }
    if (at != std::string::npos) {
      const std::size_t end = text.find('\n', at);
      if (end != std::string::npos) return text.substr(at + marker.size(), end - at - marker.size());
    }
    const std::string status = exit_status_if_done(pid);
    if (!status.empty()) {
      pid = -1;
      throw std::runtime_error("aws_peers: " + what + " exited during start-up (" + status + "):\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_group(pid);
  throw std::runtime_error("aws_peers: " + what + " did not start within 20 s:\n" + read_text(log));
}

unsigned short parse_port(const std::string& text, const std::string& what) {
  const auto colon = text.rfind(':');
  const std::string digits = colon == std::string::npos ? text : text.substr(colon + 1);
  try {
    const unsigned long v = std::stoul(digits);
    if (v > 0 && v < 65536) return static_cast<unsigned short>(v);
  } catch (const std::exception&) {
  }
  throw std::runtime_error("aws_peers: cannot read the port of " + what + " from '" + text + "'");
}

}  // namespace

fs::path aws_peers::peers_dir() { return fs::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers"; }

aws_peers::aws_peers() {
  const fs::path modules = peers_dir() / "node_modules";
  for (const char* needed : {"dynalite/cli.js", "s3rver/bin/s3rver.js", "@smithy/signature-v4/package.json",
                             "@aws-sdk/client-s3/package.json"}) {
    if (!fs::exists(modules / needed))
      throw std::runtime_error("aws_peers: " + (modules / needed).string() +
                               " is missing; install the test peers with `npm ci` in " + peers_dir().string());
  }
  node_ = find_node();
  // A realistic secret: 40 characters with the '/' and '+' real ones hold.
  secret_key_ = "gAtEhOuSe/TeSt+" + random_hex(25);
  users_table_ = "gatehouse-test-users-" + std::to_string(::getpid()) + "-" + random_hex(8);
  dynamodb_.name = "dynamodb";
  s3_.name = "s3";
  fs::create_directories(dir_.path() / "dynamodb");
  fs::create_directories(s3_data_dir());

  // All four start at once; the proxies are told the peers' ports up front.
  // A peer's port may be taken between free_loopback_port() and its bind,
  // so a failed first start is retried on fresh ports.
  for (int attempt = 0;; ++attempt) {
    try {
      dynamodb_.peer_port = free_loopback_port();
      s3_.peer_port = free_loopback_port();
      for (auto* p : {&dynamodb_, &s3_}) {
        launch_peer(*p);
        launch_proxy(*p);
      }
      for (auto* p : {&dynamodb_, &s3_}) {
        await_peer(*p);
        await_proxy(*p);
      }
      return;
    } catch (const std::exception&) {
      stop_both(dynamodb_);
      stop_both(s3_);
      dynamodb_.proxy_port = s3_.proxy_port = 0;
      if (attempt == 2) throw;
    }
  }
}

aws_peers::~aws_peers() {
  stop_both(dynamodb_);
  stop_both(s3_);
}

aws_peers::child aws_peers::spawn(const std::string& log_name, const std::vector<std::string>& args,
                                  bool legacy_openssl) const {
  child c;
  c.log = dir_.path() / (log_name + "." + std::to_string(++spawned_) + ".log");
  c.pid = start_process(node_, args, node_environment(legacy_openssl), c.log, c.log, peers_dir());
  return c;
}

void aws_peers::launch_peer(service_peer& p) {
  const fs::path modules = peers_dir() / "node_modules";
  if (&p == &dynamodb_) {
    // Tables are ACTIVE at once; --path keeps the data on disk across a restart.
    p.peer = spawn("dynalite",
                   {(modules / "dynalite/cli.js").string(), "--port", std::to_string(p.peer_port), "--host",
                    "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0", "--path",
                    (dir_.path() / "dynamodb").string()},
                   false);
  } else {
    p.peer = spawn("s3rver",
                   {(modules / "s3rver/bin/s3rver.js").string(), "--address", "127.0.0.1", "--port",
                    std::to_string(p.peer_port), "--directory", s3_data_dir().string(), "--silent",
                    "--configure-bucket", bucket_},
                   true);
  }
}

void aws_peers::await_peer(service_peer& p) {
  if (&p == &dynamodb_) {
    await_line(p.peer.pid, p.peer.log, "Dynalite listening at: ", "dynalite");
    return;
  }
  const auto port = parse_port(await_line(p.peer.pid, p.peer.log, "S3rver listening on ", "s3rver"), "s3rver");
  if (port != p.peer_port) throw std::runtime_error("aws_peers: s3rver listens on an unexpected port");
}

void aws_peers::launch_proxy(service_peer& p) {
  p.proxy = spawn(p.name + "-proxy",
                  {(peers_dir() / "sigv4-proxy.mjs").string(), "--listen-port", std::to_string(p.proxy_port),
                   "--target-port", std::to_string(p.peer_port), "--service", p.name, "--access-key", access_key_,
                   "--secret-key", secret_key_, "--region", region_, "--fault"},
                  false);
}

void aws_peers::await_proxy(service_peer& p) {
  p.proxy_port = parse_port(await_line(p.proxy.pid, p.proxy.log, "READY ", p.name + " proxy"), p.name + " proxy");
}

void aws_peers::stop_both(service_peer& p) {
  kill_group(p.proxy.pid);
  kill_group(p.peer.pid);
}

void aws_peers::start_both(service_peer& p) {
  const bool peer = p.peer.pid <= 0, proxy = p.proxy.pid <= 0;
  if (peer) launch_peer(p);
  if (proxy) launch_proxy(p);
  if (peer) await_peer(p);
  if (proxy) await_proxy(p);
}

void aws_peers::stop_dynamodb() { stop_both(dynamodb_); }
void aws_peers::start_dynamodb() { start_both(dynamodb_); }
void aws_peers::stop_s3() { stop_both(s3_); }
void aws_peers::start_s3() { start_both(s3_); }

std::string aws_peers::new_table_name() {
  return "gatehouse-test-" + std::to_string(::getpid()) + "-" + random_hex(8) + "-" + std::to_string(++tables_made_);
}

std::map<std::string, std::string> aws_peers::gatehouse_env() const {
  return {{"AWS_ENDPOINT_URL_DYNAMODB", dynamodb_url()},
          {"AWS_ENDPOINT_URL_S3", s3_url()},
          {"AWS_ACCESS_KEY_ID", access_key_},
          {"AWS_SECRET_ACCESS_KEY", secret_key_},
          {"AWS_REGION", region_},
          {"USERS_TABLE", users_table_},
          {"PROFILE_IMAGES_BUCKET", bucket_}};
}

void aws_peers::post_fault(aws_service service, const std::string& json) const {
  http_client c(peer_of(service).proxy_port);
  const auto r = c.post_json("/__fault", json);
  if (r.status != 200) throw std::runtime_error("aws_peers: the proxy refused " + json + ": " + r.body);
}

void aws_peers::throttle_next(aws_service service, int n) {
  post_fault(service, "{\"throttle\":" + std::to_string(n) + "}");
}

void aws_peers::fail_next(aws_service service, int n) { post_fault(service, "{\"fail\":" + std::to_string(n) + "}"); }

void aws_peers::delay_next(aws_service service, int n, int delay_ms) {
  post_fault(service, "{\"delay\":" + std::to_string(n) + ",\"delay_ms\":" + std::to_string(delay_ms) + "}");
}

void aws_peers::lose_next_answers(aws_service service, int n, int after, const std::string& operation) {
  post_fault(service, "{\"lose_answers\":" + std::to_string(n) + ",\"lose_skip\":" + std::to_string(after) +
                          ",\"lose_operation\":\"" + operation + "\"}");
}

void aws_peers::hold_next_reads(int n) { post_fault(aws_service::s3, "{\"hold_reads\":" + std::to_string(n) + "}"); }

void aws_peers::release_reads() { post_fault(aws_service::s3, "{\"release\":1}"); }

proxy_stats aws_peers::stats(aws_service service) const {
  http_client c(peer_of(service).proxy_port);
  const auto r = c.get("/__stats");
  if (r.status != 200) throw std::runtime_error("aws_peers: no stats from the proxy: " + r.body);
  const auto v = parse_json(r.body).as_object();
  proxy_stats s;
  s.verified = v.at("verified").to_number<long>();
  s.rejected = v.at("rejected").to_number<long>();
  s.forwarded = v.at("forwarded").to_number<long>();
  s.throttled = v.at("throttled").to_number<long>();
  s.failed = v.at("failed").to_number<long>();
  s.delayed = v.at("delayed").to_number<long>();
  s.held = v.at("held").to_number<long>();
  s.if_match_signed = v.at("if_match_signed").to_number<long>();
  s.precondition_failed = v.at("precondition_failed").to_number<long>();
  s.lost = v.at("lost").to_number<long>();
  return s;
}

int aws_peers::run_node(const std::vector<std::string>& args, std::string& out, std::string& err) const {
  const int n = ++spawned_;
  const fs::path out_path = dir_.path() / ("node-run." + std::to_string(n) + ".out");
  const fs::path err_path = dir_.path() / ("node-run." + std::to_string(n) + ".err");
  int pid = start_process(node_, args, node_environment(false), out_path, err_path, peers_dir());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int code = -1;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill_group(pid);
      code = 124;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  out = read_text(out_path);
  err = read_text(err_path);
  return code;
}

std::string aws_peers::logs() const {
  std::string all;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_.path()))
    if (e.path().extension() == ".log") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) all += "==== " + f.filename().string() + "\n" + read_text(f);
  return all;
}

}  // namespace gatehouse::testing
