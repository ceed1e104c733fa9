#include "aws/credential_providers.hpp"
#include "base/text.hpp"
#include "base/utc_time.hpp"

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/log.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <exception>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

namespace gatehouse::aws {
namespace {

namespace fs = std::filesystem;

// INI lines: blanks and stray carriage returns around keys and values.
constexpr std::string_view ini_blanks = " \t\r\v\f";
bool is_space(char c) { return ini_blanks.find(c) != std::string_view::npos; }
std::string_view trim(std::string_view s) { return text::trim(s, ini_blanks); }

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Printable ASCII without space: what can go into a header value and a
// SigV4 scope without quoting or splitting it.
bool is_visible(std::string_view s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

// An empty variable counts as unset, as in the SDKs.
std::optional<std::string> non_empty(const env_lookup& env, std::string_view name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

// nullptr when the credentials are well-formed, else what is wrong
// (never the value).
const char* malformed(const credentials& c) {
  if (c.access_key_id.empty() || c.access_key_id.size() > 128) return "the access key id is empty or too long";
  for (char ch : c.access_key_id)
    if (!is_alnum(ch) && ch != '_' && ch != '-' && ch != '.')
      return "the access key id holds characters an access key id cannot have";
  if (c.secret_access_key.empty() || c.secret_access_key.size() > 1024)
    return "the secret access key is empty or too long";
  if (!is_visible(c.secret_access_key))
    return "the secret access key holds spaces or control characters";
  if (c.session_token.size() > 16 * 1024) return "the session token is too long";
  if (!is_visible(c.session_token)) return "the session token holds spaces or control characters";
  return nullptr;
}

void check_or_throw(const credentials& c, std::string_view source) {
  if (const char* problem = malformed(c))
    throw storage_unavailable("AWS credentials from " + std::string(source) + ": " + problem);
}

enum class file_read { ok, missing, too_large, unreadable };

// Reads a regular file of at most `max` bytes. Never follows into
// devices or FIFOs, never allocates more than max plus one chunk.
file_read read_bounded(const fs::path& path, std::size_t max, std::string& out) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return file_read::missing;
  if (ec || !fs::is_regular_file(st)) return file_read::unreadable;
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_read::unreadable;
  std::string buf;
  char chunk[16 * 1024];
  while (in) {
    in.read(chunk, sizeof chunk);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (buf.size() + n > max) return file_read::too_large;
    buf.append(chunk, n);
  }
  if (in.bad()) return file_read::unreadable;
  out = std::move(buf);
  return file_read::ok;
}

// The file's sections, empty when it does not exist; `fail` builds the
// exception for a file that exists but cannot be used.
template <class Fail>
ini_file read_ini(const std::optional<fs::path>& path, std::string_view what, Fail fail) {
  if (!path) return {};
  std::string text;
  switch (read_bounded(*path, max_shared_file_bytes, text)) {
    case file_read::ok: return parse_ini(text);
    case file_read::missing: return {};
    case file_read::too_large:
      throw fail(std::string(what) + " " + path->string() + " is larger than 1 MiB; refusing it");
    case file_read::unreadable:
      throw fail(std::string(what) + " " + path->string() + " exists but cannot be read as a file");
  }
  return {};
}

void merge_into(std::map<std::string, std::string>& out, const ini_file& file, const std::string& section) {
  const auto it = file.find(section);
  if (it == file.end()) return;
  for (const auto& [k, v] : it->second) out[k] = v;
}

// The config file names profiles "[profile NAME]", the default profile
// also "[default]" (the "[profile default]" spelling wins when both exist).
void merge_config_profile(std::map<std::string, std::string>& out, const ini_file& config,
                          const std::string& profile) {
  if (profile == "default") merge_into(out, config, "default");
  for (const auto& [name, keys] : config) {
    std::string_view n = name;
    if (n.size() > 7 && n.substr(0, 7) == "profile" && is_space(n[7]) && trim(n.substr(8)) == profile)
      for (const auto& [k, v] : keys) out[k] = v;
  }
}

std::optional<fs::path> file_from(const env_lookup& env, std::string_view variable,
                                  std::string_view default_rel) {
  const auto home = non_empty(env, "HOME");
  if (auto v = non_empty(env, variable)) {
    if (v->size() >= 2 && (*v)[0] == '~' && (*v)[1] == '/') {
      if (!home) return std::nullopt;
      return fs::path(*home) / v->substr(2);
    }
    return fs::path(*v);
  }
  if (!home) return std::nullopt;
  return fs::path(*home) / default_rel;
}

bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char c : r)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

bool valid_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

// Plain http is allowed only where the SDKs allow it: the credentials
// would otherwise cross a network in clear text.
bool plain_http_allowed(const std::string& host) {
  if (text::ascii_iequals(host, "localhost")) return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  if (addr.is_loopback()) return true;
  static const auto ecs = boost::asio::ip::make_address_v4("169.254.170.2");
  static const auto eks4 = boost::asio::ip::make_address_v4("169.254.170.23");
  static const auto eks6 = boost::asio::ip::make_address_v6("fd00:ec2::23");
  if (addr.is_v4()) return addr.to_v4() == ecs || addr.to_v4() == eks4;
  return addr.to_v6() == eks6;
}

// Every variable the chain may read: copied at construction so that the
// lookup need not outlive the provider and nothing is read later.
constexpr std::string_view chain_variables[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_PROFILE",
    "HOME",
};

class default_chain final : public credentials_provider {
 public:
  default_chain(const env_lookup& env, http_client& http, std::function<std::int64_t()> now)
      : http_(http), now_(std::move(now)) {
    auto values = std::make_shared<std::map<std::string, std::string, std::less<>>>();
    for (std::string_view name : chain_variables)
      if (auto v = env(name)) values->emplace(std::string(name), std::move(*v));
    env_ = [values](std::string_view name) -> std::optional<std::string> {
      const auto it = values->find(name);
      if (it == values->end()) return std::nullopt;
      return it->second;
    };
  }

  credentials get() override {
    {
      std::lock_guard lock(mutex_);
      if (!decided_) {
        decide();
        decided_ = true;
      }
    }
    if (!provider_) throw storage_unavailable(failure_);
    return provider_->get();
  }

 private:
  void decide() {
    try {
      if (auto c = credentials_from_environment(env_)) {
        provider_ = std::make_unique<static_credentials>(std::move(*c));
        log::info("aws credentials from the environment");
        return;
      }
      if (auto source = container_source_from(env_)) {
        provider_ = std::make_unique<container_credentials>(std::move(*source), http_, now_);
        log::info("aws credentials from the container credentials endpoint");
        return;
      }
      const auto files = shared_files_from(env_);
      if (auto c = credentials_from_profile(files)) {
        provider_ = std::make_unique<static_credentials>(std::move(*c));
        log::info("aws credentials from the shared files", {{"profile", files.profile}});
        return;
      }
      failure_ =
          "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
          "AWS_SESSION_TOKEN for temporary keys), or AWS_CONTAINER_CREDENTIALS_FULL_URI / "
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or aws_access_key_id and aws_secret_access_key "
          "in profile '" + files.profile +
          "' (AWS_PROFILE) of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default "
          "~/.aws/credentials) or config file (AWS_CONFIG_FILE, default ~/.aws/config)";
    } catch (const error& e) {
      failure_ = e.what();
    }
    log::error("no usable aws credentials", {{"reason", failure_}});
  }

  env_lookup env_;
  http_client& http_;
  std::function<std::int64_t()> now_;
  std::mutex mutex_;
  bool decided_ = false;
  std::unique_ptr<credentials_provider> provider_;
  std::string failure_;
};

}  // namespace

// ---- the chain and the region ------------------------------------------

std::unique_ptr<credentials_provider> make_default_credentials(const env_lookup& env, http_client& http,
                                                               std::function<std::int64_t()> now_seconds) {
  return std::make_unique<default_chain>(env, http, std::move(now_seconds));
}

std::optional<std::string> region_from(const env_lookup& env) {
  for (std::string_view name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto v = non_empty(env, name)) {
      if (!valid_region(*v))
        throw std::invalid_argument(std::string(name) + ": expected a region name such as us-east-1");
      return v;
    }
  }
  const auto files = shared_files_from(env);
  const auto config = read_ini(files.config_file, "AWS config file",
                               [](std::string m) { return std::invalid_argument(std::move(m)); });
  std::map<std::string, std::string> profile;
  merge_config_profile(profile, config, files.profile);
  const auto it = profile.find("region");
  if (it == profile.end() || it->second.empty()) return std::nullopt;
  if (!valid_region(it->second))
    throw std::invalid_argument("region of profile '" + files.profile +
                                "' in the AWS config file: expected a region name such as us-east-1");
  return it->second;
}

// ---- static and environment ---------------------------------------------

static_credentials::static_credentials(credentials creds) : creds_(std::move(creds)) {}

credentials static_credentials::get() { return creds_; }

std::optional<credentials> credentials_from_environment(const env_lookup& env) {
  auto id = non_empty(env, "AWS_ACCESS_KEY_ID");
  auto secret = non_empty(env, "AWS_SECRET_ACCESS_KEY");
  if (!id || !secret) return std::nullopt;
  credentials c;
  c.access_key_id = std::move(*id);
  c.secret_access_key = std::move(*secret);
  c.session_token = non_empty(env, "AWS_SESSION_TOKEN").value_or("");
  check_or_throw(c, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN");
  return c;
}

// ---- shared files -------------------------------------------------------

shared_files shared_files_from(const env_lookup& env) {
  shared_files f;
  f.credentials_file = file_from(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  f.config_file = file_from(env, "AWS_CONFIG_FILE", ".aws/config");
  f.profile = non_empty(env, "AWS_PROFILE").value_or("default");
  return f;
}

ini_file parse_ini(std::string_view text) {
  ini_file out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  std::map<std::string, std::string>* section = nullptr;
  bool nested = false;  // the last key had an empty value: indented lines belong to it
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;

    for (std::size_t i = 0; i < line.size(); ++i) {
      if ((line[i] == '#' || line[i] == ';') && (i == 0 || is_space(line[i - 1]))) {
        line = line.substr(0, i);
        break;
      }
    }
    const bool indented = !line.empty() && (line.front() == ' ' || line.front() == '\t');
    const auto t = trim(line);
    if (t.empty()) continue;
    if (indented && nested && section) continue;
    nested = false;

    if (t.front() == '[') {
      section = nullptr;
      if (t.size() < 2 || t.back() != ']') continue;
      const auto name = trim(t.substr(1, t.size() - 2));
      if (!name.empty()) section = &out[std::string(name)];
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string_view::npos || !section) continue;
    const auto key = text::ascii_lower(trim(t.substr(0, eq)));
    if (key.empty()) continue;
    const auto value = trim(t.substr(eq + 1));
    (*section)[key] = std::string(value);
    nested = value.empty();
  }
  return out;
}

std::map<std::string, std::string> load_profile(const shared_files& files) {
  const auto fail = [](std::string m) { return storage_unavailable(std::move(m)); };
  const auto config = read_ini(files.config_file, "AWS config file", fail);
  const auto creds = read_ini(files.credentials_file, "AWS shared credentials file", fail);
  std::map<std::string, std::string> out;
  merge_config_profile(out, config, files.profile);
  merge_into(out, creds, files.profile);
  return out;
}

std::optional<credentials> credentials_from_profile(const shared_files& files) {
  const auto profile = load_profile(files);
  const auto value = [&](const char* key) -> std::string {
    const auto it = profile.find(key);
    return it == profile.end() ? std::string() : it->second;
  };
  credentials c;
  c.access_key_id = value("aws_access_key_id");
  c.secret_access_key = value("aws_secret_access_key");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  c.session_token = value("aws_session_token");
  check_or_throw(c, "profile '" + files.profile + "' of the shared files");
  return c;
}

shared_file_credentials::shared_file_credentials(shared_files files) : files_(std::move(files)) {}

credentials shared_file_credentials::get() {
  std::lock_guard lock(mutex_);
  if (!loaded_) {
    loaded_ = credentials_from_profile(files_);
    if (!loaded_)
      throw storage_unavailable("profile '" + files_.profile +
                                "' has no aws_access_key_id and aws_secret_access_key in the AWS "
                                "shared credentials or config file");
  }
  return *loaded_;
}

// ---- the container endpoint ---------------------------------------------

std::optional<container_uri> parse_container_uri(std::string_view uri) {
  if (uri.size() > 2048 || !is_visible(uri)) return std::nullopt;
  container_uri out;
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const auto scheme = text::ascii_lower(uri.substr(0, scheme_end));
  if (scheme == "https") {
    out.ep.tls = true;
    out.ep.port = 443;
  } else if (scheme == "http") {
    out.ep.tls = false;
    out.ep.port = 80;
  } else {
    return std::nullopt;
  }
  uri.remove_prefix(scheme_end + 3);
  if (uri.find('#') != std::string_view::npos) return std::nullopt;
  const auto authority_end = uri.find_first_of("/?");
  const auto authority = uri.substr(0, authority_end);
  const auto rest = authority_end == std::string_view::npos ? std::string_view{} : uri.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
      has_port = true;
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return std::nullopt;
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (!valid_host_name(host)) return std::nullopt;
  }
  if (has_port) {
    int port = 0;
    if (port_text.size() > 5 || !text::parse_digits(port_text, port) || port < 1 || port > 65535) return std::nullopt;
    out.ep.port = static_cast<unsigned short>(port);
  }
  out.ep.host = std::string(host);
  out.ep.is_custom = true;

  const auto q = rest.find('?');
  const auto path = rest.substr(0, q);
  out.path = path.empty() ? "/" : std::string(path);
  if (q != std::string_view::npos) out.query = std::string(rest.substr(q + 1));

  if (!out.ep.tls && !plain_http_allowed(out.ep.host)) return std::nullopt;
  return out;
}

std::optional<container_source> container_source_from(const env_lookup& env) {
  container_source s;
  if (auto relative = non_empty(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    auto uri = relative->front() == '/'
                   ? parse_container_uri("http://" + std::string(ecs_container_host) + *relative)
                   : std::nullopt;
    if (!uri)
      throw storage_unavailable(
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path beginning with '/' in printable ASCII");
    s.uri = std::move(*uri);
  } else if (auto full = non_empty(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    auto uri = parse_container_uri(*full);
    if (!uri)
      throw storage_unavailable(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI is not accepted: it must be an https URL, or an http URL "
          "to a loopback address, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23], without userinfo "
          "or fragment");
    s.uri = std::move(*uri);
  } else {
    return std::nullopt;
  }
  s.authorization_token = non_empty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (auto file = non_empty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
    s.authorization_token_file = fs::path(*file);
  return s;
}

container_credentials::container_credentials(container_source source, http_client& http,
                                             std::function<std::int64_t()> now_seconds)
    : source_(std::move(source)), http_(http), now_(std::move(now_seconds)) {
  if (!now_) now_ = system_now_seconds;
}

std::optional<std::string> container_credentials::authorization() const {
  std::string token;
  std::string_view from;
  if (source_.authorization_token_file) {
    from = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
    switch (read_bounded(*source_.authorization_token_file, max_token_file_bytes, token)) {
      case file_read::ok: break;
      case file_read::too_large:
        throw storage_unavailable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is larger than 16 KiB");
      case file_read::missing:
      case file_read::unreadable:
        throw storage_unavailable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                                  source_.authorization_token_file->string() + " cannot be read");
    }
  } else if (source_.authorization_token) {
    from = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    token = *source_.authorization_token;
  } else {
    return std::nullopt;
  }
  // A CR or LF would end the header and start another: refuse the token
  // rather than send a request that carries something else.
  for (char c : token)
    if (c == '\r' || c == '\n' || c == '\0' || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      throw storage_unavailable(std::string(from) + " holds CR, LF or another control character");
  if (token.empty()) return std::nullopt;
  return token;
}

credentials container_credentials::fetch() {
  http_request req;
  req.method = "GET";
  req.path = source_.uri.path;
  req.query = source_.uri.query;
  req.set_header("Accept", "application/json");
  if (auto token = authorization()) req.set_header("Authorization", std::move(*token));

  http_response resp;
  try {
    resp = http_.send(source_.uri.ep, req);
  } catch (const transport_error& e) {
    throw storage_unavailable(std::string("container credentials endpoint unreachable: ") + e.what());
  }
  if (resp.status != 200)
    throw storage_unavailable("container credentials endpoint answered HTTP " + std::to_string(resp.status));
  if (resp.body.size() > max_response_bytes)
    throw storage_unavailable("container credentials endpoint answered more than 64 KiB");

  boost::system::error_code ec;
  const auto doc = boost::json::parse(resp.body, ec);
  if (ec || !doc.is_object())
    throw storage_unavailable("container credentials endpoint answered no JSON object");
  const auto& obj = doc.get_object();
  const auto text = [&](std::string_view key) -> std::optional<std::string> {
    const auto* v = obj.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
  };
  auto id = text("AccessKeyId");
  auto secret = text("SecretAccessKey");
  auto token = text("Token");
  const auto expiration = text("Expiration");
  if (!id || !secret || !expiration)
    throw storage_unavailable(
        "container credentials endpoint answered without AccessKeyId, SecretAccessKey or Expiration");
  const auto expires = parse_rfc3339(*expiration);
  if (!expires) throw storage_unavailable("container credentials endpoint answered a malformed Expiration");
  // Already expired credentials would only make every caller fetch again.
  if (*expires <= now_())
    throw storage_unavailable("container credentials endpoint answered expired credentials");
  credentials c;
  c.access_key_id = std::move(*id);
  c.secret_access_key = std::move(*secret);
  c.session_token = token.value_or("");
  c.expires_at = *expires;
  check_or_throw(c, "the container credentials endpoint");
  return c;
}

credentials container_credentials::get() {
  const auto fresh = [this](std::int64_t now) {
    return cached_ && (!cached_->expires_at || now < *cached_->expires_at - refresh_before_expiry);
  };
  const auto valid = [this](std::int64_t now) {
    return cached_ && (!cached_->expires_at || now < *cached_->expires_at);
  };

  std::unique_lock lock(mutex_);
  for (;;) {
    const auto now = now_();
    if (fresh(now)) return *cached_;
    if (refreshing_) {
      // Someone else is fetching: use what is still valid, else wait for them.
      if (valid(now)) return *cached_;
      const auto seen = attempts_;
      refreshed_.wait(lock, [this] { return !refreshing_; });
      if (attempts_ != seen && last_failed_ && !valid(now_())) throw storage_unavailable(last_failure_);
      continue;
    }
    if (valid(now) && now < next_attempt_at_) return *cached_;

    refreshing_ = true;
    lock.unlock();
    std::optional<credentials> fetched;
    std::string failure;
    try {
      fetched = fetch();
    } catch (const error& e) {
      failure = e.what();
    } catch (const std::exception& e) {
      failure = std::string("container credentials: unexpected failure: ") + e.what();
    } catch (...) {
      failure = "container credentials: unexpected failure";
    }
    lock.lock();
    refreshing_ = false;
    ++attempts_;
    const auto after = now_();
    next_attempt_at_ = after + min_refresh_interval;
    refreshed_.notify_all();
    if (fetched) {
      last_failed_ = false;
      cached_ = std::move(fetched);
      return *cached_;
    }
    last_failed_ = true;
    last_failure_ = failure;
    if (valid(after)) {
      log::warn("aws credentials refresh failed; using the cached credentials until they expire",
                {{"reason", failure}, {"expires_in_s", *cached_->expires_at - after}});
      return *cached_;
    }
    throw storage_unavailable(failure);
  }
}

}  // namespace gatehouse::aws
