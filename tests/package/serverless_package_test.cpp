// deploy/serverless.yml, as the Serverless Framework (v3, pinned in
// tests/peers) compiles it: `serverless package` for stages dev and prod,
// offline (its own network namespace when permitted, telemetry and
// notifications off) and without AWS credentials, then assertions on the
// CloudFormation template it wrote. The IAM grants are checked against the
// calls src/dynamodb, src/s3 and src/secrets make, read from the source itself.
// The same for deploy/examples/protected-service, a second service whose
// HTTP API lets requests through only with a Gatehouse access token (API
// Gateway's JWT authorizer, pointed at the Gatehouse stack's issuer).
#include "spawn.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <tuple>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

const fs::path source_dir = GATEHOUSE_SOURCE_DIR;
const fs::path deploy_dir = source_dir / "deploy";
const fs::path example_dir = deploy_dir / "examples/protected-service";
// What the packagings below pass for a custom domain and for the example's
// authorizer (deploy/README.md, "A split-Lambda estate with one issuer").
const std::string custom_issuer = "https://auth.example.com";
const std::string example_issuer = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const std::string example_audience = "gatehouse-dev-example";
const fs::path serverless_bin = source_dir / "tests/peers/node_modules/.bin/serverless";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs argv (looked up on PATH) in `cwd` with exactly `env`; output to `log`.
// Returns the exit status, or -1 if it ran past `timeout` (then killed).
int run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const fs::path& cwd,
        const fs::path& log, std::chrono::seconds timeout) {
  pid_t pid = -1;
  try {
    pid = gatehouse::testing::spawn_logged(argv, env, log, cwd);
  } catch (const std::runtime_error&) {
    return 127;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct packaging {
  std::string command;  // for messages
  int exit_code = -2;
  std::string output;
  json::object stack;  // cloudformation-template-update-stack.json
};

class serverless_package_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::random_device rd;
    work_ = new fs::path(fs::temp_directory_path() /
                         ("gatehouse-sls-" + std::to_string(::getpid()) + "-" + std::to_string(rd())));
    fs::create_directories(*work_ / "home");

    // No network: a network namespace of its own (only a downed loopback)
    // when the kernel lets us make one. Probed with `true`.
    for (const auto& prefix : std::vector<std::vector<std::string>>{{"unshare", "-n"}, {"unshare", "-r", "-n"}}) {
      auto probe = prefix;
      probe.push_back("true");
      if (run(probe, {{"PATH", path_}}, *work_, *work_ / "probe.log", 10s) == 0) {
        offline_prefix_ = new std::vector<std::string>(prefix);
        break;
      }
    }
    // Gatehouse's stages by their names (the tests below say "dev" and
    // "prod"), then the variants.
    for (const char* stage : {"dev", "prod"}) packaged_[stage] = package(stage, deploy_dir, stage);
    packaged_["dev-custom-issuer"] =
        package("dev-custom-issuer", deploy_dir, "dev", {"--param=issuerUrl=" + custom_issuer});
    packaged_["example"] = package("example", example_dir, "dev",
                                   {"--param=issuerUrl=" + example_issuer, "--param=audience=" + example_audience});
    packaged_["example-defaults"] = package("example-defaults", example_dir, "dev");
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*work_, ec);
    delete work_;
    delete offline_prefix_;
    packaged_.clear();
  }

  // `serverless package --stage <stage> <extra>` in `dir`, as `label`.
  static packaging package(const std::string& label, const fs::path& dir, const std::string& stage,
                           const std::vector<std::string>& extra = {}) {
    packaging p;
    const fs::path out = *work_ / ("package-" + label);
    std::vector<std::string> argv = offline_prefix_ ? *offline_prefix_ : std::vector<std::string>{};
    argv.insert(argv.end(), {serverless_bin.string(), "package", "--stage", stage, "--package", out.string()});
    argv.insert(argv.end(), extra.begin(), extra.end());
    p.command = "serverless package in " + dir.string() + " --stage " + stage;
    for (const auto& a : extra) p.command += " " + a;
    // Only these variables: no AWS_* credentials or profile, and a HOME of
    // its own, so neither ~/.aws nor ~/.serverlessrc is read or written.
    const std::map<std::string, std::string> env{{"PATH", path_},
                                                 {"HOME", (*work_ / "home").string()},
                                                 {"SLS_TELEMETRY_DISABLED", "1"},
                                                 {"SLS_NOTIFICATIONS_MODE", "off"},
                                                 {"LANG", "C.UTF-8"}};
    const fs::path log = *work_ / ("serverless-" + label + ".log");
    p.exit_code = run(argv, env, dir, log, 240s);
    p.output = read_file(log);
    const fs::path tpl = out / "cloudformation-template-update-stack.json";
    if (p.exit_code == 0 && fs::exists(tpl)) p.stack = json::parse(read_file(tpl)).as_object();
    return p;
  }

  void SetUp() override {
    ASSERT_TRUE(fs::exists(serverless_bin)) << serverless_bin << " is missing: run `make peers`";
    ASSERT_TRUE(fs::exists(GATEHOUSE_LAMBDA_ZIP))
        << GATEHOUSE_LAMBDA_ZIP << " is missing: run `make package` (serverless package needs the artifact)";
    for (const auto& [label, p] : packaged_) ASSERT_EQ(p.exit_code, 0) << p.command << " failed:\n" << p.output;
  }

  static const json::object& resources(const std::string& stage) {
    return packaged_.at(stage).stack.at("Resources").as_object();
  }
  static const json::object& resource(const std::string& stage, const std::string& name) {
    const auto& all = resources(stage);
    if (!all.contains(name)) throw std::runtime_error("the " + stage + " template has no resource " + name);
    return all.at(name).as_object();
  }
  static const json::object& properties(const std::string& stage, const std::string& name) {
    return resource(stage, name).at("Properties").as_object();
  }
  static std::vector<std::string> names_of_type(const std::string& stage, const std::string& type) {
    std::vector<std::string> out;
    for (const auto& [name, r] : resources(stage))
      if (r.as_object().at("Type") == json::value(type)) out.emplace_back(name);
    return out;
  }

  static inline std::string path_ = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  static inline fs::path* work_ = nullptr;
  static inline std::vector<std::string>* offline_prefix_ = nullptr;
  static inline std::map<std::string, packaging> packaged_;
};

// A value that may be one item or an array of them, as a list.
std::vector<json::value> items(const json::value& v) {
  if (v.is_array()) return {v.as_array().begin(), v.as_array().end()};
  return {v};
}

struct grant {
  std::string action;
  std::string resource;  // the JSON of one Resource entry
  bool operator<(const grant& o) const { return std::tie(action, resource) < std::tie(o.action, o.resource); }
  bool operator==(const grant& o) const { return action == o.action && resource == o.resource; }
};

void PrintTo(const grant& g, std::ostream* os) { *os << g.action << " on " << g.resource; }

const std::string users_table_arn = R"({"Fn::GetAtt":["UsersTable","Arn"]})";
const std::string emails_table_arn = R"({"Fn::GetAtt":["UsersEmailTable","Arn"]})";
const std::string tokens_table_arn = R"({"Fn::GetAtt":["RefreshTokensTable","Arn"]})";
const std::string limits_table_arn = R"({"Fn::GetAtt":["RateLimitsTable","Arn"]})";
const std::string idempotency_table_arn = R"({"Fn::GetAtt":["IdempotencyTable","Arn"]})";
const std::string tokens_index_arn = R"({"Fn::Sub":"${RefreshTokensTable.Arn}/index/user-sessions"})";
const std::string images_arn = R"({"Fn::Sub":"${ProfileImagesBucket.Arn}/profile-images/*"})";
const std::string jwt_secret_arn = R"({"Ref":"JwtSecret"})";  // Ref of a secret is its full ARN
const std::string server_secret_arn = R"({"Ref":"ServerSecret"})";
// The SES identity of the `sesIdentity` parameter (its default, example.com).
const std::string ses_identity_arn =
    R"({"Fn::Sub":"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/example.com"})";
const std::string bucket_arn = R"({"Fn::GetAtt":["ProfileImagesBucket","Arn"]})";
// The prefix pending uploads live under (src/images/image_key.hpp).
const std::string upload_prefix = "profile-images/uploads/";

const std::set<std::string> framework_log_actions{"logs:CreateLogStream", "logs:CreateLogGroup", "logs:TagResource",
                                                  "logs:PutLogEvents"};

// Every Allow the stack's IAM roles hold, with the framework's own log
// statements (for the function's log group) kept apart.
struct role_grants {
  std::set<grant> ours;
  std::set<grant> logs;
};

role_grants collect_grants(const json::object& resources) {
  role_grants out;
  for (const auto& [name, r] : resources) {
    if (r.as_object().at("Type") != json::value("AWS::IAM::Role")) continue;
    const auto& props = r.as_object().at("Properties").as_object();
    EXPECT_FALSE(props.contains("ManagedPolicyArns")) << name << " attaches managed policies";
    for (const auto& policy : props.at("Policies").as_array()) {
      for (const auto& st_value : policy.at("PolicyDocument").at("Statement").as_array()) {
        const auto& st = st_value.as_object();
        EXPECT_EQ(st.at("Effect"), json::value("Allow")) << json::serialize(st);
        EXPECT_FALSE(st.contains("NotAction") || st.contains("NotResource")) << json::serialize(st);
        for (const auto& res : items(st.at("Resource"))) {
          EXPECT_FALSE(res.is_string() && res.as_string() == "*") << "a wildcard resource: " << json::serialize(st);
          for (const auto& action : items(st.at("Action"))) {
            const std::string a(action.as_string());
            EXPECT_EQ(a.find('*'), std::string::npos) << "a wildcard action: " << json::serialize(st);
            (a.rfind("logs:", 0) == 0 ? out.logs : out.ours).insert({a, json::serialize(res)});
          }
        }
      }
    }
  }
  return out;
}

// The operations `pattern`'s first group names in `file` (relative to src/).
std::set<std::string> calls_in(const std::string& file, const std::string& pattern) {
  const std::string text = read_file(source_dir / "src" / file);
  std::set<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

// Whether a template condition holds, where it compares literals (the
// conditions serverless.yml writes compare parameters, known when packaged).
bool condition_holds(const json::object& stack, const json::value& c) {
  const auto& o = c.as_object();
  if (const auto* eq = o.if_contains("Fn::Equals")) return eq->as_array().at(0) == eq->as_array().at(1);
  if (const auto* no = o.if_contains("Fn::Not")) return !condition_holds(stack, no->as_array().at(0));
  if (const auto* name = o.if_contains("Condition"))
    return condition_holds(stack, stack.at("Conditions").at(name->as_string()));
  throw std::runtime_error("a condition this test cannot decide: " + json::serialize(c));
}

// `v` with every Fn::If decided as CloudFormation will.
json::value decided(const json::object& stack, const json::value& v) {
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.as_array()) out.push_back(decided(stack, item));
    return out;
  }
  if (!v.is_object()) return v;
  const auto& o = v.as_object();
  if (const auto* branch = o.if_contains("Fn::If")) {
    const auto& args = branch->as_array();
    const bool holds = condition_holds(stack, stack.at("Conditions").at(args.at(0).as_string()));
    return decided(stack, args.at(holds ? 1 : 2));
  }
  json::object out;
  for (const auto& [k, item] : o) out[k] = decided(stack, item);
  return out;
}

TEST_F(serverless_package_test, both_routes_reach_the_function_with_cors) {
  for (const std::string stage : {"dev", "prod"}) {
    std::set<std::string> routes;
    for (const auto& name : names_of_type(stage, "AWS::ApiGatewayV2::Route"))
      routes.insert(std::string(properties(stage, name).at("RouteKey").as_string()));
    EXPECT_EQ(routes, (std::set<std::string>{"ANY /", "ANY /{proxy+}"})) << stage;

    const auto apis = names_of_type(stage, "AWS::ApiGatewayV2::Api");
    ASSERT_EQ(apis.size(), 1u) << stage;
    const auto& api = properties(stage, apis.front());
    EXPECT_EQ(api.at("ProtocolType"), json::value("HTTP"));
    const auto& cors = api.at("CorsConfiguration").as_object();
    const auto methods = items(cors.at("AllowMethods"));
    EXPECT_NE(std::find(methods.begin(), methods.end(), json::value("POST")), methods.end()) << json::serialize(cors);
    const auto& origins = cors.at("AllowOrigins").as_array();
    ASSERT_EQ(origins.size(), 1u);
    // Any origin while developing; only the front end's in prod.
    EXPECT_EQ(origins.front() == json::value("*"), stage == "dev") << stage << ": " << json::serialize(origins);
  }
}

TEST_F(serverless_package_test, the_function_runs_the_packaged_bootstrap_on_provided_al2023_x86_64) {
  const auto functions = names_of_type("dev", "AWS::Lambda::Function");
  ASSERT_EQ(functions.size(), 1u);
  const auto& fn = properties("dev", functions.front());
  EXPECT_EQ(fn.at("Runtime"), json::value("provided.al2023"));
  EXPECT_EQ(fn.at("Architectures"), json::value(json::array{"x86_64"}));
  const std::string key(fn.at("Code").at("S3Key").as_string());
  EXPECT_TRUE(key.ends_with("/gatehouse-lambda.zip")) << key;
}

TEST_F(serverless_package_test, the_environment_names_the_stacks_tables_bucket_and_jwt_secret) {
  const auto& fn = properties("dev", names_of_type("dev", "AWS::Lambda::Function").front());
  const auto& env = fn.at("Environment").at("Variables").as_object();
  EXPECT_EQ(env.at("USERS_TABLE"), json::parse(R"({"Ref":"UsersTable"})"));
  EXPECT_EQ(env.at("USERS_EMAIL_TABLE"), json::parse(R"({"Ref":"UsersEmailTable"})"));
  EXPECT_EQ(env.at("PROFILE_IMAGES_BUCKET"), json::parse(R"({"Ref":"ProfileImagesBucket"})"));
  EXPECT_EQ(env.at("RATE_LIMITS_TABLE"), json::parse(R"({"Ref":"RateLimitsTable"})"));
  EXPECT_EQ(env.at("IDEMPOTENCY_TABLE"), json::parse(R"({"Ref":"IdempotencyTable"})"));
  // The secret's ARN only: the function fetches the value at cold start,
  // so neither the template nor the function's configuration holds it.
  EXPECT_EQ(env.at("JWT_SECRET_ARN"), json::parse(jwt_secret_arn));
  EXPECT_FALSE(env.contains("JWT_SECRET")) << "JWT_SECRET and JWT_SECRET_ARN exclude each other";
  // On Lambda every instance must derive the same keys: the stack's secret.
  EXPECT_EQ(env.at("SERVER_SECRET_ARN"), json::parse(server_secret_arn));
  EXPECT_FALSE(env.contains("SERVER_SECRET"));
  // Account mail through SES, from the parameter's sender, with links to the app.
  EXPECT_EQ(env.at("MAIL_TRANSPORT"), json::value("ses"));
  for (const char* name : {"MAIL_FROM", "APP_URL", "EMAIL_VERIFICATION"}) EXPECT_TRUE(env.contains(name)) << name;
  for (const char* name : {"JWT_ISSUER", "BCRYPT_COST", "DATA_DIR"}) EXPECT_TRUE(env.contains(name)) << name;
}

// Issue 14: RS256 tokens whose `iss` is the API's public URL (where API
// Gateway's JWT authorizers find /.well-known/openid-configuration), with
// an audience those authorizers can require.
TEST_F(serverless_package_test, access_tokens_are_rs256_issued_by_the_http_apis_url_for_the_stages_audience) {
  for (const std::string stage : {"dev", "prod"}) {
    const auto& stack = packaged_.at(stage).stack;
    const auto& env = properties(stage, names_of_type(stage, "AWS::Lambda::Function").front())
                          .at("Environment").at("Variables").as_object();
    EXPECT_EQ(env.at("JWT_ALG"), json::value("RS256")) << stage;
    // Serverless v3 names the HTTP API HttpApi; its ApiEndpoint is https://<id>.execute-api.<region>.amazonaws.com.
    EXPECT_EQ(names_of_type(stage, "AWS::ApiGatewayV2::Api"), std::vector<std::string>{"HttpApi"}) << stage;
    EXPECT_EQ(decided(stack, env.at("JWT_ISSUER")), json::parse(R"({"Fn::GetAtt":["HttpApi","ApiEndpoint"]})"))
        << stage << ": " << json::serialize(env.at("JWT_ISSUER"));
    EXPECT_EQ(env.at("JWT_AUDIENCE"), json::value("gatehouse-" + stage)) << stage;
    EXPECT_FALSE(env.contains("JWT_PRIVATE_KEY") || env.contains("JWT_PRIVATE_KEY_FILE") ||
                 env.contains("LEGACY_JWT_SECRET"))
        << stage << ": no key in the function's configuration";
  }
  // A custom domain given as issuerUrl is the issuer instead.
  const auto& custom = packaged_.at("dev-custom-issuer").stack;
  const auto& env = properties("dev-custom-issuer", names_of_type("dev-custom-issuer", "AWS::Lambda::Function").front())
                        .at("Environment").at("Variables").as_object();
  EXPECT_EQ(decided(custom, env.at("JWT_ISSUER")), json::value(custom_issuer));
}

TEST_F(serverless_package_test, the_issuer_and_the_audience_are_exported_for_other_stacks) {
  for (const auto& [label, stage] : {std::pair{"dev", "dev"}, std::pair{"prod", "prod"},
                                     std::pair{"dev-custom-issuer", "dev"}}) {
    const auto& stack = packaged_.at(label).stack;
    const auto& env = properties(label, names_of_type(label, "AWS::Lambda::Function").front())
                          .at("Environment").at("Variables").as_object();
    const auto& outputs = stack.at("Outputs").as_object();
    ASSERT_TRUE(outputs.contains("IssuerUrl") && outputs.contains("JwtAudience")) << label;
    EXPECT_EQ(decided(stack, outputs.at("IssuerUrl").at("Value")), decided(stack, env.at("JWT_ISSUER"))) << label;
    EXPECT_EQ(outputs.at("IssuerUrl").at("Export").at("Name"), json::value(std::string("gatehouse-") + stage + "-IssuerUrl"))
        << label;
    EXPECT_EQ(outputs.at("JwtAudience").at("Value"), env.at("JWT_AUDIENCE")) << label;
    EXPECT_EQ(outputs.at("JwtAudience").at("Export").at("Name"),
              json::value(std::string("gatehouse-") + stage + "-JwtAudience"))
        << label;
  }
}

// Secrets Manager cannot generate an RSA key: the stack keeps generating the
// placeholder exactly as v1 did (CloudFormation generates a new value when
// GenerateSecretString changes, which would throw away the PEM that
// `make deploy` put there, or a v1 stack's HS256 secret), and `make deploy`
// puts the PEM into the secret this template names.
TEST_F(serverless_package_test, the_jwt_secret_keeps_v1s_generator_and_make_deploy_puts_its_key) {
  for (const std::string stage : {"dev", "prod"}) {
    const auto& props = properties(stage, "JwtSecret");
    EXPECT_EQ(props.at("GenerateSecretString"),
              json::parse(R"({"SecretStringTemplate":"{}","GenerateStringKey":"jwt_secret","PasswordLength":64,)"
                          R"("ExcludePunctuation":true})"))
        << stage;
    EXPECT_EQ(props.at("Description"),
              json::value("Gatehouse " + stage + " JWT signing key (HS256), read by the function at cold start"))
        << stage << ": leave it as v1 wrote it";
  }
  const std::string makefile = read_file(source_dir / "Makefile");
  const auto& secret_name = properties("dev", "JwtSecret").at("Name").as_string();
  const auto& function_name =
      properties("dev", names_of_type("dev", "AWS::Lambda::Function").front()).at("FunctionName").as_string();
  EXPECT_EQ(secret_name, "gatehouse/dev/jwt-secret");
  EXPECT_EQ(function_name, "gatehouse-dev-api");
  for (const std::string expected :
       {"JWT_ALG ?= RS256", "bash scripts/ensure-jwt-key.sh --secret-id gatehouse/$(STAGE)/jwt-secret --alg $(JWT_ALG)",
        "--param=\"jwtAlg=$(JWT_ALG)\"", "--restart gatehouse-$(STAGE)-api"})
    EXPECT_NE(makefile.find(expected), std::string::npos) << "the Makefile's deploy target lacks: " << expected;
}

// The example service: API Gateway's JWT authorizer, pointed at the issuer
// and audience it was given, in front of every route.
TEST_F(serverless_package_test, every_route_of_the_example_service_needs_a_gatehouse_token) {
  const auto authorizers = names_of_type("example", "AWS::ApiGatewayV2::Authorizer");
  ASSERT_EQ(authorizers.size(), 1u);
  const auto& authorizer = properties("example", authorizers.front());
  EXPECT_EQ(authorizer.at("AuthorizerType"), json::value("JWT"));
  EXPECT_EQ(authorizer.at("IdentitySource"), json::parse(R"(["$request.header.Authorization"])"));
  EXPECT_EQ(authorizer.at("JwtConfiguration").at("Issuer"), json::value(example_issuer));
  EXPECT_EQ(authorizer.at("JwtConfiguration").at("Audience"), json::value(json::array{example_audience.c_str()}));
  const auto apis = names_of_type("example", "AWS::ApiGatewayV2::Api");
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_EQ(authorizer.at("ApiId"), json::value(json::object{{"Ref", apis.front()}}));

  std::set<std::string> route_keys;
  for (const auto& name : names_of_type("example", "AWS::ApiGatewayV2::Route")) {
    const auto& route = properties("example", name);
    route_keys.insert(std::string(route.at("RouteKey").as_string()));
    EXPECT_EQ(route.at("AuthorizationType"), json::value("JWT")) << name;
    EXPECT_EQ(route.at("AuthorizerId"), json::value(json::object{{"Ref", authorizers.front()}})) << name;
  }
  EXPECT_EQ(route_keys, (std::set<std::string>{"GET /claims", "ANY /{proxy+}"}));

  // A Node.js handler that answers with the claims the authorizer verified,
  // and a role that may do nothing but write its logs.
  const auto functions = names_of_type("example", "AWS::Lambda::Function");
  ASSERT_EQ(functions.size(), 1u);
  const auto& fn = properties("example", functions.front());
  EXPECT_EQ(fn.at("Runtime"), json::value("nodejs20.x"));
  EXPECT_EQ(fn.at("Handler"), json::value("handler.claims"));
  const std::string handler = read_file(example_dir / "handler.mjs");
  EXPECT_NE(handler.find("export const claims"), std::string::npos);
  EXPECT_NE(handler.find("event.requestContext.authorizer.jwt.claims"), std::string::npos);
  EXPECT_TRUE(collect_grants(resources("example")).ours.empty());
}

// Without parameters, the example imports what the Gatehouse stack of its
// stage exports (CloudFormation resolves it at deploy time; packaging needs
// no AWS access).
TEST_F(serverless_package_test, the_example_service_defaults_to_the_gatehouse_stacks_exports) {
  const auto authorizers = names_of_type("example-defaults", "AWS::ApiGatewayV2::Authorizer");
  ASSERT_EQ(authorizers.size(), 1u);
  const auto& jwt = properties("example-defaults", authorizers.front()).at("JwtConfiguration");
  const auto& outputs = packaged_.at("dev").stack.at("Outputs");
  EXPECT_EQ(jwt.at("Issuer"),
            json::value(json::object{{"Fn::ImportValue", outputs.at("IssuerUrl").at("Export").at("Name")}}));
  EXPECT_EQ(jwt.at("Audience"), json::value(json::array{
                                    json::object{{"Fn::ImportValue", outputs.at("JwtAudience").at("Export").at("Name")}}}));
}

TEST_F(serverless_package_test, both_secrets_are_generated_by_the_stack_in_the_form_the_code_reads) {
  // app/server_keys reads the server secret, app/token_keys the JWT keys.
  const std::string reader =
      read_file(source_dir / "src/app/server_keys.cpp") + read_file(source_dir / "src/app/token_keys.cpp");
  for (const std::string stage : {"dev", "prod"}) {
    for (const auto& [name, suffix, member] : {std::tuple{"JwtSecret", "jwt-secret", "jwt_secret"},
                                               std::tuple{"ServerSecret", "server-secret", "server_secret"}}) {
      const auto& secret = resource(stage, name);
      EXPECT_EQ(secret.at("Type"), json::value("AWS::SecretsManager::Secret")) << stage;
      const auto& props = secret.at("Properties").as_object();
      EXPECT_EQ(props.at("Name"), json::value("gatehouse/" + stage + "/" + suffix)) << stage;
      // Generated by Secrets Manager: no value in the template.
      EXPECT_FALSE(props.contains("SecretString")) << stage;
      const auto& generate = props.at("GenerateSecretString").as_object();
      EXPECT_EQ(generate.at("SecretStringTemplate"), json::value("{}")) << stage;
      EXPECT_GE(generate.at("PasswordLength").to_number<int>(), 32) << "the code refuses keys under 32 bytes";
      // The JSON member app/server_keys and app/token_keys ask src/secrets for.
      const std::string key(generate.at("GenerateStringKey").as_string());
      EXPECT_EQ(key, member);
      EXPECT_NE(reader.find("\"" + key + "\""), std::string::npos) << "src/app/{server,token}_keys.cpp no longer read " << key;
    }
  }
}

TEST_F(serverless_package_test, iam_grants_exactly_the_operations_each_table_and_the_image_prefix_need) {
  const auto grants = collect_grants(resources("dev"));
  const std::set<grant> expected{
      {"dynamodb:GetItem", users_table_arn},    {"dynamodb:PutItem", users_table_arn},
      {"dynamodb:UpdateItem", users_table_arn}, {"dynamodb:DeleteItem", users_table_arn},
      {"dynamodb:Scan", users_table_arn},       {"dynamodb:GetItem", emails_table_arn},
      {"dynamodb:PutItem", emails_table_arn},   {"dynamodb:DeleteItem", emails_table_arn},
      {"dynamodb:GetItem", tokens_table_arn},   {"dynamodb:PutItem", tokens_table_arn},
      {"dynamodb:UpdateItem", tokens_table_arn},
      {"dynamodb:Query", tokens_index_arn},  // a user's sessions: the sparse index, never a Scan
      {"dynamodb:UpdateItem", limits_table_arn},  // rate limits: UpdateItem alone
      {"dynamodb:GetItem", idempotency_table_arn},  {"dynamodb:PutItem", idempotency_table_arn},
      {"dynamodb:UpdateItem", idempotency_table_arn},
      {"s3:PutObject", images_arn},             {"s3:GetObject", images_arn},
      {"s3:DeleteObject", images_arn},
      {"s3:ListBucket", bucket_arn},  // counting pending uploads; the prefix condition is checked below
      {"secretsmanager:GetSecretValue", jwt_secret_arn},  // the JWT keys at cold start: that secret only
      {"secretsmanager:GetSecretValue", server_secret_arn},  // the server secret at cold start
      {"ses:SendEmail", ses_identity_arn},  // the account e-mails, as that identity only
  };
  EXPECT_EQ(grants.ours, expected);

  // The framework's own statements: writing to the function's log group only.
  EXPECT_FALSE(grants.logs.empty());
  for (const auto& g : grants.logs) {
    EXPECT_TRUE(framework_log_actions.count(g.action)) << g.action;
    EXPECT_NE(g.resource.find(":log-group:/aws/lambda/gatehouse-dev"), std::string::npos) << g.resource;
  }
}

// If src/ starts calling another operation, this fails until
// serverless.yml grants it on the right table, and a grant the code does
// not use fails it too. Each store's calls are read from its source.
TEST_F(serverless_package_test, iam_actions_are_the_ones_the_request_path_code_calls) {
  // Which tables each DynamoDB store works on. dynamodb_schema.cpp is
  // `gatehouse migrate` (DescribeTable, CreateTable, UpdateTimeToLive, the
  // e-mail claim backfill), run with an operator's credentials.
  const std::map<std::string, std::set<std::string>> tables_of_store{
      {"dynamodb_user_store.cpp", {users_table_arn, emails_table_arn}},
      {"dynamodb_token_store.cpp", {tokens_table_arn, tokens_index_arn}},
      {"dynamodb_rate_limiter.cpp", {limits_table_arn}},
      {"dynamodb_idempotency_store.cpp", {idempotency_table_arn}},
  };
  // dynamodb_integrity.cpp: `gatehouse doctor`, dynamodb_user_admin.cpp: `gatehouse users delete`, both
  // run with an operator's credentials, never by the Lambda.
  const std::set<std::string> not_request_path{"dynamodb_schema.cpp", "dynamodb_client.cpp", "dynamodb_integrity.cpp",
                                               "dynamodb_user_admin.cpp"};
  const auto grants = collect_grants(resources("dev")).ours;

  std::set<std::string> stores_seen;
  for (const auto& entry : fs::directory_iterator(source_dir / "src/dynamodb")) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".cpp" || not_request_path.count(file)) continue;
    const auto calls = calls_in("dynamodb/" + file, R"(\bcall\(\s*\"([A-Za-z]+)\")");
    if (calls.empty()) continue;
    ASSERT_TRUE(tables_of_store.count(file)) << "src/dynamodb/" << file << " calls DynamoDB: map it to its tables here";
    stores_seen.insert(file);
    std::set<std::string> used, granted;
    for (const auto& op : calls) used.insert("dynamodb:" + op);
    for (const auto& g : grants)
      if (tables_of_store.at(file).count(g.resource)) granted.insert(g.action);
    EXPECT_EQ(granted, used) << "the grants on the tables of " << file;
  }
  for (const auto& [file, tables] : tables_of_store)
    EXPECT_TRUE(stores_seen.count(file)) << "src/dynamodb/" << file << " makes no DynamoDB calls (moved?)";

  // Objects: send("PUT"|"GET"|"HEAD"|"DELETE", ...) plus the pre-signed GET.
  auto s3_methods = calls_in("s3/s3_object_store.cpp", R"(\bsend\(\s*\"([A-Z]+)\")");
  const auto presigned = calls_in("s3/s3_object_store.cpp", R"(\.method\s*=\s*\"([A-Z]+)\")");
  s3_methods.insert(presigned.begin(), presigned.end());
  ASSERT_FALSE(s3_methods.empty()) << "found no S3 requests: has s3_object_store.cpp changed shape?";
  const std::map<std::string, std::string> s3_action_of{
      {"PUT", "s3:PutObject"}, {"GET", "s3:GetObject"}, {"HEAD", "s3:GetObject"}, {"DELETE", "s3:DeleteObject"}};
  std::set<std::string> s3_used, s3_granted;
  for (const auto& m : s3_methods) {
    ASSERT_TRUE(s3_action_of.count(m)) << "an S3 request with method " << m << ": map it to its IAM action here";
    s3_used.insert(s3_action_of.at(m));
  }
  // Direct uploads: S3 authorises a pre-signed POST form as s3:PutObject of
  // whoever signed it, and CopyObject (x-amz-copy-source) as s3:GetObject on
  // its source.
  const std::string s3_source = read_file(source_dir / "src/s3/s3_object_store.cpp");
  if (s3_source.find("presign_upload") != std::string::npos) s3_used.insert("s3:PutObject");
  if (s3_source.find("x-amz-copy-source") != std::string::npos) s3_used.insert("s3:GetObject");
  for (const auto& g : grants)
    if (g.resource == images_arn) s3_granted.insert(g.action);
  EXPECT_EQ(s3_granted, s3_used);
  // ListObjectsV2 (a GET on the bucket with list-type=2) is s3:ListBucket on the bucket itself.
  std::set<std::string> bucket_used, bucket_granted;
  if (s3_source.find("list-type=2") != std::string::npos) bucket_used.insert("s3:ListBucket");
  for (const auto& g : grants)
    if (g.resource == bucket_arn) bucket_granted.insert(g.action);
  EXPECT_EQ(bucket_granted, bucket_used);

  // Secrets Manager: the X-Amz-Target operations src/secrets sends, on the
  // stack's secret and nothing else.
  std::set<std::string> secrets_used, secrets_granted;
  for (const auto& entry : fs::directory_iterator(source_dir / "src/secrets")) {
    if (entry.path().extension() != ".cpp") continue;
    for (const auto& op : calls_in("secrets/" + entry.path().filename().string(), R"(\"secretsmanager\.([A-Za-z]+)\")"))
      secrets_used.insert("secretsmanager:" + op);
  }
  ASSERT_EQ(secrets_used, std::set<std::string>{"secretsmanager:GetSecretValue"}) << "has src/secrets changed shape?";
  for (const std::string& secret : {jwt_secret_arn, server_secret_arn}) {
    secrets_granted.clear();
    for (const auto& g : grants) {
      if (g.action.rfind("secretsmanager:", 0) == 0) {
        EXPECT_TRUE(g.resource == jwt_secret_arn || g.resource == server_secret_arn) << g.action << " " << g.resource;
      }
      if (g.resource == secret) secrets_granted.insert(g.action);
    }
    EXPECT_EQ(secrets_granted, secrets_used) << secret;
  }

  // SES: src/ses posts SendEmail (v2) and nothing else, as the stack's identity.
  std::set<std::string> ses_used, ses_granted;
  const std::string ses_source = read_file(source_dir / "src/ses/ses_transport.cpp");
  if (ses_source.find("/v2/email/outbound-emails") != std::string::npos) ses_used.insert("ses:SendEmail");
  ASSERT_FALSE(ses_used.empty()) << "found no SES call: has ses_transport.cpp changed shape?";
  for (const auto& g : grants) {
    if (g.action.rfind("ses:", 0) != 0) continue;
    EXPECT_EQ(g.resource, ses_identity_arn) << g.action;
    ses_granted.insert(g.action);
  }
  EXPECT_EQ(ses_granted, ses_used);

  std::set<std::string> all_granted;
  for (const auto& g : grants) all_granted.insert(g.action);
  for (const char* migrate_only : {"dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTimeToLive"})
    EXPECT_FALSE(all_granted.count(migrate_only)) << migrate_only;
}

// Every table and bucket variable the configuration reads is set, to a
// resource of this stack: left unset, USERS_TABLE's derived defaults
// (<table>-emails, <table>-tokens) would name tables nobody created.
TEST_F(serverless_package_test, every_storage_variable_the_configuration_reads_names_a_resource_of_the_stack) {
  const auto variables = calls_in("app/config.cpp", R"(\benv\(\s*\"([A-Z_]+_(?:TABLE|BUCKET))\")");
  ASSERT_FALSE(variables.empty()) << "found no *_TABLE / *_BUCKET variables in src/app/config.cpp";
  const auto& fn = properties("dev", names_of_type("dev", "AWS::Lambda::Function").front());
  const auto& env = fn.at("Environment").at("Variables").as_object();
  const auto grants = collect_grants(resources("dev")).ours;
  for (const auto& name : variables) {
    ASSERT_TRUE(env.contains(name)) << name << " is read by the configuration but not set in serverless.yml";
    const auto* ref = env.at(name).is_object() ? env.at(name).as_object().if_contains("Ref") : nullptr;
    ASSERT_TRUE(ref) << name << " should be a !Ref to a stack resource: " << json::serialize(env.at(name));
    const std::string resource_name(ref->as_string());
    const std::string type(resource("dev", resource_name).at("Type").as_string());
    EXPECT_TRUE(type == "AWS::DynamoDB::Table" || type == "AWS::S3::Bucket") << name << " -> " << type;
    const bool granted = std::any_of(grants.begin(), grants.end(), [&](const grant& g) {
      return g.resource.find("\"" + resource_name + "\"") != std::string::npos ||
             g.resource.find("${" + resource_name + ".Arn}") != std::string::npos;
    });
    EXPECT_TRUE(granted) << name << " -> " << resource_name << " has no IAM grant";
  }
}

TEST_F(serverless_package_test, the_bucket_blocks_public_access_encrypts_and_accepts_browser_uploads) {
  const auto& bucket = properties("dev", "ProfileImagesBucket");
  const auto& block = bucket.at("PublicAccessBlockConfiguration").as_object();
  for (const char* flag : {"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"})
    EXPECT_EQ(block.at(flag), json::value(true)) << flag;
  const auto& sse = bucket.at("BucketEncryption").at("ServerSideEncryptionConfiguration").as_array();
  ASSERT_EQ(sse.size(), 1u);
  EXPECT_EQ(sse.front().at("ServerSideEncryptionByDefault").at("SSEAlgorithm"), json::value("AES256"));
  const std::string name(bucket.at("BucketName").at("Fn::Sub").as_string());
  EXPECT_NE(name.find("${AWS::AccountId}"), std::string::npos) << name;
  const auto& rule = bucket.at("CorsConfiguration").at("CorsRules").as_array().at(0).as_object();
  const auto methods = items(rule.at("AllowedMethods"));
  EXPECT_NE(std::find(methods.begin(), methods.end(), json::value("POST")), methods.end());

  // The bucket's policy only takes away (plain HTTP), never grants.
  for (const auto& name_of_policy : names_of_type("dev", "AWS::S3::BucketPolicy")) {
    const auto& policy = properties("dev", name_of_policy);
    for (const auto& st : policy.at("PolicyDocument").at("Statement").as_array())
      EXPECT_EQ(st.at("Effect"), json::value("Deny")) << name_of_policy << ": " << json::serialize(st);
  }
}

TEST_F(serverless_package_test, both_tables_are_on_demand_with_the_keys_the_code_uses) {
  const std::map<std::string, std::string> key_of{{"UsersTable", "userId"},
                                                  {"UsersEmailTable", "email"},
                                                  {"RefreshTokensTable", "id"},
                                                  {"RateLimitsTable", "id"},
                                                  {"IdempotencyTable", "id"}};
  for (const auto& [table, key] : key_of) {
    const auto& t = properties("dev", table);
    EXPECT_EQ(t.at("BillingMode"), json::value("PAY_PER_REQUEST")) << table;
    EXPECT_EQ(t.at("KeySchema"), json::parse(R"([{"AttributeName":")" + key + R"(","KeyType":"HASH"}])")) << table;
  }
  // Expired refresh tokens are cleared by DynamoDB's TTL, on the attribute the store writes.
  const auto ttl = calls_in("dynamodb/dynamodb_token_store.hpp", R"(\bttl_attribute\s*=\s*\"(\w+)\")");
  ASSERT_EQ(ttl.size(), 1u) << "dynamodb_token_store.hpp's ttl_attribute not found";
  const auto& spec = properties("dev", "RefreshTokensTable").at("TimeToLiveSpecification");
  EXPECT_EQ(spec.at("AttributeName"), json::value(*ttl.begin()));
  EXPECT_EQ(spec.at("Enabled"), json::value(true));
  // Likewise the counters of ended rate-limit windows.
  const auto limits_ttl = calls_in("dynamodb/dynamodb_rate_limiter.hpp", R"(\bttl_attribute\s*=\s*\"(\w+)\")");
  ASSERT_EQ(limits_ttl.size(), 1u) << "dynamodb_rate_limiter.hpp's ttl_attribute not found";
  const auto& limits_spec = properties("dev", "RateLimitsTable").at("TimeToLiveSpecification");
  EXPECT_EQ(limits_spec.at("AttributeName"), json::value(*limits_ttl.begin()));
  EXPECT_EQ(limits_spec.at("Enabled"), json::value(true));
  // And the idempotency records after their 24 hours.
  const auto records_ttl =
      calls_in("dynamodb/dynamodb_idempotency_store.hpp", R"(\bttl_attribute\s*=\s*\"(\w+)\")");
  ASSERT_EQ(records_ttl.size(), 1u) << "dynamodb_idempotency_store.hpp's ttl_attribute not found";
  const auto& records_spec = properties("dev", "IdempotencyTable").at("TimeToLiveSpecification");
  EXPECT_EQ(records_spec.at("AttributeName"), json::value(*records_ttl.begin()));
  EXPECT_EQ(records_spec.at("Enabled"), json::value(true));
  // The sessions index the token store queries, with the key attributes it writes.
  const auto constant = [](const char* name) {
    const auto found = calls_in("dynamodb/dynamodb_token_store.hpp", std::string("\\b") + name + R"re(\s*=\s*"([\w-]+)")re");
    EXPECT_EQ(found.size(), 1u) << name;
    return found.empty() ? std::string() : *found.begin();
  };
  const auto& indexes = properties("dev", "RefreshTokensTable").at("GlobalSecondaryIndexes").as_array();
  ASSERT_EQ(indexes.size(), 1u);
  EXPECT_EQ(indexes[0].at("IndexName"), json::value(constant("sessions_index")));
  EXPECT_EQ(indexes[0].at("KeySchema"),
            json::parse(R"([{"AttributeName":")" + constant("sessions_hash_attribute") +
                        R"(","KeyType":"HASH"},{"AttributeName":")" + constant("sessions_range_attribute") +
                        R"(","KeyType":"RANGE"}])"));
  EXPECT_EQ(indexes[0].at("Projection").at("ProjectionType"), json::value("ALL"));
}

TEST_F(serverless_package_test, prod_limits_are_tighter_and_its_logs_kept_longer) {
  const auto env_of = [&](const std::string& stage) {
    return properties(stage, names_of_type(stage, "AWS::Lambda::Function").front())
        .at("Environment").at("Variables").as_object();
  };
  const auto dev = env_of("dev");
  const auto prod = env_of("prod");
  // Rate limiting is on in both stages: never `0` in a deployed stack.
  for (const char* name : {"RATE_LIMIT_LOGIN_PER_EMAIL_IP", "RATE_LIMIT_LOGIN_PER_EMAIL", "RATE_LIMIT_LOGIN_PER_IP",
                           "RATE_LIMIT_LOGINS_PER_IP", "RATE_LIMIT_SIGNUP_PER_IP"}) {
    EXPECT_NE(dev.at(name), json::value("0")) << name;
    EXPECT_NE(prod.at(name), json::value("0")) << name;
  }
  EXPECT_EQ(dev.at("RATE_LIMIT_SIGNUP_PER_IP"), json::value("30/1h"));
  EXPECT_EQ(prod.at("RATE_LIMIT_SIGNUP_PER_IP"), json::value("10/1h"));
  EXPECT_EQ(prod.at("RATE_LIMIT_LOGIN_PER_IP"), json::value("20/5m"));
  const auto retention = [&](const std::string& stage) {
    return properties(stage, names_of_type(stage, "AWS::Logs::LogGroup").front()).at("RetentionInDays");
  };
  EXPECT_EQ(retention("dev"), json::value(14));
  EXPECT_EQ(retention("prod"), json::value(90));
  EXPECT_NE(prod.at("CORS_ORIGINS"), json::value("*")) << "prod names its front end's origin";
}

TEST_F(serverless_package_test, prod_retains_and_protects_the_data_and_dev_does_not) {
  for (const std::string stage : {"dev", "prod"}) {
    const bool prod = stage == "prod";
    // The JWT secret too: deleting it would sign every user out.
    for (const char* name : {"UsersTable", "UsersEmailTable", "RefreshTokensTable", "ProfileImagesBucket", "JwtSecret",
                             "ServerSecret"}) {
      const auto& r = resource(stage, name);
      EXPECT_EQ(r.at("DeletionPolicy"), json::value(prod ? "Retain" : "Delete")) << stage << " " << name;
      EXPECT_EQ(r.at("UpdateReplacePolicy"), json::value(prod ? "Retain" : "Delete")) << stage << " " << name;
    }
    for (const char* table : {"UsersTable", "UsersEmailTable", "RefreshTokensTable"})
      EXPECT_EQ(properties(stage, table).at("DeletionProtectionEnabled"), json::value(prod)) << stage << " " << table;
    // Point-in-time recovery for the users and their e-mail claims; refresh
    // tokens are short-lived, and losing them only means logging in again.
    for (const char* table : {"UsersTable", "UsersEmailTable"}) {
      const auto& pitr = properties(stage, table).at("PointInTimeRecoverySpecification");
      EXPECT_EQ(pitr.at("PointInTimeRecoveryEnabled"), json::value(prod)) << stage << " " << table;
    }
    // Rate-limit counters matter for one window: they go with the stack, in prod too.
    EXPECT_EQ(resource(stage, "RateLimitsTable").at("DeletionPolicy"), json::value("Delete")) << stage;
    EXPECT_EQ(resource(stage, "IdempotencyTable").at("DeletionPolicy"), json::value("Delete")) << stage;
  }
}

// Finding 6 of issue 12: pending uploads that nobody confirmed disappear by
// themselves on S3, and the role may list their prefix only.
TEST_F(serverless_package_test, the_bucket_expires_pending_uploads_after_a_day_and_lists_only_their_prefix) {
  ASSERT_NE(read_file(source_dir / "src/images/image_key.hpp").find("upload_key_prefix = \"" + upload_prefix + "\""),
            std::string::npos)
      << "src/images/image_key.hpp no longer puts pending uploads under " << upload_prefix;
  for (const std::string stage : {"dev", "prod"}) {
    const auto& rules = properties(stage, "ProfileImagesBucket").at("LifecycleConfiguration").at("Rules").as_array();
    ASSERT_EQ(rules.size(), 1u) << stage;
    const auto& rule = rules.front().as_object();
    EXPECT_EQ(rule.at("Status"), json::value("Enabled")) << stage;
    EXPECT_EQ(rule.at("Prefix"), json::value(upload_prefix)) << "only pending uploads, never an image: " << stage;
    EXPECT_EQ(rule.at("ExpirationInDays").to_number<int>(), 1) << stage;
  }
  std::size_t listing = 0;
  for (const auto& [name, r] : resources("dev")) {
    if (r.as_object().at("Type") != json::value("AWS::IAM::Role")) continue;
    for (const auto& policy : r.at("Properties").at("Policies").as_array())
      for (const auto& st : policy.at("PolicyDocument").at("Statement").as_array()) {
        const auto actions = items(st.at("Action"));
        if (std::find(actions.begin(), actions.end(), json::value("s3:ListBucket")) == actions.end()) continue;
        ++listing;
        EXPECT_EQ(actions.size(), 1u) << json::serialize(st);
        EXPECT_EQ(st.at("Condition"),
                  json::parse(R"({"StringLike":{"s3:prefix":")" + upload_prefix + R"(*"}})"))
            << json::serialize(st);
      }
  }
  EXPECT_EQ(listing, 1u);
}

}  // namespace
