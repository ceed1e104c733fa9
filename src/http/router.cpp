#include "http/router.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <stdexcept>

namespace gatehouse::http {
namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" into {""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

void router::add(std::string method, std::string_view pattern, handler h, route_options opts) {
  route r{std::move(method), std::string(pattern), {}, std::move(h), opts};
  for (std::string_view part : split_path(pattern)) {
    segment s;
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      part = part.substr(1, part.size() - 2);
      s.is_param = true;
      if (part.back() == '+') {
        s.is_rest = true;
        part.remove_suffix(1);
      }
    }
    s.text = std::string(part);
    r.segments.push_back(std::move(s));
  }
  if (r.segments.empty()) throw std::logic_error("route pattern must start with '/'");
  routes_.push_back(std::move(r));
}

void router::wrap(std::initializer_list<std::string_view> methods, const std::function<handler(handler)>& wrap) {
  for (route& r : routes_)
    if (std::find(methods.begin(), methods.end(), r.method) != methods.end()) r.run = wrap(std::move(r.run));
}

bool router::matches(const route& r, std::string_view path,
                     std::map<std::string, std::string, std::less<>>* params) {
  const auto parts = split_path(path);
  std::size_t i = 0;
  for (const segment& s : r.segments) {
    if (i >= parts.size()) return false;
    if (s.is_rest) {
      // The rest of the path, every segment non-empty.
      for (std::size_t j = i; j < parts.size(); ++j)
        if (parts[j].empty()) return false;
      if (params) {
        const std::size_t start = static_cast<std::size_t>(parts[i].data() - path.data());
        (*params)[s.text] = std::string(path.substr(start));
      }
      return true;
    }
    if (s.is_param) {
      if (parts[i].empty()) return false;
      if (params) (*params)[s.text] = std::string(parts[i]);
    } else if (parts[i] != s.text) {
      return false;
    }
    ++i;
  }
  return i == parts.size();
}

const router::route* router::find(std::string_view method, std::string_view path) const {
  for (const route& r : routes_)
    if (r.method == method && matches(r, path, nullptr)) return &r;
  return nullptr;
}

const route_options* router::options_for(std::string_view method, std::string_view path) const {
  const route* r = find(method, path);
  return r ? &r->options : nullptr;
}

std::string router::allowed_methods(std::string_view path) const {
  std::vector<std::string_view> methods;
  for (const route& r : routes_)
    if (matches(r, path, nullptr) && std::find(methods.begin(), methods.end(), r.method) == methods.end())
      methods.push_back(r.method);
  std::string allow;
  for (const auto m : methods) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  return allow;
}

response router::dispatch(request& req) const {
  if (const route* r = find(req.method, req.path)) {
    req.route = r->pattern;
    req.path_params.clear();
    matches(*r, req.path, &req.path_params);
    return r->run(req);
  }
  const std::string allow = allowed_methods(req.path);
  if (allow.empty()) throw error(error_kind::not_found, "not_found", "no such route");
  throw error(error_kind::method_not_allowed, "method_not_allowed",
              "method " + req.method + " is not allowed here")
      .with_header("allow", allow);
}

}  // namespace gatehouse::http
