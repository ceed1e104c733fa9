// The Lambda artifact in an otherwise empty root: dist/gatehouse-lambda.zip
// unpacked where Lambda puts it (/var/task/bootstrap), next to nothing but
// the host's libc, libm, libgcc_s and loader, a CA bundle at Amazon Linux's
// path, and /tmp. Run there with chroot (as root) or `unshare -r -R`, it
// must start, serve, and answer a Runtime API invocation: a bootstrap that
// needed any other file (a shared library, a config file) would not.
#include "spawn.hpp"
#include "support/gatehouse_process.hpp"
#include "support/http_client.hpp"
#ifdef GATEHOUSE_HAVE_RUNTIME_EMULATOR
#include "runtime_emulator.hpp"
#endif

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef GATEHOUSE_LAMBDA_ZIP
#error "GATEHOUSE_LAMBDA_ZIP must name dist/gatehouse-lambda.zip"
#endif

extern char** environ;

namespace gatehouse::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

const fs::path lambda_zip = GATEHOUSE_LAMBDA_ZIP;
const std::string bootstrap_in_root = "/var/task/bootstrap";  // where Lambda unpacks the zip

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A spawned process, SIGKILLed and reaped on destruction if still running.
class child {
 public:
  // `argv[0]` is looked up on this process's PATH; the child gets exactly
  // `env`, stdin from /dev/null, stdout and stderr into `log`.
  child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const fs::path& log)
      : pid_(spawn_logged(argv, env, log)), log_(log) {}
  ~child() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      (void)wait(5s);
    }
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  bool running() { return !wait(0ms); }

  // The exit status (128 + signal when a signal ended it) once the process
  // ended within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_)
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      else if (std::chrono::steady_clock::now() >= deadline)
        break;
      else
        std::this_thread::sleep_for(10ms);
    }
    return status_;
  }

  int stop(int signal_number) {
    if (!status_) ::kill(pid_, signal_number);
    return wait(10s).value_or(-1);
  }

  std::string output() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  fs::path log_;
};

// Copies `from` (symlinks followed) to `root` + `to`, creating directories.
void place(const fs::path& from, const fs::path& root, const fs::path& to) {
  const fs::path target = root / to.relative_path();
  fs::create_directories(target.parent_path());
  fs::copy_file(fs::canonical(from), target, fs::copy_options::overwrite_existing);
}

// Where the host keeps a shared library the loader finds without ld.so.cache.
std::optional<fs::path> host_library(const std::string& name) {
  for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"})
    if (fs::exists(fs::path(dir) / name)) return fs::path(dir) / name;
  return std::nullopt;
}

class empty_root_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(lambda_zip)) << lambda_zip << " is missing: run `make package` (`make test` does)";

    for (const std::string name : {"libc.so.6", "libm.so.6", "libgcc_s.so.1"}) {
      const auto lib = host_library(name);
      ASSERT_TRUE(lib) << "the host has no " << name;
      place(*lib, root_, *lib);
      expected_files_.insert(*lib);
    }
    // The x86-64 ABI's fixed loader path: every dynamic executable names it.
    place("/lib64/ld-linux-x86-64.so.2", root_, "/lib64/ld-linux-x86-64.so.2");
    expected_files_.insert("/lib64/ld-linux-x86-64.so.2");
    std::optional<fs::path> ca;
    for (const char* p : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"})
      if (!ca && fs::exists(p)) ca = p;
    ASSERT_TRUE(ca) << "the host has no CA bundle";
    place(*ca, root_, "/etc/pki/tls/certs/ca-bundle.crt");  // Amazon Linux 2023's path
    expected_files_.insert("/etc/pki/tls/certs/ca-bundle.crt");
    fs::create_directories(root_ / "tmp");
    fs::permissions(root_ / "tmp", fs::perms::all | fs::perms::sticky_bit);

    // unzip keeps the mode stored in the zip: a bootstrap packaged without
    // its execute bits would fail to start below.
    fs::create_directories(root_ / "var/task");
    const std::string unzip = "unzip -q -o '" + lambda_zip.string() + "' -d '" + (root_ / "var/task").string() + "'";
    ASSERT_EQ(std::system(unzip.c_str()), 0) << unzip;
    expected_files_.insert(bootstrap_in_root);

    // The root holds what this test put there and nothing else.
    std::set<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(root_))
      if (!e.is_directory()) files.insert("/" / fs::relative(e.path(), root_));
    ASSERT_EQ(files, expected_files_);

    isolate_ = isolation_command();
    if (isolate_.empty())
      GTEST_SKIP() << "neither chroot (needs root) nor an unprivileged user namespace (unshare -r -R) is "
                      "permitted here, so the empty root cannot be entered";
  }

  // The command prefix that runs a program with root_ as its root: chroot
  // as root, `unshare -r -R` otherwise. Each is probed with a program the
  // root does not hold: exit 127 means it entered the root and tried.
  std::vector<std::string> isolation_command() {
    std::vector<std::vector<std::string>> candidates;
    if (::geteuid() == 0) candidates.push_back({"chroot", root_.string()});
    candidates.push_back({"unshare", "-r", "-R", root_.string()});
    for (const auto& prefix : candidates) {
      auto argv = prefix;
      argv.push_back("/no-such-program");
      child probe(argv, {}, dir_.path() / "probe.log");
      if (probe.wait(10s) == 127) return prefix;
    }
    return {};
  }

  std::unique_ptr<child> start_in_root(const std::string& program, const std::vector<std::string>& args,
                                       const std::map<std::string, std::string>& env, const std::string& log) {
    auto argv = isolate_;
    argv.push_back(program);
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<child>(argv, env, dir_.path() / log);
  }

  temp_dir dir_;
  fs::path root_ = dir_.path() / "root";
  std::set<fs::path> expected_files_;
  std::vector<std::string> isolate_;
};

TEST_F(empty_root_test, bootstrap_reports_its_version_with_only_glibc_libm_libgcc_s_and_the_loader) {
  auto p = start_in_root(bootstrap_in_root, {"--version"}, {}, "version.log");
  EXPECT_EQ(p->wait(20s), 0) << p->output();
  EXPECT_EQ(p->output().rfind("gatehouse ", 0), 0u) << p->output();
}

// The control: the root really lacks everything else. The ordinary
// (dynamically linked) build cannot even load there.
TEST_F(empty_root_test, a_dynamically_linked_build_does_not_start_there) {
  place(GATEHOUSE_DYNAMIC_BINARY, root_, "/var/task/gatehouse-dynamic");
  auto p = start_in_root("/var/task/gatehouse-dynamic", {"--version"}, {}, "dynamic.log");
  EXPECT_EQ(p->wait(20s), 127) << p->output();
  EXPECT_NE(p->output().find("error while loading shared libraries"), std::string::npos) << p->output();
}

// `serve` in the root: /health, and a sign-up and login, which hash with
// the static libcrypt and draw its salt through the arc4random_buf that
// src/app/glibc_compat.cpp supplies; the database lands in the root's /tmp.
TEST_F(empty_root_test, bootstrap_serves_health_signup_and_login_from_inside_the_root) {
  const unsigned short port = free_loopback_port();
  auto server = start_in_root(bootstrap_in_root, {"serve"},
                              {{"HOST", "127.0.0.1"},
                               {"PORT", std::to_string(port)},
                               {"DATA_DIR", "/tmp/gatehouse"},
                               // No key given: the static binary generates its RS256 key in the root.
                               {"BCRYPT_COST", "4"}},
                              "serve.log");
  http_client client(port);
  http_result health;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (health.status != 200 && std::chrono::steady_clock::now() < deadline && server->running()) {
    try {
      health = client.get("/health");
    } catch (const std::exception&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_EQ(health.status, 200) << server->output();
  EXPECT_EQ(json::parse(health.body), json::parse(R"({"status":"ok"})"));

  const auto signup = client.post_json("/signup", R"({"name":"Ada","email":"ada@example.com","password":"correct horse"})");
  ASSERT_EQ(signup.status, 201) << signup.body << server->output();
  EXPECT_EQ(json::parse(signup.body).at("user").at("email").as_string(), "ada@example.com");
  const auto login = client.post_json("/login", R"({"email":"ada@example.com","password":"correct horse"})");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(json::parse(login.body).at("token_type").as_string(), "Bearer");
  EXPECT_TRUE(fs::exists(root_ / "tmp/gatehouse/gatehouse.db")) << "DATA_DIR=/tmp/gatehouse was not the root's /tmp";

  EXPECT_EQ(server->stop(SIGTERM), 0) << server->output();
}

#ifdef GATEHOUSE_HAVE_RUNTIME_EMULATOR
// As Lambda runs it: no arguments, AWS_LAMBDA_RUNTIME_API set, cwd /var/task.
TEST_F(empty_root_test, bootstrap_answers_runtime_api_invocations_from_inside_the_root) {
  runtime_emulator emulator;
  auto fn = start_in_root(bootstrap_in_root, {},
                          {{"AWS_LAMBDA_RUNTIME_API", emulator.address()},
                           {"LAMBDA_TASK_ROOT", "/var/task"},
                           {"_HANDLER", "bootstrap"},
                           {"DATA_DIR", "/tmp/gatehouse"},
                           {"JWT_PRIVATE_KEY", test_jwt_private_key},
                           {"JWT_ISSUER", test_lambda_issuer},
                           {"SERVER_SECRET", test_server_secret},
                           {"BCRYPT_COST", "4"}},
                          "lambda.log");

  const auto event = [](const std::string& method, const std::string& path, const std::string& body) {
    json::object e{{"version", "2.0"},
                   {"routeKey", "$default"},
                   {"rawPath", path},
                   {"rawQueryString", ""},
                   {"headers", {{"host", "api.example.com"}, {"content-type", "application/json"}}},
                   {"requestContext",
                    {{"http", {{"method", method}, {"path", path}, {"protocol", "HTTP/1.1"}, {"sourceIp", "203.0.113.9"}}},
                     {"requestId", "empty-root-" + method},
                     {"stage", "$default"}}},
                   {"isBase64Encoded", false}};
    if (!body.empty()) e["body"] = body;
    return json::serialize(e);
  };

  const auto health = emulator.invoke(event("GET", "/health", ""), 20s);
  ASSERT_EQ(health.kind, "response") << health.body << fn->output();
  const auto health_doc = json::parse(health.body).as_object();
  EXPECT_EQ(health_doc.at("statusCode").to_number<int>(), 200) << health.body;
  EXPECT_EQ(json::parse(health_doc.at("body").as_string()), json::parse(R"({"status":"ok"})"));

  const auto signup =
      emulator.invoke(event("POST", "/signup", R"({"name":"Ada","email":"ada@example.com","password":"correct horse"})"), 20s);
  ASSERT_EQ(signup.kind, "response") << signup.body << fn->output();
  EXPECT_EQ(json::parse(signup.body).at("statusCode").to_number<int>(), 201) << signup.body;
  EXPECT_TRUE(fn->running()) << fn->output();
}
#endif

}  // namespace
}  // namespace gatehouse::testing
