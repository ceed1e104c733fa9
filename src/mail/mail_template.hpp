#pragma once
// The smallest template language the letters need: {{name}} replaced by a
// value, escaped for HTML when the template is HTML. No logic, no loops:
// a letter that needs them is two templates.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace gatehouse::mail {

enum class escaping { none, html };

// Templates are ours, but bounded all the same; so is what they render
// to, since values (a name, a link) come from outside.
inline constexpr std::size_t max_template_bytes = 64 * 1024;
inline constexpr std::size_t max_rendered_bytes = 1024 * 1024;

// & < > " ' as entities (&amp; &lt; &gt; &quot; &#39;): safe in element
// content and in a quoted attribute value.
std::string html_escape(std::string_view text);

// Replaces every {{name}} (name: 1..64 letters, digits, underscores) with
// values[name], html_escape'd when `esc` is html. Throws
// std::invalid_argument naming the placeholder when a name has no value,
// when a "{{" does not open a well-formed placeholder (a typo such as
// "{{ link }}" must not reach a reader), and when the template or the
// result is larger than the bounds above. Values are not scanned again.
std::string render(std::string_view tmpl, const std::map<std::string, std::string, std::less<>>& values,
                   escaping esc);

}  // namespace gatehouse::mail
