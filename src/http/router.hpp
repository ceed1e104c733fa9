#pragma once
// Method + path routing with `{name}` (one segment) and `{name+}` (the
// rest of the path) parameters. A path that matches no pattern is 404
// `not_found`; one that matches with another method is 405 with `Allow`.
#include "http/request.hpp"
#include "http/response.hpp"

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::http {

using handler = std::function<response(request&)>;

inline constexpr std::size_t default_json_body_limit = 64 * 1024;

// What a front end must know about a route before it reads the body.
struct route_options {
  std::size_t max_body = default_json_body_limit;
  // Cheap handlers (no bcrypt, no storage) may run on the I/O thread.
  bool runs_inline = false;
};

class router {
 public:
  void add(std::string method, std::string_view pattern, handler h, route_options opts = {});

  // Runs the matching handler; errors from it propagate. Throws not_found
  // for an unknown path and method_not_allowed (with `Allow`) for a known
  // path with another method.
  response dispatch(request& req) const;

  // Replaces the handler of every route whose method is one of `methods`
  // with `wrap(handler)`: one mechanism for every route of a kind (the
  // state-changing ones go through the idempotency ledger).
  void wrap(std::initializer_list<std::string_view> methods, const std::function<handler(handler)>& wrap);

  // The options of the route that `dispatch` would run, or nullptr for
  // a 404/405 outcome (which need no body at all).
  const route_options* options_for(std::string_view method, std::string_view path) const;

  // The methods registered for a path, comma-separated ("GET, POST"), or
  // empty when no pattern matches it.
  std::string allowed_methods(std::string_view path) const;

 private:
  struct segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
    bool is_rest = false;
  };
  struct route {
    std::string method;
    std::string pattern;
    std::vector<segment> segments;
    handler run;
    route_options options;
  };

  static bool matches(const route& r, std::string_view path,
                      std::map<std::string, std::string, std::less<>>* params);
  const route* find(std::string_view method, std::string_view path) const;

  std::vector<route> routes_;
};

}  // namespace gatehouse::http
