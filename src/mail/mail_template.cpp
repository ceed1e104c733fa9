#include "mail/mail_template.hpp"

#include <stdexcept>

namespace gatehouse::mail {
namespace {

constexpr std::size_t max_name_bytes = 64;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// What an error message may quote of a template: printable ASCII only.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, max_name_bytes + 4)) out.push_back(c >= 0x20 && c <= 0x7E ? c : '?');
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string render(std::string_view tmpl, const std::map<std::string, std::string, std::less<>>& values,
                   escaping esc) {
  if (tmpl.size() > max_template_bytes)
    throw std::invalid_argument("template is larger than " + std::to_string(max_template_bytes) + " bytes");
  std::string out;
  out.reserve(tmpl.size());
  const auto append = [&](std::string_view piece) {
    if (out.size() + piece.size() > max_rendered_bytes)
      throw std::invalid_argument("rendered template would be larger than " + std::to_string(max_rendered_bytes) +
                                  " bytes");
    out += piece;
  };
  std::size_t at = 0;
  for (;;) {
    const auto open = tmpl.find("{{", at);
    if (open == std::string_view::npos) break;
    append(tmpl.substr(at, open - at));
    std::size_t end = open + 2;
    while (end < tmpl.size() && end - open - 2 < max_name_bytes + 1 && is_name_char(tmpl[end])) ++end;
    const auto name = tmpl.substr(open + 2, end - open - 2);
    if (name.empty() || name.size() > max_name_bytes || tmpl.substr(end, 2) != "}}")
      throw std::invalid_argument("template has a malformed placeholder at byte " + std::to_string(open) + ": " +
                                  printable(tmpl.substr(open)));
    const auto value = values.find(name);
    if (value == values.end()) throw std::invalid_argument("template placeholder {{" + std::string(name) + "}} has no value");
    // Escaping only lengthens a value: the raw size is checked first, so a
    // huge value is refused before its escaped copy is made.
    append(esc == escaping::html && out.size() + value->second.size() <= max_rendered_bytes
               ? html_escape(value->second)
               : value->second);
    at = end + 2;
  }
  append(tmpl.substr(at));
  return out;
}

}  // namespace gatehouse::mail
