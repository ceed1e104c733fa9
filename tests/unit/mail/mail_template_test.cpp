// render() and html_escape(): placeholders, escaping, and the refusals
// that keep a broken or oversized template from reaching a reader.
#include "mail/mail_template.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gatehouse::mail {
namespace {

using values = std::map<std::string, std::string, std::less<>>;

std::string error_of(std::string_view tmpl, const values& v, escaping esc = escaping::none) {
  try {
    (void)render(tmpl, v, esc);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(mail_template, replaces_every_placeholder_and_leaves_the_rest) {
  const values v{{"name", "Ada"}, {"link", "https://g.example/v?t=abc&x=1"}, {"n_2", "2"}};
  EXPECT_EQ(render("Hello {{name}},\nopen {{link}} ({{n_2}}x, {{name}}).\n", v, escaping::none),
            "Hello Ada,\nopen https://g.example/v?t=abc&x=1 (2x, Ada).\n");
  EXPECT_EQ(render("", v, escaping::none), "");
  EXPECT_EQ(render("no placeholders { } }} {x}", v, escaping::none), "no placeholders { } }} {x}");
  EXPECT_EQ(render("{{name}}{{name}}", v, escaping::none), "AdaAda");
}

TEST(mail_template, html_escaping_covers_the_five_characters) {
  EXPECT_EQ(html_escape(R"(<a href="x" title='y'>&amp;</a>)"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(html_escape("Zo\xC3\xAB"), "Zo\xC3\xAB");
  const values v{{"name", "<script>alert('x')</script> & \"co\""}};
  EXPECT_EQ(render("<p>{{name}}</p>", v, escaping::html),
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</p>");
  EXPECT_EQ(render("{{name}}", v, escaping::none), v.at("name")) << "text templates are not escaped";
}

TEST(mail_template, a_value_is_never_rendered_again) {
  const values v{{"a", "{{b}}"}, {"b", "B"}};
  EXPECT_EQ(render("{{a}}", v, escaping::none), "{{b}}");
}

TEST(mail_template, an_unknown_placeholder_is_an_error_naming_it) {
  const std::string what = error_of("Hello {{nmae}}", values{{"name", "Ada"}});
  EXPECT_NE(what.find("{{nmae}}"), std::string::npos) << what;
}

TEST(mail_template, a_malformed_placeholder_is_an_error) {
  const values v{{"name", "Ada"}};
  for (const char* bad : {"{{ name }}", "{{name", "{{name}", "{{}}", "{{na-me}}", "x {{", "{{name\n}}"})
    EXPECT_NE(error_of(bad, v).find("malformed placeholder"), std::string::npos) << bad;
  EXPECT_NE(error_of("{{" + std::string(65, 'a') + "}}", v).find("malformed"), std::string::npos);
  const std::string name64(64, 'a');
  EXPECT_EQ(render("{{" + name64 + "}}", values{{name64, "ok"}}, escaping::none), "ok");
}

TEST(mail_template, template_and_result_are_bounded) {
  const values v{{"big", std::string(max_rendered_bytes / 2 + 1, 'x')}, {"amp", std::string(max_rendered_bytes / 2, '&')}};
  EXPECT_EQ(render(std::string(max_template_bytes, 'a'), v, escaping::none).size(), max_template_bytes);
  EXPECT_NE(error_of(std::string(max_template_bytes + 1, 'a'), v).find("larger than"), std::string::npos);
  EXPECT_NE(error_of("{{big}}{{big}}", v).find("larger than"), std::string::npos);
  EXPECT_NE(error_of("{{amp}}", v, escaping::html).find("larger than"), std::string::npos)
      << "the escaped value counts, not the raw one";
  EXPECT_EQ(render("{{amp}}", v, escaping::none).size(), max_rendered_bytes / 2);
}

}  // namespace
}  // namespace gatehouse::mail
