#include "api/idempotent_routes.hpp"
#include "api/routes.hpp"

namespace gatehouse::api {

void bind_health(http::router& r) {
  r.add("GET", "/health",
        [](http::request&) { return http::json_response(200, {{"status", "ok"}}); },
        {.runs_inline = true});
}

http::router make_router(const services& s, images::local_object_server* local_files) {
  http::router r;
  bind_health(r);
  bind_discovery_routes(r, s);
  bind_auth_routes(r, s);
  bind_user_routes(r, s);
  bind_email_routes(r, s);
  bind_image_routes(r, s);
  if (local_files) bind_file_routes(r, *local_files, s.pictures.settings().max_image_bytes);
  r.wrap({"POST", "PATCH", "DELETE"}, [&s](http::handler h) { return idempotent(std::move(h), s); });
  bind_web_routes(r);
  return r;
}

}  // namespace gatehouse::api
