// GET and HEAD for the files embedded in the binary (web/assets.hpp): the
// web page at / and its files, /openapi.yaml, and the API page at /docs with
// its files under /docs/. Bound after the API's routes and never over one of
// them, so no API path changes meaning and an unknown path is still the
// API's JSON 404. Every answer carries a strict Content-Security-Policy: the
// browser itself holds the page to this server (set_security_headers).
#include "api/routes.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "http/entity_tags.hpp"
#include "web/assets.hpp"

#include <string>

namespace gatehouse::api {
namespace {

// The web page (web/, at /) talks to this server only: connect-src 'self'
// is what makes a link like /?api=https://evil harmless even to a page that
// would honour it (web/app.js does not: it reads its API from /config.js,
// src/web/config.js). Scripts and styles come from this server's files only,
// so no injected markup can run; images may also be S3's pre-signed URLs
// (https:), and data: is the page's empty favicon. No framing, no <base>,
// forms post nowhere else.
constexpr std::string_view page_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// The API page (/docs): Swagger UI fetches /openapi.yaml and "Try it out"
// calls this server; its bundle draws a few icons as data: images.
constexpr std::string_view docs_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// On every file, not only the HTML: a script, style or SVG opened on its
// own is a document too, and a 304 refreshes the headers the browser keeps.
void set_security_headers(http::response& res, std::string_view asset_path) {
  const bool docs = asset_path == "/docs" || asset_path.starts_with("/docs/");
  res.set_header("content-security-policy", std::string(docs ? docs_policy : page_policy));
  res.set_header("x-frame-options", "DENY");  // frame-ancestors for browsers that predate it
  res.set_header("referrer-policy", "no-referrer");
  res.set_header("x-content-type-options", "nosniff");
}

http::response serve(const http::request& req, const web::asset& a) {
  http::response res;
  res.set_header("etag", std::string(a.etag));
  // Revalidated on every use: the files change with each build, and the
  // answer to a revalidation is a body-less 304.
  res.set_header("cache-control", "no-cache");
  set_security_headers(res, a.path);
  const auto if_none_match = req.header("if-none-match");
  if (if_none_match && http::none_match_hits(*if_none_match, a.etag)) {
    res.status = 304;
    return res;
  }
  res.status = 200;
  res.set_header("content-type", std::string(a.content_type));
  if (req.method == "HEAD")
    res.set_header("content-length", std::to_string(a.bytes.size()));  // the GET's, without the body
  else
    res.body = std::string(a.bytes);
  return res;
}

error no_such_route() { return error(error_kind::not_found, "not_found", "no such route"); }

}  // namespace

void bind_web_routes(http::router& r) {
  // Serving memory is cheap: no worker thread needed.
  const http::route_options inline_route{.runs_inline = true};
  const auto bind = [&](std::string_view pattern, const http::handler& h) {
    if (!r.allowed_methods(pattern).empty()) {
      log::warn("an embedded web file is not served: an API route has its path", {{"path", pattern}});
      return;
    }
    r.add("GET", pattern, h, inline_route);
    r.add("HEAD", pattern, h, inline_route);
  };

  for (const web::asset& a : web::all_assets()) {
    if (a.path.starts_with("/docs/")) continue;  // below
    bind(a.path, [a](http::request& req) { return serve(req, a); });
  }
  if (const auto index = web::find_asset("/"))
    bind("/", [a = *index](http::request& req) { return serve(req, a); });

  // The API page's files. The pattern (not one route per file) keeps the
  // route table short; a name that is not embedded is the usual 404.
  bind("/docs/{file+}", [](http::request& req) {
    const auto a = web::find_asset("/docs/" + req.path_params.at("file"));
    if (!a) throw no_such_route();
    return serve(req, *a);
  });
  // The page's URLs are relative to /docs: send /docs/ there.
  bind("/docs/", [](http::request&) {
    http::response res;
    res.status = 308;
    res.set_header("location", "../docs");
    return res;
  });
}

}  // namespace gatehouse::api
