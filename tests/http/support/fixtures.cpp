#include "fixtures.hpp"

#include "gatehouse_process.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <latch>
#include <thread>

#include <stdexcept>

namespace gatehouse::testing {

boost::json::value parse_json(const std::string& text) { return boost::json::parse(text); }

std::string error_code_of(const http_result& r) {
  try {
    const auto v = boost::json::parse(r.body);
    return std::string(v.at("error").at("code").as_string());
  } catch (const std::exception&) {
    return {};
  }
}

std::string error_field_of(const http_result& r) {
  try {
    const auto v = boost::json::parse(r.body);
    const auto* f = v.at("error").as_object().if_contains("field");
    return f ? std::string(f->as_string()) : std::string();
  } catch (const std::exception&) {
    return {};
  }
}

namespace {
std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}
}  // namespace

std::string sample_png() {
  return from_hex(
      "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
      "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5e0a5d6"
      "0000000049454e44ae426082");
}

std::string sample_gif() {
  return from_hex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b");
}

std::string sample_jpeg() {
  return from_hex(
      "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
      "141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b08000100010101"
      "1100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffda0008010100003f00d2cf20ffd9");
}

std::string sample_webp() {
  return from_hex("524946461a000000574542505650384c0d0000002f0000000007d0ff0147ff0000");
}

std::string multipart_body(const std::vector<form_part>& parts, const std::string& boundary) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + boundary + "\r\n";
    body += "Content-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"";
    body += "\r\n";
    if (!p.content_type.empty()) body += "Content-Type: " + p.content_type + "\r\n";
    body += "\r\n" + p.body + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return body;
}

header_list multipart_headers(const std::string& token, const std::string& boundary) {
  return {{"authorization", "Bearer " + token}, {"content-type", "multipart/form-data; boundary=" + boundary}};
}

signed_in_user sign_up_and_log_in(http_client& c, const std::string& email, const std::string& password) {
  const auto s = c.post_json("/signup", R"({"name":"Test User","email":")" + email + R"(","password":")" + password + "\"}");
  if (s.status != 201) throw std::runtime_error("signup failed: " + std::to_string(s.status) + " " + s.body);
  const auto l = c.post_json("/login", R"({"email":")" + email + R"(","password":")" + password + "\"}");
  if (l.status != 200) throw std::runtime_error("login failed: " + l.body);
  const auto v = boost::json::parse(l.body);
  return {std::string(v.at("user").at("userId").as_string()), email, std::string(v.at("token").as_string())};
}

std::string path_of_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

}  // namespace gatehouse::testing

namespace gatehouse::testing {

http_result post_upload_form(const std::string& url, const std::vector<std::pair<std::string, std::string>>& fields,
                             const std::string& bytes, const std::string& content_type) {
  std::vector<form_part> parts;
  for (const auto& [name, value] : fields) parts.push_back({name, "", "", value});
  if (!content_type.empty()) parts.push_back({"Content-Type", "", "", content_type});
  parts.push_back({"file", "picture.bin", "application/octet-stream", bytes});
  const std::string prefix = "http://127.0.0.1:";
  if (url.rfind(prefix, 0) != 0) throw std::runtime_error("not a loopback URL: " + url);
  const auto slash = url.find('/', prefix.size());
  http_client c(static_cast<unsigned short>(std::stoi(url.substr(prefix.size(), slash - prefix.size()))));
  return c.send("POST", path_of_url(url), multipart_body(parts),
                {{"content-type", "multipart/form-data; boundary=" + test_boundary}});
}

http_result fetch_url(const std::string& url) {
  const std::string prefix = "http://127.0.0.1:";
  if (url.rfind(prefix, 0) != 0) throw std::runtime_error("not a loopback URL: " + url);
  const auto slash = url.find('/', prefix.size());
  const auto port = static_cast<unsigned short>(std::stoi(url.substr(prefix.size(), slash - prefix.size())));
  http_client c(port);
  return c.get(path_of_url(url));
}

std::vector<http_result> all_at_once(int count, unsigned short port,
                                     const std::function<http_result(http_client&, int)>& f) {
  std::vector<http_result> results(static_cast<std::size_t>(count));
  std::latch ready(count);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      http_client c(port);
      ready.arrive_and_wait();
      try {
        results[static_cast<std::size_t>(i)] = f(c, i);
      } catch (const std::exception& e) {
        results[static_cast<std::size_t>(i)].body = std::string("client error: ") + e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return results;
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string derived_key(const std::string& purpose) {
  const std::string salt = "gatehouse server secret";
  unsigned char out[32];
  std::size_t len = sizeof out;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  const auto u = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  const bool ok = ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
                  EVP_PKEY_CTX_set1_hkdf_salt(ctx, u(salt), static_cast<int>(salt.size())) > 0 &&
                  EVP_PKEY_CTX_set1_hkdf_key(ctx, u(test_server_secret), static_cast<int>(test_server_secret.size())) > 0 &&
                  EVP_PKEY_CTX_add1_hkdf_info(ctx, u(purpose), static_cast<int>(purpose.size())) > 0 &&
                  EVP_PKEY_derive(ctx, out, &len) > 0;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) throw std::runtime_error("derived_key: OpenSSL HKDF failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hex_of(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace gatehouse::testing
