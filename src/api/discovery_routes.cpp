// GET /.well-known/jwks.json and /.well-known/openid-configuration: what a
// service needs to check Gatehouse's tokens on its own (API Gateway's JWT
// authorizer, jose's createRemoteJWKSet, ...). Both documents are fixed
// for the life of the process, so they are rendered once, answered on the
// I/O thread like /health, and revalidated with their ETag.
#include "api/routes.hpp"
#include "http/entity_tags.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::api {
namespace {

namespace json = boost::json;

struct published_document {
  std::string body;
  std::string etag;
  std::string cache_control;
};

published_document publish(const json::object& document, std::string cache_control) {
  std::string body = json::serialize(document);
  std::string etag = http::entity_tag_of(body);
  return {std::move(body), std::move(etag), std::move(cache_control)};
}

http::response answer(const http::request& req, const published_document& d) {
  http::response res;
  res.set_header("etag", d.etag);
  res.set_header("cache-control", d.cache_control);
  const auto if_none_match = req.header("if-none-match");
  if (if_none_match && http::none_match_hits(*if_none_match, d.etag)) {
    res.status = 304;
    return res;
  }
  res.status = 200;
  res.set_header("content-type", std::string(http::json_content_type));
  res.body = d.body;
  return res;
}

// OpenID Connect Discovery 1.0 section 3, as far as it applies to an issuer
// of access tokens: verifiers read issuer and jwks_uri; the three
// *_supported members are there because the specification requires them.
json::object openid_configuration(const auth::access_tokens& tokens) {
  const std::string& issuer = tokens.settings().issuer;
  return json::object{
      {"issuer", issuer},
      {"jwks_uri", issuer + "/.well-known/jwks.json"},
      {"id_token_signing_alg_values_supported", json::array{jose::name_of(tokens.algorithm())}},
      {"subject_types_supported", json::array{"public"}},
      {"response_types_supported", json::array{"token"}},
      {"claims_supported", json::array{"iss", "sub", "aud", "exp", "iat", "jti", "sid", "role", "email", "userId"}},
  };
}

}  // namespace

void bind_discovery_routes(http::router& r, const services& s) {
  // A key set changes only with a restart after a rotation; verifiers that
  // meet an unknown kid fetch again sooner (jose, API Gateway).
  auto jwks = std::make_shared<const published_document>(publish(s.tokens.jwks(), "public, max-age=300"));
  auto discovery =
      std::make_shared<const published_document>(publish(openid_configuration(s.tokens), "public, max-age=3600"));
  r.add("GET", "/.well-known/jwks.json", [jwks](http::request& req) { return answer(req, *jwks); },
        {.runs_inline = true});
  r.add("GET", "/.well-known/openid-configuration",
        [discovery](http::request& req) { return answer(req, *discovery); }, {.runs_inline = true});
}

}  // namespace gatehouse::api
