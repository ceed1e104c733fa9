#include "operator_commands.hpp"

#include "aws_peers.hpp"
#include "backend.hpp"
#include "fixtures.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace gatehouse::testing {
namespace fs = std::filesystem;
namespace json = boost::json;

bool is_aws() { return current_backend() == backend_kind::aws; }

std::string random_hex(std::size_t n) {
  static std::mt19937_64 gen{std::random_device{}()};
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += "0123456789abcdef"[gen() % 16];
  return out;
}

std::string made_up_user_id() {
  return random_hex(8) + "-" + random_hex(4) + "-4" + random_hex(3) + "-8" + random_hex(3) + "-" + random_hex(12);
}

void prepare_store(env_map& env, const fs::path& data_dir, const std::string& bucket_prefix) {
  env["DATA_DIR"] = data_dir.string();
  if (!is_aws()) return;
  auto& peers = shared_aws_peers();
  for (const auto& [k, v] : peers.gatehouse_env()) env[k] = v;
  env["USERS_TABLE"] = peers.new_table_name();
  env["PROFILE_IMAGES_BUCKET"] = bucket_prefix + random_hex(16);
  http_client raw(peers.raw_s3_port());
  const auto made = raw.send("PUT", "/" + env.at("PROFILE_IMAGES_BUCKET"));
  if (made.status != 200)
    throw std::runtime_error("s3rver: creating the bucket answered " + std::to_string(made.status) + ": " + made.body);
}

void put_object(const env_map& env, const std::string& key, const std::string& bytes) {
  if (!is_aws()) {
    const fs::path p = fs::path(env.at("DATA_DIR")) / "objects" / key;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return;
  }
  http_client raw(shared_aws_peers().raw_s3_port());
  const auto r =
      raw.send("PUT", "/" + env.at("PROFILE_IMAGES_BUCKET") + "/" + key, bytes, {{"content-type", "image/png"}});
  if (r.status != 200) throw std::runtime_error("s3rver PUT: " + r.body);
}

int run_program(const std::vector<std::string>& args, std::string& out) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string run_program_checked(const std::vector<std::string>& args) {
  std::string out;
  const int code = run_program(args, out);
  if (code != 0) throw std::runtime_error(args.front() + " failed (exit " + std::to_string(code) + "): " + out);
  return out;
}

json::array sdk(const json::array& ops) {
  auto& peers = shared_aws_peers();
  json::object config{{"dynamodb", peers.dynamodb_url()}, {"s3", peers.s3_url()},
                      {"access_key", peers.access_key()}, {"secret_key", peers.secret_key()},
                      {"region", peers.region()},         {"ops", ops}};
  std::string out, err;
  const int code = peers.run_node({"sdk-smoke.mjs", json::serialize(config)}, out, err);
  if (code != 0) throw std::runtime_error("sdk-smoke.mjs failed (" + std::to_string(code) + "): " + err);
  auto results = parse_json(out).as_array();
  for (const auto& r : results)
    if (!r.at("ok").as_bool()) throw std::runtime_error("an SDK op failed: " + json::serialize(r));
  return results;
}

json::array scan(const std::string& table) {
  return sdk({json::object{{"op", "dynamodb.scan"}, {"table", table}}})[0].at("items").as_array();
}

http_result upload(http_client& c, const std::string& token, const std::string& bytes) {
  return c.send("POST", "/upload_profile_pic", multipart_body({{"image", "me.png", "image/png", bytes}}),
                multipart_headers(token));
}

}  // namespace gatehouse::testing
