// `gatehouse users list|get|delete` against real stores, on the backend
// GATEHOUSE_TEST_BACKEND picks (SQLite + files, or dynalite + s3rver behind
// the SigV4-checking proxies), with users made through the HTTP API of a
// running server: list pages through every user with the store's cursors
// and prints only data on stdout; get finds by id and by e-mail; delete
// removes the user, its images and its refresh tokens (and the e-mail
// claim), leaving a store `gatehouse doctor` passes; delete refuses
// without --yes unless a terminal confirms; the exit codes (1 not found,
// 2 configuration, 3 unreachable, 4 refused, CLI11's for usage errors).
#include "support/aws_peers.hpp"
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/http_client.hpp"
#include "support/operator_commands.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gatehouse::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::steady_clock;

const std::string password = "correct horse battery";

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

// ---- running the CLI -----------------------------------------------------------

struct cli_input {
  std::string text;            // written to stdin (a pipe, or the terminal)
  bool stdin_terminal = false;   // stdin is a pseudo-terminal instead of /dev/null or a pipe
  bool stderr_terminal = false;  // stderr is that pseudo-terminal instead of a pipe
  std::string answer_after;    // with a terminal: write `text` once stderr shows this
};

struct cli_result {
  int code = -1;
  std::string out, err;  // err: the stderr pipe, or what the terminal showed
  double seconds = 0;

  std::vector<std::string> lines() const { return split(out, '\n'); }
  std::string text() const { return "exit " + std::to_string(code) + "\n--- stdout:\n" + out + "--- stderr:\n" + err; }
};

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Runs the gatehouse binary with exactly `env` (plus PATH) and `args`;
// stdout and stderr kept apart; stdin /dev/null, a pipe or a terminal.
cli_result run_cli(const env_map& env, const std::vector<std::string>& args, const cli_input& input = {}) {
  const bool terminal = input.stdin_terminal || input.stderr_terminal;
  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (!terminal && !input.text.empty() && ::pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int master = -1, slave = -1;
  if (terminal) {
    master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) throw std::runtime_error("no pty");
    // Held open by the parent too, so the master never reads as hung up
    // before the child has opened its side.
    slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) throw std::runtime_error("cannot open the pty's slave");
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  if (!env.count("PATH")) env_strings.push_back("PATH=/usr/bin:/bin");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv{const_cast<char*>(GATEHOUSE_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const auto start = steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(input.stdin_terminal ? slave : in_pipe[0] >= 0 ? in_pipe[0] : devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(input.stderr_terminal ? slave : err_pipe[1], 2);
    ::execve(GATEHOUSE_BINARY, argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(devnull);
  if (in_pipe[0] >= 0) {
    ::close(in_pipe[0]);
    (void)!::write(in_pipe[1], input.text.data(), input.text.size());
    ::close(in_pipe[1]);
  }

  cli_result r;
  std::string shown;  // what the terminal showed
  bool answered = !terminal || input.text.empty();
  const auto maybe_answer = [&] {
    if (answered) return;
    if (!input.answer_after.empty() && (shown + r.err).find(input.answer_after) == std::string::npos) return;
    (void)!::write(master, input.text.data(), input.text.size());
    answered = true;
  };
  maybe_answer();
  set_nonblocking(out_pipe[0]);
  set_nonblocking(err_pipe[0]);
  if (master >= 0) set_nonblocking(master);
  bool out_open = true, err_open = true;
  const auto deadline = start + std::chrono::seconds(120);
  char buf[4096];
  while (out_open || err_open) {
    if (steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      r.err += "\n[killed: no exit within 120 s]";
      break;
    }
    std::vector<pollfd> fds{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    if (master >= 0) fds.push_back({master, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    const auto drain = [&](int fd, std::string& into, bool& open) {
      for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
          into.append(buf, static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) open = false;
        return;
      }
    };
    if (out_open) drain(out_pipe[0], r.out, out_open);
    if (err_open) drain(err_pipe[0], r.err, err_open);
    if (master >= 0) {
      bool ignored = true;
      drain(master, shown, ignored);
    }
    maybe_answer();
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  if (master >= 0) {
    // What the child wrote last; then EIO, as nobody holds the slave now.
    ::close(slave);
    for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) shown.append(buf, static_cast<std::size_t>(n));
    ::close(master);
    r.err = shown + r.err;
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  return r;
}

// A `gatehouse` run left going: stdout into a pipe read as it comes, stderr
// into `err_log`, stdin /dev/null.
struct running_cli {
  pid_t pid = -1;
  int out_fd = -1;
  std::string out;

  // Reads stdout until a line starting with `prefix` has arrived; false when
  // the process ends or `timeout` passes first.
  bool wait_for_line(const std::string& prefix, std::chrono::seconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    char buf[4096];
    while (steady_clock::now() < deadline) {
      if (out.rfind(prefix, 0) == 0 || out.find("\n" + prefix) != std::string::npos) return true;
      pollfd p{out_fd, POLLIN, 0};
      ::poll(&p, 1, 20);
      const ssize_t n = ::read(out_fd, buf, sizeof buf);
      if (n > 0) out.append(buf, static_cast<std::size_t>(n));
      if (n == 0) return out.rfind(prefix, 0) == 0 || out.find("\n" + prefix) != std::string::npos;
    }
    return false;
  }
  void kill_and_wait() {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out_fd);
  }
};

running_cli start_cli(const env_map& env, const std::vector<std::string>& args, const fs::path& err_log) {
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> env_strings{"PATH=/usr/bin:/bin"};
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv{const_cast<char*>(GATEHOUSE_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(::open("/dev/null", O_RDONLY), 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(::open(err_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600), 2);
    ::execve(GATEHOUSE_BINARY, argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  set_nonblocking(out_pipe[0]);
  return {pid, out_pipe[0], {}};
}

// ---- HTTP helpers ----------------------------------------------------------------

http_result sign_up(http_client& c, const std::string& email, const std::string& name = "Test User") {
  return c.post_json("/signup", json::serialize(json::object{{"name", name}, {"email", email}, {"password", password}}));
}

http_result log_in(http_client& c, const std::string& email) {
  return c.post_json("/login", json::serialize(json::object{{"email", email}, {"password", password}}));
}

http_result refresh(http_client& c, const std::string& token) {
  return c.post_json("/token/refresh", json::serialize(json::object{{"refresh_token", token}}));
}

std::string refresh_token_of(const http_result& r) {
  return std::string(parse_json(r.body).at("refresh_token").as_string());
}

// Every user id GET /users shows, following next_cursor.
std::set<std::string> listed_ids(http_client& c, const std::string& token) {
  std::set<std::string> ids;
  std::string target = "/users?limit=100";
  for (int pages = 0; pages < 100; ++pages) {
    const auto r = c.get(target, {{"authorization", "Bearer " + token}});
    if (r.status != 200) throw std::runtime_error("GET /users: " + r.body);
    const auto body = parse_json(r.body);
    for (const auto& u : body.at("users").as_array()) ids.insert(std::string(u.at("userId").as_string()));
    const auto& next = body.at("next_cursor");
    if (!next.is_string()) return ids;
    target = "/users?limit=100&cursor=" + std::string(next.as_string());
  }
  throw std::runtime_error("GET /users never ended");
}

// ---- the fixture: one store per test -------------------------------------------

class cli : public ::testing::Test {
 protected:
  // On AWS a bucket of its own, so doctor --min-age 0 sees no other test's objects.
  void SetUp() override { prepare_store(env_, dir_.path() / "data", "cli-"); }

  std::unique_ptr<gatehouse_process> start_server() const { return std::make_unique<gatehouse_process>(env_); }

  // `gatehouse users <args>` on this test's store.
  cli_result users(std::vector<std::string> args, const cli_input& input = {}) const {
    args.insert(args.begin(), "users");
    return run_cli(env_, args, input);
  }

  std::string bucket() const { return env_.at("PROFILE_IMAGES_BUCKET"); }
  std::string users_table() const { return env_.at("USERS_TABLE"); }
  fs::path db_file() const { return dir_.path() / "data" / "gatehouse.db"; }

  // Objects stored under `prefix`: backend.hpp's count for the embedded
  // store, and this test's own bucket (s3rver itself, unsigned) on AWS.
  std::size_t objects_under(const std::string& prefix) const {
    if (!is_aws()) return count_objects(env_.at("DATA_DIR"), prefix);
    http_client raw(shared_aws_peers().raw_s3_port());
    const auto r = raw.get("/" + bucket() + "?list-type=2&max-keys=1000&prefix=" + prefix);
    if (r.status != 200) throw std::runtime_error("s3rver list: " + r.body);
    std::size_t n = 0;
    for (auto pos = r.body.find("<Key>"); pos != std::string::npos; pos = r.body.find("<Key>", pos + 5)) ++n;
    return n;
  }

  // An object behind Gatehouse's back, as a crash between put and the user
  // update leaves one.
  void put_object(const std::string& key, const std::string& bytes) const {
    gatehouse::testing::put_object(env_, key, bytes);
  }

  // The stored refresh tokens and token families of `user_id`, read
  // without Gatehouse: the sqlite3 shell, or a Scan by the AWS SDK.
  std::size_t stored_tokens_of(const std::string& user_id) const {
    if (!is_aws()) {
      const auto count = [&](const std::string& table) {
        std::string out;
        const int code = run_program({"sqlite3", "-batch", "-cmd", ".timeout 5000", db_file().string(),
                                      "SELECT COUNT(*) FROM " + table + " WHERE user_id = '" + user_id + "';"},
                                     out);
        if (code != 0) throw std::runtime_error("sqlite3: " + out);
        return static_cast<std::size_t>(std::stoul(out));
      };
      return count("refresh_tokens") + count("token_families");
    }
    std::size_t n = 0;
    for (const auto& item : scan(users_table() + "-tokens"))
      if (item.at("userId").as_string() == user_id) ++n;
    return n;
  }

  // Whether the DynamoDB e-mail claims table holds a claim on `email`.
  bool claim_exists(const std::string& email) const {
    for (const auto& item : scan(users_table() + "-emails"))
      if (item.at("email").as_string() == email) return true;
    return false;
  }

  // `gatehouse doctor --min-age 0` (no repair): every check on the store,
  // nothing younger let off.
  int doctor(std::string& report) const {
    return run_gatehouse(env_, {"doctor", "--min-age", "0"}, report);
  }

  temp_dir dir_;
  env_map env_;
};

// ---- list -----------------------------------------------------------------------

TEST_F(cli, list_prints_every_user_across_store_pages_and_never_a_password_hash) {
  auto server = start_server();
  http_client c(server->port());
  struct made {
    std::string id, email, name, created_at;
  };
  std::map<std::string, made> users_by_id;
  // Seven users, three per store page: three pages, the last one short.
  for (int i = 0; i < 7; ++i) {
    const std::string email = "list-" + std::to_string(i) + "@example.com";
    const std::string name = i == 3 ? "Zoë Ångström" : "User " + std::to_string(i);
    const auto s = sign_up(c, email, name);
    ASSERT_EQ(s.status, 201) << s.body;
    const auto u = parse_json(s.body).at("user");
    made m{std::string(u.at("userId").as_string()), email, name, std::string(u.at("createdAt").as_string())};
    users_by_id[m.id] = m;
  }
  const std::string with_image = users_by_id.begin()->first;
  {
    const auto l = log_in(c, users_by_id.at(with_image).email);
    ASSERT_EQ(l.status, 200);
    ASSERT_EQ(upload(c, std::string(parse_json(l.body).at("token").as_string()), sample_png()).status, 200);
  }

  const auto r = users({"list", "--page-size", "3"});
  ASSERT_EQ(r.code, 0) << r.text();
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 7u) << r.text();
  std::set<std::string> seen;
  for (const auto& line : lines) {
    const auto f = split(line, '\t');
    ASSERT_EQ(f.size(), 5u) << line;
    ASSERT_TRUE(users_by_id.count(f[0])) << "an unknown user: " << line;
    const auto& m = users_by_id.at(f[0]);
    EXPECT_EQ(f[1], m.email);
    EXPECT_EQ(f[2], m.name);
    EXPECT_EQ(f[3], m.created_at);
    EXPECT_EQ(f[4], f[0] == with_image ? "yes" : "no") << line;
    EXPECT_TRUE(seen.insert(f[0]).second) << "listed twice: " << line;
  }
  EXPECT_EQ(r.out.find("$2"), std::string::npos) << "a bcrypt hash on stdout";
  EXPECT_EQ(r.err.find("$2"), std::string::npos) << "a bcrypt hash on stderr";
  // stderr is not a terminal: no progress, and the data alone on stdout.
  EXPECT_EQ(r.err.find("listed"), std::string::npos) << r.text();

  const auto j = users({"list", "--json", "--page-size", "3"});
  ASSERT_EQ(j.code, 0) << j.text();
  const auto json_lines = j.lines();
  ASSERT_EQ(json_lines.size(), 7u) << j.text();
  for (std::size_t i = 0; i < json_lines.size(); ++i) {
    const auto o = parse_json(json_lines[i]).as_object();
    std::set<std::string> keys;
    for (const auto& kv : o) keys.insert(std::string(kv.key()));
    EXPECT_EQ(keys, (std::set<std::string>{"userId", "email", "name", "createdAt", "hasImage"}));
    const std::string id(o.at("userId").as_string());
    ASSERT_TRUE(users_by_id.count(id));
    EXPECT_EQ(o.at("email").as_string(), users_by_id.at(id).email);
    EXPECT_EQ(o.at("name").as_string(), users_by_id.at(id).name);
    EXPECT_EQ(o.at("createdAt").as_string(), users_by_id.at(id).created_at);
    EXPECT_EQ(o.at("hasImage").as_bool(), id == with_image);
    EXPECT_EQ(id, split(lines[i], '\t')[0]) << "the two formats list in different orders";
  }

  // --limit stops early, mid-page, in the same order.
  const auto limited = users({"list", "--limit", "4", "--page-size", "3"});
  ASSERT_EQ(limited.code, 0) << limited.text();
  EXPECT_EQ(limited.lines(), std::vector<std::string>(lines.begin(), lines.begin() + 4));
  const auto all = users({"list", "--limit", "100"});
  EXPECT_EQ(all.lines(), lines);
}

TEST_F(cli, list_shows_progress_on_stderr_only_when_it_is_a_terminal) {
  auto server = start_server();
  http_client c(server->port());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(sign_up(c, "p" + std::to_string(i) + "@example.com").status, 201);

  cli_input tty;
  tty.stderr_terminal = true;
  const auto r = users({"list", "--page-size", "2"}, tty);
  ASSERT_EQ(r.code, 0) << r.text();
  EXPECT_EQ(r.lines().size(), 5u) << r.text();
  EXPECT_NE(r.err.find("users: 5 listed, page 3"), std::string::npos) << r.text();
  EXPECT_NE(r.err.find("users: 2 listed, page 1, more to come"), std::string::npos) << r.text();
  // The same data as without a terminal, and nothing else on stdout.
  const auto plain = users({"list", "--page-size", "2"});
  EXPECT_EQ(r.out, plain.out);
  EXPECT_EQ(plain.err.find("listed"), std::string::npos) << plain.text();
}

// ---- get ------------------------------------------------------------------------

TEST_F(cli, get_finds_a_user_by_id_and_by_email_and_exits_1_for_nobody) {
  auto server = start_server();
  http_client c(server->port());
  const auto ada = sign_up_and_log_in(c, "ada@example.com", password);
  const auto bob = sign_up_and_log_in(c, "bob@example.com", password);
  ASSERT_EQ(upload(c, ada.token, sample_png()).status, 200);
  const std::string prefix = "profile-images/" + ada.user_id + "/";

  const auto by_id = users({"get", ada.user_id});
  ASSERT_EQ(by_id.code, 0) << by_id.text();
  const auto lines = by_id.lines();
  ASSERT_EQ(lines.size(), 5u) << by_id.text();
  EXPECT_EQ(lines[0], "userId     " + ada.user_id);
  EXPECT_EQ(lines[1], "email      ada@example.com");
  EXPECT_EQ(lines[2], "name       Test User");
  EXPECT_EQ(lines[3].rfind("createdAt  20", 0), 0u) << lines[3];
  EXPECT_EQ(lines[4].rfind("image      " + prefix, 0), 0u) << lines[4];
  EXPECT_EQ(by_id.out.find("$2"), std::string::npos);

  // An e-mail as a person types it: trimmed and lower-cased, as sign-up stored it.
  const auto by_email = users({"get", "  Ada@Example.COM ", "--json"});
  ASSERT_EQ(by_email.code, 0) << by_email.text();
  ASSERT_EQ(by_email.lines().size(), 1u) << by_email.text();
  const auto o = parse_json(by_email.out).as_object();
  std::set<std::string> keys;
  for (const auto& kv : o) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"userId", "email", "name", "createdAt", "hasImage", "profileImage"}));
  EXPECT_EQ(o.at("userId").as_string(), ada.user_id);
  EXPECT_EQ(o.at("email").as_string(), "ada@example.com");
  EXPECT_TRUE(o.at("hasImage").as_bool());
  EXPECT_EQ(std::string(o.at("profileImage").as_string()).rfind(prefix, 0), 0u);

  const auto plain = parse_json(users({"get", bob.user_id, "--json"}).out).as_object();
  EXPECT_EQ(plain.at("email").as_string(), "bob@example.com");
  EXPECT_FALSE(plain.at("hasImage").as_bool());
  EXPECT_TRUE(plain.at("profileImage").is_null());

  for (const std::string& who : std::vector<std::string>{"nobody@example.com", made_up_user_id(), "not-an-address@", ""}) {
    const auto r = users({"get", who});
    EXPECT_EQ(r.code, 1) << who << ": " << r.text();
    EXPECT_EQ(r.out, "") << who;
    EXPECT_NE(r.err.find("gatehouse users get: no user with "), std::string::npos) << r.text();
  }
  EXPECT_NE(users({"get", "nobody@example.com"}).err.find("no user with e-mail nobody@example.com"), std::string::npos);
}

// ---- delete ---------------------------------------------------------------------

TEST_F(cli, delete_removes_the_user_its_images_its_refresh_tokens_and_its_claim) {
  auto server = start_server();
  http_client c(server->port());
  const auto victim = sign_up_and_log_in(c, "victim@example.com", password);
  const auto survivor = sign_up_and_log_in(c, "survivor@example.com", password);
  // Three logins (three token families), one refreshed: four tokens stored.
  const auto first = log_in(c, victim.email);
  const auto second = log_in(c, victim.email);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  const auto rotated = refresh(c, refresh_token_of(second));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  // Two uploads (the second replaces and deletes the first), and a stray
  // object under the victim's prefix, as a crash mid-upload leaves one.
  ASSERT_EQ(upload(c, victim.token, sample_gif()).status, 200);
  ASSERT_EQ(upload(c, victim.token, sample_png()).status, 200);
  const std::string victim_prefix = "profile-images/" + victim.user_id + "/";
  const std::string survivor_prefix = "profile-images/" + survivor.user_id + "/";
  put_object(victim_prefix + random_hex(32) + ".png", sample_png());
  // A pending direct upload, with its form marker.
  const std::string victim_uploads = "profile-images/uploads/" + victim.user_id + "/";
  const std::string pending = victim_uploads + std::to_string(std::time(nullptr) + 300) + "-" + random_hex(32);
  put_object(pending, sample_png());
  put_object(pending + ".form", "");
  ASSERT_EQ(upload(c, survivor.token, sample_jpeg()).status, 200);
  ASSERT_EQ(objects_under(victim_prefix), 2u);
  ASSERT_EQ(objects_under(victim_uploads), 2u);
  ASSERT_EQ(objects_under(survivor_prefix), 1u);
  ASSERT_GT(stored_tokens_of(victim.user_id), 0u);
  if (is_aws()) {
    ASSERT_TRUE(claim_exists(victim.email));
  }

  const auto r = users({"delete", victim.user_id, "--yes"});
  ASSERT_EQ(r.code, 0) << r.text();
  EXPECT_EQ(r.lines(), (std::vector<std::string>{
                           "images: deleted 4 objects under " + victim_prefix + " and " + victim_uploads,
                           "tokens: deleted 4 refresh tokens of 3 logins",
                           "user: deleted " + victim.user_id + " (victim@example.com)",
                       }))
      << r.text();

  // The user is gone for the API: no login, not listed, no refresh.
  EXPECT_EQ(log_in(c, victim.email).status, 401);
  const auto ids = listed_ids(c, survivor.token);
  EXPECT_EQ(ids.count(victim.user_id), 0u);
  EXPECT_EQ(ids.count(survivor.user_id), 1u);
  for (const auto& token : {refresh_token_of(first), refresh_token_of(rotated)}) {
    const auto again = refresh(c, token);
    EXPECT_EQ(again.status, 401) << again.body;
    EXPECT_EQ(error_code_of(again), "invalid_refresh_token");
  }
  // And gone from the stores, not only refused.
  EXPECT_EQ(objects_under(victim_prefix), 0u);
  EXPECT_EQ(objects_under(victim_uploads), 0u);
  EXPECT_EQ(stored_tokens_of(victim.user_id), 0u);
  if (is_aws()) {
    EXPECT_FALSE(claim_exists(victim.email));
  }
  EXPECT_EQ(users({"get", victim.user_id}).code, 1);

  // Nothing left for doctor to find, nothing else touched.
  std::string report;
  EXPECT_EQ(doctor(report), 0) << report;
  EXPECT_EQ(objects_under(survivor_prefix), 1u);
  EXPECT_EQ(log_in(c, survivor.email).status, 200);
  // The address is free again at once (on DynamoDB: no claim left to wait out).
  EXPECT_EQ(sign_up(c, victim.email).status, 201);

  // Idempotent: the old id is not found, and nothing happens.
  const auto again = users({"delete", victim.user_id, "--yes"});
  EXPECT_EQ(again.code, 1) << again.text();
  EXPECT_EQ(again.out, "");
  EXPECT_NE(again.err.find("no user with id " + victim.user_id + "; nothing deleted"), std::string::npos)
      << again.text();
  EXPECT_EQ(users({"delete", made_up_user_id(), "--yes"}).code, 1);
  EXPECT_EQ(users({"delete", "nobody@example.com", "--yes"}).code, 1);

  // By e-mail, as typed.
  const auto by_email = users({"delete", " Survivor@Example.com", "--yes"});
  ASSERT_EQ(by_email.code, 0) << by_email.text();
  EXPECT_EQ(by_email.lines().back(), "user: deleted " + survivor.user_id + " (survivor@example.com)");
  EXPECT_EQ(objects_under(survivor_prefix), 0u);
  EXPECT_EQ(log_in(c, survivor.email).status, 401);
  EXPECT_EQ(doctor(report), 0) << report;
}

TEST_F(cli, delete_without_yes_refuses_when_stdin_is_not_a_terminal_and_deletes_nothing) {
  auto server = start_server();
  http_client c(server->port());
  const auto ada = sign_up_and_log_in(c, "ada@example.com", password);
  const auto l = log_in(c, ada.email);
  ASSERT_EQ(upload(c, ada.token, sample_png()).status, 200);
  const std::string prefix = "profile-images/" + ada.user_id + "/";
  const std::size_t tokens = stored_tokens_of(ada.user_id);

  // /dev/null, and a pipe saying "yes": a script's "yes" is no confirmation.
  cli_input piped;
  piped.text = "yes\n";
  for (const auto& input : {cli_input{}, piped}) {
    const auto r = users({"delete", ada.user_id}, input);
    EXPECT_EQ(r.code, 4) << r.text();
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("refusing to delete user " + ada.user_id + " (ada@example.com) without confirmation"),
              std::string::npos)
        << r.text();
    EXPECT_NE(r.err.find("add --yes"), std::string::npos) << r.text();
  }
  EXPECT_EQ(users({"delete", "ada@example.com"}).code, 4);

  EXPECT_EQ(log_in(c, ada.email).status, 200);
  EXPECT_EQ(objects_under(prefix), 1u);
  EXPECT_EQ(stored_tokens_of(ada.user_id), tokens + 2);  // the login just above: a family and its token
  EXPECT_EQ(refresh(c, refresh_token_of(l)).status, 200);
  EXPECT_EQ(users({"get", ada.user_id}).code, 0);
}

TEST_F(cli, delete_on_a_terminal_asks_and_deletes_only_after_yes) {
  auto server = start_server();
  http_client c(server->port());
  const auto ada = sign_up_and_log_in(c, "ada@example.com", password);
  ASSERT_EQ(upload(c, ada.token, sample_png()).status, 200);

  cli_input no;
  no.stdin_terminal = true;
  no.answer_after = "Type yes to delete: ";
  no.text = "no\n";
  const auto declined = users({"delete", ada.user_id}, no);
  EXPECT_EQ(declined.code, 4) << declined.text();
  EXPECT_NE(declined.err.find("About to delete user " + ada.user_id), std::string::npos) << declined.text();
  EXPECT_NE(declined.err.find("email      ada@example.com"), std::string::npos) << declined.text();
  EXPECT_NE(declined.err.find("not deleted: the answer was not \"yes\""), std::string::npos) << declined.text();
  EXPECT_EQ(declined.out, "");
  EXPECT_EQ(log_in(c, ada.email).status, 200);
  EXPECT_EQ(objects_under("profile-images/" + ada.user_id + "/"), 1u);

  cli_input yes = no;
  yes.text = "yes\n";
  const auto done = users({"delete", "ada@example.com"}, yes);
  ASSERT_EQ(done.code, 0) << done.text();
  EXPECT_EQ(done.lines().back(), "user: deleted " + ada.user_id + " (ada@example.com)") << done.text();
  EXPECT_EQ(log_in(c, ada.email).status, 401);
  EXPECT_EQ(objects_under("profile-images/" + ada.user_id + "/"), 0u);
}

// Whichever step a delete dies in, what it leaves is finished by running it
// again (the record goes after the images and tokens, so the user is still
// found) or by `gatehouse doctor --repair` (after the record). Every
// DynamoDB and S3 request is held 400 ms by the proxies, and a request
// whose client died while it was held is dropped, so a kill at a chosen
// time after a step's line stops the delete at a known request.
TEST_F(cli, a_delete_killed_between_steps_is_finished_by_running_it_again_or_by_doctor_repair) {
  if (!is_aws()) GTEST_SKIP() << "SQLite and files finish each step in microseconds: no kill lands between them";
  auto server = start_server();
  http_client c(server->port());
  auto& peers = shared_aws_peers();
  struct kill_point {
    std::string after_line;  // the step whose line was printed last
    int after_ms;            // how long after it
    bool user_left;          // then the record is still there (run delete again)
    bool claim_left;         // else doctor --repair has a claim to delete
  };
  const std::vector<kill_point> kill_points{
      {"images:", 150, true, true},    // the tokens' Scan held: dropped
      {"tokens:", 150, true, true},    // the user's DeleteItem held: dropped
      {"tokens:", 600, false, true},   // the user's landed at 400 ms, the claim's held: dropped
      {"user:", 150, false, false}};   // the second sweep's ListObjectsV2 held: dropped
  for (const auto& k : kill_points) {
    SCOPED_TRACE("killed " + std::to_string(k.after_ms) + " ms after the \"" + k.after_line + "\" line");
    const std::string email = "kill-" + random_hex(8) + "@example.com";
    const auto victim = sign_up_and_log_in(c, email, password);
    ASSERT_EQ(upload(c, victim.token, sample_png()).status, 200);
    const std::string prefix = "profile-images/" + victim.user_id + "/";

    peers.delay_next(aws_service::dynamodb, 1000000, 400);
    peers.delay_next(aws_service::s3, 1000000, 400);
    auto running = start_cli(env_, {"users", "delete", victim.user_id, "--yes"}, dir_.path() / "killed.log");
    const bool seen = running.wait_for_line(k.after_line, std::chrono::seconds(60));
    std::this_thread::sleep_for(std::chrono::milliseconds(k.after_ms));
    running.kill_and_wait();
    peers.delay_next(aws_service::dynamodb, 0, 0);
    peers.delay_next(aws_service::s3, 0, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // held requests are dropped
    ASSERT_TRUE(seen) << "no \"" << k.after_line << "\" line: " << running.out;

    EXPECT_EQ(objects_under(prefix), 0u) << "the images go first";
    EXPECT_EQ(users({"get", victim.user_id}).code, k.user_left ? 0 : 1);
    EXPECT_EQ(claim_exists(email), k.claim_left);
    if (k.user_left) {
      const auto again = users({"delete", victim.user_id, "--yes"});
      EXPECT_EQ(again.code, 0) << again.text();
      EXPECT_NE(again.out.find("user: deleted " + victim.user_id), std::string::npos) << again.text();
    } else {
      std::string report;
      EXPECT_EQ(run_gatehouse(env_, {"doctor", "--repair", "--min-age", "0"}, report), 0) << report;
      EXPECT_EQ(report.find("repaired: deleted the claim on") != std::string::npos, k.claim_left) << report;
    }
    std::string report;
    EXPECT_EQ(doctor(report), 0) << report;
    EXPECT_FALSE(claim_exists(email));
    EXPECT_EQ(stored_tokens_of(victim.user_id), 0u);
    EXPECT_EQ(users({"get", victim.user_id}).code, 1);
    EXPECT_EQ(log_in(c, email).status, 401);
  }
}

// ---- configuration, unreachable stores, usage ---------------------------------

const std::vector<std::vector<std::string>> every_command{
    {"list"}, {"get", "ada@example.com"}, {"delete", "ada@example.com", "--yes"}};

TEST_F(cli, a_bad_configuration_exits_2_naming_the_variable) {
  for (const auto& args : every_command) {
    auto full = args;
    full.insert(full.begin(), "users");
    const auto r = run_cli({{"DATA_DIR", dir_.path().string()}, {"MAX_IMAGE_BYTES", "12"}}, full);
    EXPECT_EQ(r.code, 2) << r.text();
    EXPECT_NE(r.err.find("gatehouse: invalid configuration: MAX_IMAGE_BYTES"), std::string::npos) << r.text();
    EXPECT_EQ(r.out, "");

    const auto region = run_cli({{"USERS_TABLE", "users"}, {"HOME", dir_.path().string()}}, full);
    EXPECT_EQ(region.code, 2) << region.text();
    EXPECT_NE(region.err.find("AWS_REGION"), std::string::npos) << region.text();

    // No credentials anywhere is configuration too.
    const auto keys = run_cli({{"USERS_TABLE", "users"},
                               {"AWS_REGION", "eu-west-2"},
                               {"HOME", dir_.path().string()},
                               {"AWS_ENDPOINT_URL", "http://127.0.0.1:" + std::to_string(free_loopback_port())}},
                              full);
    EXPECT_EQ(keys.code, 2) << keys.text();
    EXPECT_NE(keys.err.find("AWS credentials"), std::string::npos) << keys.text();
  }
}

TEST_F(cli, an_unreachable_store_exits_3_with_one_clear_line) {
  const std::string nobody = "http://127.0.0.1:" + std::to_string(free_loopback_port());
  const env_map aws_nowhere{{"AWS_REGION", "eu-west-2"},
                            {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                            {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                            {"HOME", dir_.path().string()},
                            {"DATA_DIR", (dir_.path() / "data").string()},
                            {"USERS_TABLE", "users"},
                            {"PROFILE_IMAGES_BUCKET", "images"},
                            {"AWS_ENDPOINT_URL", nobody},
                            {"AWS_CONNECT_TIMEOUT_MS", "500"},
                            {"AWS_REQUEST_TIMEOUT_MS", "1000"},
                            {"AWS_TOTAL_TIMEOUT_MS", "3000"}};
  for (const auto& args : every_command) {
    auto full = args;
    full.insert(full.begin(), "users");
    const auto r = run_cli(aws_nowhere, full);
    EXPECT_EQ(r.code, 3) << r.text();
    EXPECT_NE(r.err.find("gatehouse users " + args[0] + ": "), std::string::npos) << r.text();
    EXPECT_EQ(r.out, "");
    EXPECT_LT(r.seconds, 30.0) << "hung on an unreachable endpoint";

    // The embedded store: a DATA_DIR without a database is not an empty store.
    const auto e = run_cli({{"DATA_DIR", (dir_.path() / "nowhere").string()}}, full);
    EXPECT_EQ(e.code, 3) << e.text();
    EXPECT_NE(e.err.find("no database at " + (dir_.path() / "nowhere" / "gatehouse.db").string()), std::string::npos)
        << e.text();
    EXPECT_FALSE(fs::exists(dir_.path() / "nowhere")) << "a users command created the data directory";
  }
}

TEST_F(cli, usage_errors_keep_cli11_codes_and_every_help_ends_with_examples_and_exit_codes) {
  const env_map env{{"DATA_DIR", (dir_.path() / "data").string()}};
  EXPECT_EQ(run_cli(env, {"users"}).code, 106);                          // RequiredError: no subcommand
  EXPECT_EQ(run_cli(env, {"users", "get"}).code, 106);                   // RequiredError: no user
  EXPECT_EQ(run_cli(env, {"users", "list", "--limit", "0"}).code, 105);  // ValidationError
  EXPECT_EQ(run_cli(env, {"users", "list", "--page-size", "5000"}).code, 105);
  EXPECT_EQ(run_cli(env, {"users", "list", "--bogus"}).code, 109);       // ExtrasError
  EXPECT_EQ(run_cli(env, {"users", "delete", "a@example.com", "b@example.com"}).code, 109);

  const auto top = run_cli(env, {"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("  users  "), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("gatehouse users list --json"), std::string::npos) << top.out;
  for (const std::string command : {"list", "get", "delete"}) {
    const auto h = run_cli(env, {"users", command, "--help"});
    EXPECT_EQ(h.code, 0) << h.text();
    EXPECT_NE(h.out.find("Examples:\n  gatehouse users " + command), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("Exit codes:\n  0  "), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("  2  the configuration does not load"), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("  3  the store cannot be reached"), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("100-127  usage errors, with CLI11's own codes"), std::string::npos) << h.out;
    EXPECT_EQ(h.out.find("  1  no user") != std::string::npos, command != "list") << h.out;
    EXPECT_EQ(h.out.find("  4  refused") != std::string::npos, command == "delete") << h.out;
  }
  EXPECT_NE(run_cli(env, {"users", "--help"}).out.find("  4  delete refused"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.path() / "data")) << "help or a usage error touched the store";
}

}  // namespace
}  // namespace gatehouse::testing
