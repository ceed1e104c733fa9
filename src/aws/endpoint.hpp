#pragma once
// Where an AWS service is reached: the real regional endpoint, or an
// override from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>.
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::aws {

struct endpoint {
  bool tls = true;
  std::string host;  // DNS name or IP literal (IPv6 without brackets)
  unsigned short port = 443;
  std::string base_path;  // "" or "/prefix" of a custom endpoint, no trailing '/'
  bool is_custom = false;  // from an override: S3 then uses path-style addressing

  // "host", or "host:port" when the port is not the scheme's default;
  // IPv6 in brackets. The Host header, and what SigV4 signs.
  std::string authority() const;
};

// Parses http(s)://host[:port][/path]. Plain http is accepted only for
// loopback hosts (127.0.0.0/8, ::1, localhost); nullopt for anything else
// (userinfo, query, fragment, bad port, empty host).
std::optional<endpoint> parse_endpoint(std::string_view url);

// https://<service>.<region>.amazonaws.com (dynamodb, s3, secretsmanager).
endpoint regional_endpoint(std::string_view service, std::string_view region);

}  // namespace gatehouse::aws
