#pragma once
// Starts the real `gatehouse serve` binary on a free loopback port with a
// fresh DATA_DIR, and stops it. Its stdout and stderr go to a log file
// the tests can read.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::testing {

// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

unsigned short free_loopback_port();

// The secrets every suite server uses, so tests can sign tokens and URLs
// themselves (fixtures: derived_key). test_jwt_private_key is the RS256
// signing key (JWT_PRIVATE_KEY; a throwaway made with `openssl genpkey` for
// these tests only): a fixed key spares every start generating one.
// test_jwt_secret is what suites give as JWT_SECRET where they need one.
inline const std::string test_jwt_secret = "test-secret-0123456789abcdef0123456789abcdef";
inline const std::string test_jwt_private_key = R"PEM(-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCX23PcrM5l2uKv
UkWdn/dsWBc/Sc5wQbuqmzCyKeN3idrsJZ9BjXJKyTwprzewULWo+FF9CuDsmSmQ
egX/ZVX/98EE5W2kHsX5D6zyLe4iioHbBJDPkz8j2VhNG65cFkCnhlg0yMknMYwE
Igy5JhXjJGjutQDaXW65/fI6JeEnT0hkz+O1gWncuuzTJ3849K3JVIVGhouPer/V
6j49Dx+AR/hhxZcWZatcBUewBu1r20wQrlYJKXwP8PyHI2l8iMvW8aTT0vZYfqUk
ZPeZntTlKYc8e8KJvvhCReBWhYOEcucu0xWONl/eHz5JlULDXRgh8HI8/EU1wkaa
NasOmsjTAgMBAAECggEAAIKAFRGPb9AYSrZf/XN4BSkWiuPYiY/u7VewBikV1mTk
Ez7dFf8/jvi19v3blf/vXC3ZOC49Kw4okY+XTZAthbpzL20FvTNNPtTKo9V7oyoL
3YxaYBgCckBch4W8RBrfBLDywtqZskP8UFc867IxCJ4qrAJ3ikQeBwnPMlrGMreU
F7MqpiaBxtF2KEVTDmySklZOvr/5r4t/T7qQYWqjxwZaw6n2oRThUojAmNTkmaRr
4CaLZOP67ypoI6whKBEm7qrGG7SSP+3LjHhQ9UOsAbM5aE8lL20sDrygLmumjylZ
HK9Nzn3yH/b7kmE1uCFZynMFhlZmZHAu1prEuQYq4QKBgQDIo0dC2gK1SchbpCmh
EItCweZG2RBYAs5e5Kg3yf2V2FHFdcyNbBhGR9eAfsw69r3Trc7WrLmuXV/MxHCY
QNJhmMhf3MVXnmQ0AFWtlp9MVmBSqmDEWJ6d+0d1jRRUK93SXMFxxWQ/tRC8tmov
IsSJ4jGWfI9nk6Hn1K7P3GiRrwKBgQDBwmVQMpYQH3hp7m5cH4jXWjB5tMTSXMBT
4RypYZchUbL0EFzE9ViPprXFWWLsBDehnJDmayDhT0LeNr/RASvxb2A4xWPICS2r
A6KSpSyZlFXhVPQEgipDHE7NpGa8XVhBACFb4GGy4fMePnoWuPNpPszaK5FAuw6Y
CXms5Fw4HQKBgCIyQhkQ01lWxAFqj3XWPgYYykjVAkYd5FKkIk+v67q4bed71mtc
Ox7va7mI4wJBv8TuYMySD+u6GnPqH06z7aeYxL4iALiYVHfQfsnhXDFEn5I3W9rb
R92hUGKmswpNl7cc/BOKEzYQhFPFu39hK6JcnRsLC94ZeYTr6Qegh2odAoGAR/zO
oW45/MGEfm78h7Obps82ZXF5EuMs/b0MZg4BFXsCLtWJcg/pmG2K6UidjSy/8oZ1
+3Xf4HYPVPooaCG0Tt5fdJg5y09FrV0LYMqHeIP5KF/kzWwDAa4ZxSOInAFeUcAX
pMgH5Gs4ZYs21wxeO0L+3ywCqncVI/2ZPFgXvy0CgYAYLIZtnEiGd+cxBTrJO4Em
YYiROvpIJ8mzZt/iVGijvRvWEvpkBnpKmq+VAmOHVAGQYfM9K5cihfRu+efd9mmR
PXNVEfO8JLydF8MJDmf6ioYJA8OrGOTiFL8I2hSX3ClC4bELOY1DdaOz9ZM9622T
FV8F1l10XOcQjk9SOZyY0g==
-----END PRIVATE KEY-----
)PEM";
// The issuer a Lambda needs (https; the local server defaults to PUBLIC_URL).
inline const std::string test_lambda_issuer = "https://gatehouse.test";
inline const std::string test_server_secret = "test-server-secret-0123456789abcdef0123456789";

// As a value in a gatehouse_process env map: remove that default variable.
inline const std::string unset_variable = "\x01unset";

class gatehouse_process {
 public:
  // `env` adds to (or overrides) the defaults: PORT, DATA_DIR, JWT_PRIVATE_KEY, SERVER_SECRET,
  // BCRYPT_COST=4, LOG_LEVEL=info, every RATE_LIMIT_* at 0 (off: suites
  // sign up many users from one address) and BCRYPT_QUEUE_DEPTH=256 (they
  // race hundreds of them); unset_variable restores a default. A PORT given
  // here is used (and waited on): a restarted server keeps its address.
  explicit gatehouse_process(std::map<std::string, std::string> env = {});
  ~gatehouse_process();

  unsigned short port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_.path(); }
  std::string log_text() const;

  // Sends `signal` and waits for the exit; returns the exit status
  // (or 128 + signal when killed by one).
  int stop(int signal_number);
  int pid() const { return pid_; }

 private:
  temp_dir data_;
  unsigned short port_ = 0;
  int pid_ = -1;
  std::filesystem::path log_path_;
};

// Runs the binary with `env` and `args` to completion; returns the exit
// code, with stderr in `stderr_text`.
int run_gatehouse(const std::map<std::string, std::string>& env, const std::vector<std::string>& args,
                  std::string& stderr_text);

}  // namespace gatehouse::testing
