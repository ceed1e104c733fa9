#pragma once
// Test certificates made at test time with the openssl command line, in a
// private temporary directory removed afterwards: a CA, a server
// certificate it signed for localhost and 127.0.0.1, one it signed for
// another name, and a self-signed one nobody trusts.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace gatehouse::aws::testing {

struct tls_files {
  std::filesystem::path dir;
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert, server_key;  // localhost + 127.0.0.1, signed by the CA
  std::filesystem::path wrong_cert, wrong_key;    // wrong.example, signed by the CA
  std::filesystem::path self_cert, self_key;      // localhost + 127.0.0.1, self-signed

  tls_files() = default;
  tls_files(const tls_files&) = delete;
  tls_files& operator=(const tls_files&) = delete;
  ~tls_files() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

namespace detail {

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline void run_openssl(const std::filesystem::path& dir, const std::string& args) {
  const std::string command = "cd '" + dir.string() + "' && openssl " + args + " >>openssl.log 2>&1";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("openssl failed: " + args + " (see " + (dir / "openssl.log").string() + ")");
}

}  // namespace detail

inline std::unique_ptr<tls_files> make_tls_files() {
  namespace fs = std::filesystem;
  auto files = std::make_unique<tls_files>();
  std::random_device rd;
  files->dir = fs::temp_directory_path() / ("gatehouse-tls-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(files->dir);
  fs::permissions(files->dir, fs::perms::owner_all, fs::perm_options::replace);
  const auto& d = files->dir;

  // One config for every step, so the machine's openssl.cnf plays no part.
  detail::write_text(d / "test.cnf",
                     "[req]\n"
                     "distinguished_name = dn\n"
                     "prompt = no\n"
                     "[dn]\n"
                     "CN = Gatehouse Test\n"
                     "[ca_ext]\n"
                     "basicConstraints = critical, CA:TRUE\n"
                     "keyUsage = critical, keyCertSign, cRLSign\n"
                     "subjectKeyIdentifier = hash\n"
                     "[localhost_ext]\n"
                     "basicConstraints = CA:FALSE\n"
                     "keyUsage = critical, digitalSignature\n"
                     "extendedKeyUsage = serverAuth\n"
                     "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                     "[wrong_ext]\n"
                     "basicConstraints = CA:FALSE\n"
                     "keyUsage = critical, digitalSignature\n"
                     "extendedKeyUsage = serverAuth\n"
                     "subjectAltName = DNS:wrong.example\n");
  const std::string ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  detail::run_openssl(
      d, "req -config test.cnf -x509 " + ec_key +
             " -keyout ca.key -out ca.pem -days 2 -subj /CN=Gatehouse-Test-CA -extensions ca_ext");
  detail::run_openssl(
      d, "req -config test.cnf -new " + ec_key + " -keyout server.key -out server.csr -subj /CN=localhost");
  detail::run_openssl(d,
                      "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2"
                      " -extfile test.cnf -extensions localhost_ext -out server.pem");
  detail::run_openssl(
      d, "req -config test.cnf -new " + ec_key + " -keyout wrong.key -out wrong.csr -subj /CN=wrong.example");
  detail::run_openssl(d,
                      "x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2"
                      " -extfile test.cnf -extensions wrong_ext -out wrong.pem");
  detail::run_openssl(
      d, "req -config test.cnf -x509 " + ec_key +
             " -keyout self.key -out self.pem -days 2 -subj /CN=localhost -extensions localhost_ext");

  files->ca_cert = d / "ca.pem";
  files->server_cert = d / "server.pem";
  files->server_key = d / "server.key";
  files->wrong_cert = d / "wrong.pem";
  files->wrong_key = d / "wrong.key";
  files->self_cert = d / "self.pem";
  files->self_key = d / "self.key";
  return files;
}

}  // namespace gatehouse::aws::testing
