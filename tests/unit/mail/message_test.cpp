// compose(), is_safe_address and parse_mailbox. Hostile names, subjects
// and bodies are composed, written out and read back by mailparser
// (tests/peers/read-mail.mjs): what a mail client shows must be what was
// put in (after the sanitisation message.hpp documents), with no header
// added and every line within RFC 5322's limits.
#include "mail/message.hpp"

#include "base/text.hpp"
#include "mail/mime_encoding.hpp"
#include "mail_reader.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::mail {
namespace {

using testing::str;

constexpr std::int64_t friday_evening = 1796407200;  // 2026-12-04T18:00:00Z
const mailbox sender{"Gatehouse", "no-reply@mail.gatehouse.example"};

// One message and what a reader should see of it.
struct mail_case {
  std::string label;
  message m;
  std::string shown_to_name;
  std::string shown_subject;
  std::string shown_text;
  std::string shown_html;
};

message letter_to(std::string name, std::string subject, std::string text = "Hello.\n",
                  std::string html = "<p>Hello.</p>\n") {
  message m;
  m.from = sender;
  m.to = {std::move(name), "ada@example.com"};
  m.subject = std::move(subject);
  m.text = std::move(text);
  m.html = std::move(html);
  return m;
}

mail_case same(std::string label, message m) {
  mail_case c{std::move(label), m, m.to.display_name, m.subject, m.text, m.html};
  return c;
}

std::string repeat(std::string_view s, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += s;
  return out;
}

std::vector<mail_case> hostile_cases() {
  std::vector<mail_case> cases;
  cases.push_back(same("plain", letter_to("Ada Lovelace", "Verify your e-mail address",
                                          "Hello Ada,\n\nplease confirm your address.\n",
                                          "<p>Hello Ada,</p>\n<p>please confirm.</p>\n")));
  {
    auto c = same("crlf_bcc_in_ascii_name", letter_to("Mallory\r\nBcc: victim@evil.example", "Hi"));
    c.shown_to_name = "Mallory  Bcc: victim@evil.example";
    cases.push_back(c);
  }
  {
    auto c = same("lf_bcc_in_unicode_name", letter_to("Zo\xC3\xAB\nBcc: victim@evil.example\n", "Hi"));
    c.shown_to_name = "Zo\xC3\xAB Bcc: victim@evil.example";
    cases.push_back(c);
  }
  {
    auto c = same("crlf_headers_and_body_in_subject",
                  letter_to("Ada", "Hi\r\nBcc: x@evil.example\r\n\r\n<script>fake body</script>"));
    c.shown_subject = "Hi  Bcc: x@evil.example    <script>fake body</script>";
    cases.push_back(c);
  }
  {
    auto c = same("unicode_crlf_subject", letter_to("Ada", "R\xC3\xA9sum\xC3\xA9\r\nBcc: x@evil.example"));
    c.shown_subject = "R\xC3\xA9sum\xC3\xA9  Bcc: x@evil.example";
    cases.push_back(c);
  }
  {
    auto c = same("other_controls", letter_to(std::string("Nul\0Tab\tEsc\x1b" "Del\x7f" "C1\xC2\x85" "LS\xE2\x80\xA8" "end", 28),
                                              "Bell\a and\vvertical\ftab"));
    c.shown_to_name = "Nul Tab Esc Del C1 LS end";
    c.shown_subject = "Bell  and vertical tab";
    cases.push_back(c);
  }
  cases.push_back(same("unicode_name_and_subject",
                       letter_to("\xC5\x81ukasz \xC5\xBB\xC3\xB3\xC5\x82\xC4\x87 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x8E\x89",
                                 "R\xC3\xA9initialisez votre mot de passe \xE2\x80\x94 \xF0\x9F\x94\x91 \xE6\x97\xA5\xE6\x9C\xAC")));
  {
    std::string name = repeat("\xC3\x9Cn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9-\xE5\x90\x8D\xE5\x89\x8D\xF0\x9F\x98\x80 ", 2000 / 22 + 1);
    name = name.substr(0, 2000);
    while ((static_cast<unsigned char>(name.back()) & 0xC0) == 0x80 || static_cast<unsigned char>(name.back()) >= 0xC0)
      name.pop_back();  // whole characters only
    auto c = same("long_unicode_name", letter_to(name, repeat("Long subject \xE2\x80\x94 ", 80)));
    c.shown_to_name = mime::sanitize_header_text(name);  // a trailing space goes
    c.shown_subject = repeat("Long subject \xE2\x80\x94 ", 80);
    c.shown_subject.pop_back();
    cases.push_back(c);
  }
  cases.push_back(same("long_ascii_name_without_spaces", letter_to(repeat("A", 2000), repeat("S", 900))));
  cases.push_back(same("long_ascii_name_with_spaces", letter_to(repeat("Ada Lovelace ", 150) + "end", "x")));
  {
    auto c = same("invalid_utf8", letter_to("Bad\xFF\xFEName\xC3", "Trunc\xE2\x82 \xC0\xAF overlong \xED\xA0\x80 surrogate"));
    c.shown_to_name = "Bad\xEF\xBF\xBD\xEF\xBF\xBDName\xEF\xBF\xBD";
    c.shown_subject =
        "Trunc\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD overlong \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate";
    cases.push_back(c);
  }
  cases.push_back(same("quotes_and_backslashes", letter_to("Ada \"The Countess\" \\ Lovelace", "a \"quoted\" \\ subject")));
  cases.push_back(same("specials_in_name", letter_to("Lovelace, Ada; <Countess> (of Lovelace): x@y", "x")));
  cases.push_back(same("specials_in_unicode_name", letter_to("Lovelace, Zo\xC3\xAB; <x@evil.example>", "x")));
  cases.push_back(same("literal_encoded_word", letter_to("=?UTF-8?B?QmNjOiB4QGV2aWw=?=", "=?UTF-8?Q?fake?= subject")));
  {
    auto c = same("empty_name_and_subject", letter_to("", ""));
    cases.push_back(c);
  }
  {
    auto c = same("outer_spaces", letter_to("  \tAda\t ", " \t Hello\t world  "));
    c.shown_to_name = "Ada";
    c.shown_subject = "Hello  world";
    cases.push_back(c);
  }
  cases.push_back(same("long_body_lines",
                       letter_to("Ada", "x", repeat("0123456789", 30) + "\n" + repeat("x", 76) + "\n" + repeat("y", 77) + "\n",
                                 "<p>" + repeat("<b>long</b> ", 500) + "</p>\n")));
  cases.push_back(same("dot_lines", letter_to("Ada", "x", ".\n..hidden\n.\nend\n.", ".\n<p>.</p>\n.")));
  cases.push_back(same("non_ascii_bodies",
                       letter_to("Ada", "x", "Gr\xC3\xBC\xC3\x9F" "e\n\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E " + repeat("\xC3\xA9", 100) + "\n",
                                 "<p>caf\xC3\xA9 \xF0\x9F\x8E\x89</p>")));
  cases.push_back(same("trailing_whitespace_and_equals", letter_to("Ada", "x", "a = b  \ntab\t\n=3D\n", "<p> </p>\t")));
  {
    auto c = same("crlf_and_lone_cr_in_body", letter_to("Ada", "x", "one\r\ntwo\rthree\n", "<p>a</p>\r\n<p>b</p>\r"));
    c.shown_text = "one\ntwo\nthree\n";
    c.shown_html = "<p>a</p>\n<p>b</p>\n";
    cases.push_back(c);
  }
  cases.push_back(same("boundary_lookalike", letter_to("Ada", "x", "--=_gatehouse_\n--\n--=_gatehouse_--\n", "--")));
  cases.push_back(same("controls_in_body", letter_to("Ada", "x", std::string("nul\0bell\a\n", 10), "<p>\x1b</p>")));
  cases.push_back(same("empty_bodies", letter_to("Ada", "x", "", "")));
  return cases;
}

// mailparser's text is the part as it was, but an empty one reads "\n".
std::string as_mailparser_text(std::string text) { return text.empty() ? "\n" : text; }

// mailparser leaves out what is empty (a subject, an HTML part).
std::string shown(const boost::json::value& v) { return v.is_null() ? std::string() : str(v); }

TEST(compose, hostile_names_subjects_and_bodies_read_back_as_they_went_in) {
  if (!testing::peers_installed()) GTEST_FAIL() << testing::peers_hint;
  testing::temp_dir dir;
  const auto cases = hostile_cases();
  std::vector<testing::fs::path> files;
  std::vector<composed> made;
  for (const auto& c : cases) {
    made.push_back(compose(c.m, friday_evening));
    files.push_back(dir.path() / (c.label + ".eml"));
    testing::write_bytes(files.back(), made.back().data);
  }
  const auto parsed = testing::read_mail(files);
  ASSERT_EQ(parsed.size(), cases.size());
  const std::set<std::string> expected_fields{"date",         "from",           "to",          "subject",
                                              "message-id",   "mime-version",   "auto-submitted", "content-type"};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& p = parsed[i].as_object();
    SCOPED_TRACE(c.label + "\n" + made[i].data.substr(0, 3000));
    ASSERT_TRUE(p.at("from").is_object());
    ASSERT_TRUE(p.at("to").is_object());
    EXPECT_EQ(str(p.at("from").at("name")), "Gatehouse");
    EXPECT_EQ(str(p.at("from").at("address")), sender.address);
    EXPECT_EQ(p.at("toCount").to_number<int>(), 1);
    EXPECT_EQ(str(p.at("to").at("name")), c.shown_to_name);
    EXPECT_EQ(str(p.at("to").at("address")), "ada@example.com");
    EXPECT_EQ(shown(p.at("subject")), c.shown_subject);
    EXPECT_EQ(str(p.at("text")), as_mailparser_text(c.shown_text));
    EXPECT_EQ(shown(p.at("html")), c.shown_html);
    EXPECT_EQ(p.at("attachments").to_number<int>(), 0);
    EXPECT_LE(p.at("maxLineBytes").to_number<int>(), 998);
    EXPECT_FALSE(p.at("bareLf").as_bool());
    EXPECT_EQ(str(p.at("date")), "2026-12-04T18:00:00.000Z");
    EXPECT_EQ(str(p.at("messageId")), "<" + made[i].message_id + ">");
    EXPECT_EQ(str(p.at("headers").at("auto-submitted")), "auto-generated");
    std::multiset<std::string> fields;
    for (const auto& line : p.at("headerLines").as_array()) {
      const std::string raw = str(line);
      fields.insert(text::ascii_lower(raw.substr(0, raw.find(':'))));
    }
    EXPECT_EQ(fields, (std::multiset<std::string>(expected_fields.begin(), expected_fields.end())));
  }
}

// The raw bytes, checked here without any parser.
TEST(compose, every_line_ends_in_crlf_and_keeps_to_the_limits) {
  const std::regex encoded_word(R"(=\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=)");
  for (const auto& c : hostile_cases()) {
    SCOPED_TRACE(c.label);
    const std::string data = compose(c.m, friday_evening).data;
    ASSERT_GE(data.size(), 2u);
    EXPECT_EQ(data.substr(data.size() - 2), "\r\n");
    const auto body_at = data.find("\r\n\r\n");
    ASSERT_NE(body_at, std::string::npos);
    std::size_t start = 0;
    while (start < data.size()) {
      const auto end = data.find("\r\n", start);
      ASSERT_NE(end, std::string::npos) << "a line without CRLF at " << start;
      const std::string line = data.substr(start, end - start);
      EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << "a bare CR or LF in: " << line;
      if (start < body_at) {
        EXPECT_LE(line.size(), 998u) << line;
        for (std::sregex_iterator it(line.begin(), line.end(), encoded_word), e; it != e; ++it)
          EXPECT_LE(it->length(), 75) << it->str();
      } else {
        EXPECT_LE(line.size(), 76u) << "a body line longer than 76 bytes: " << line;
      }
      start = end + 2;
    }
  }
}

TEST(compose, headers_come_in_order_with_an_rfc5322_date_and_a_random_message_id) {
  const auto a = compose(letter_to("Ada Lovelace", "Verify your e-mail address"), friday_evening);
  const auto b = compose(letter_to("Ada Lovelace", "Verify your e-mail address"), friday_evening);
  EXPECT_TRUE(std::regex_match(a.message_id, std::regex("[0-9a-f]{32}@mail\\.gatehouse\\.example"))) << a.message_id;
  EXPECT_NE(a.message_id, b.message_id);
  const std::string head = a.data.substr(0, a.data.find("\r\n\r\n"));
  const std::regex expected(
      "Date: Fri, 04 Dec 2026 18:00:00 \\+0000\r\n"
      "From: \"Gatehouse\" <no-reply@mail\\.gatehouse\\.example>\r\n"
      "To: \"Ada Lovelace\" <ada@example\\.com>\r\n"
      "Subject: Verify your e-mail address\r\n"
      "Message-ID: <" +
      a.message_id +
      ">\r\n"
      "MIME-Version: 1\\.0\r\n"
      "Auto-Submitted: auto-generated\r\n"
      "Content-Type: multipart/alternative; boundary=\"=_gatehouse_[0-9a-f]{24}\"");
  EXPECT_TRUE(std::regex_match(head, expected)) << head;
  EXPECT_NE(a.data.find("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"),
            std::string::npos);
  EXPECT_NE(a.data.find("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"),
            std::string::npos);
  EXPECT_LT(a.data.find("text/plain"), a.data.find("text/html")) << "text first, then html (RFC 2046 5.1.4)";
}

TEST(compose, picks_quoted_printable_only_when_a_part_needs_it) {
  const auto ascii = compose(letter_to("Ada", "x", "short\nlines\n", repeat("y", 76)), friday_evening).data;
  EXPECT_EQ(ascii.find("quoted-printable"), std::string::npos);
  const auto long_line = compose(letter_to("Ada", "x", repeat("y", 77), "ok"), friday_evening).data;
  EXPECT_NE(long_line.find("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"),
            std::string::npos);
  EXPECT_NE(long_line.find("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit"),
            std::string::npos);
  const auto accent = compose(letter_to("Ada", "x", "ok", "caf\xC3\xA9"), friday_evening).data;
  EXPECT_NE(accent.find("Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"), std::string::npos);
}

TEST(compose, a_name_is_an_encoded_word_unless_plain_ascii) {
  const auto d = compose(letter_to("Zo\xC3\xAB", "Caf\xC3\xA9"), friday_evening).data;
  EXPECT_NE(d.find("To: =?UTF-8?B?Wm/Dqw==?= <ada@example.com>\r\n"), std::string::npos) << d;
  EXPECT_NE(d.find("Subject: =?UTF-8?B?Q2Fmw6k=?=\r\n"), std::string::npos) << d;
  const auto empty = compose(letter_to("", "x"), friday_evening).data;
  EXPECT_NE(empty.find("To: ada@example.com\r\n"), std::string::npos) << empty;
}

TEST(compose, refuses_unsafe_addresses_oversized_fields_and_impossible_dates) {
  auto m = letter_to("Ada", "x");
  m.to.address = "ada@example.com\r\nBcc: x@evil.example";
  EXPECT_THROW((void)compose(m, friday_evening), std::invalid_argument);
  m = letter_to("Ada", "x");
  m.from.address = "no reply@gatehouse.example";
  EXPECT_THROW((void)compose(m, friday_evening), std::invalid_argument);
  m = letter_to(std::string(max_header_text_bytes + 1, 'a'), "x");
  EXPECT_THROW((void)compose(m, friday_evening), std::invalid_argument);
  m = letter_to("Ada", std::string(max_header_text_bytes + 1, 'a'));
  EXPECT_THROW((void)compose(m, friday_evening), std::invalid_argument);
  m = letter_to("Ada", "x", std::string(max_part_bytes + 1, 'a'));
  EXPECT_THROW((void)compose(m, friday_evening), std::invalid_argument);
  m = letter_to("Ada", "x");
  m.auto_submitted = "auto-generated\r\nBcc: x@evil.example";
  EXPECT_THROW((void)compose(m, friday_evening), std::invalid_argument);
  EXPECT_THROW((void)compose(letter_to("Ada", "x"), -1), std::invalid_argument);
  EXPECT_THROW((void)compose(letter_to("Ada", "x"), 253402300800), std::invalid_argument);
  EXPECT_NO_THROW((void)compose(letter_to("Ada", "x"), 0));
}

// --- the encodings ---------------------------------------------------------

TEST(mime_encoding, encoded_words_split_between_characters_and_decode_alone) {
  const std::string euro = "\xE2\x82\xAC";  // three bytes: 45 bytes hold exactly 15
  const auto words = mime::encoded_words(repeat(euro, 16));
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0].size(), 72u);
  EXPECT_EQ(words[1], "=?UTF-8?B?4oKs?=");
  const auto emoji = mime::encoded_words(repeat("\xF0\x9F\x8E\x89", 12));  // 4 bytes: 11 per word
  ASSERT_EQ(emoji.size(), 2u);
  EXPECT_EQ(emoji[1], "=?UTF-8?B?8J+OiQ==?=");
  EXPECT_TRUE(mime::encoded_words("").empty());
}

TEST(mime_encoding, quoted_printable_follows_rfc2045) {
  EXPECT_EQ(mime::quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(mime::quoted_printable("end \ntab\t\nmid dle"), "end=20\r\ntab=09\r\nmid dle");
  EXPECT_EQ(mime::quoted_printable("caf\xC3\xA9"), "caf=C3=A9");
  EXPECT_EQ(mime::quoted_printable(repeat("x", 76)), repeat("x", 76));
  EXPECT_EQ(mime::quoted_printable(repeat("x", 77)), repeat("x", 75) + "=\r\nxx");
  // An escape is never split by a soft break.
  EXPECT_EQ(mime::quoted_printable(repeat("x", 74) + "\xC3\xA9"), repeat("x", 74) + "=\r\n=C3=A9");
}

TEST(mime_encoding, sanitize_header_text_leaves_no_line_break) {
  EXPECT_EQ(mime::sanitize_header_text("a\r\nb"), "a  b");
  EXPECT_EQ(mime::sanitize_header_text("\xFF"), "\xEF\xBF\xBD");
  EXPECT_EQ(mime::sanitize_header_text(" \r\n "), "");
  EXPECT_EQ(mime::sanitize_header_text("\xE2\x80\xA9x"), "x");
}

// --- addresses ---------------------------------------------------------------

TEST(is_safe_address, accepts_plain_addresses_and_refuses_anything_that_could_break_a_header) {
  for (const char* ok : {"a@b", "ada@example.com", "first.last+tag@sub.example.co.uk", "x_y-z@a-b.c", "o'neil@example.ie",
                         "#!$%&*/=?^`{|}~@example.com"})
    EXPECT_TRUE(is_safe_address(ok)) << ok;
  const std::string long_local(243, 'a');  // 243 + "@example.com" = 255
  for (const std::string& bad :
       {std::string(""), std::string("a@"), std::string("@b"), std::string("ab"), std::string("a@b@c"),
        std::string("a b@c.d"), std::string("a@b c"), std::string("\"a\"@b.c"), std::string("<a@b.c>"),
        std::string("a,b@c.d"), std::string("a;b@c.d"), std::string("a(b)@c.d"), std::string("a\\b@c.d"),
        std::string("a@b.c\r\nBcc: x@evil"), std::string("a\t@b.c"), std::string("a\x7f@b.c"),
        std::string("z\xC3\xAB@b.c"), std::string("a@b_c.d"), std::string("a@b..c"), std::string("a@.b"),
        std::string("a@b."), std::string("a@[127.0.0.1]"), std::string("a@b:25"), long_local + "@example.com",
        std::string("a\0@b.c", 6)})
    EXPECT_FALSE(is_safe_address(bad)) << bad;
  EXPECT_TRUE(is_safe_address(std::string(242, 'a') + "@example.com"));
}

TEST(parse_mailbox, reads_name_and_address_forms) {
  struct row {
    std::string text;
    std::optional<mailbox> expected;
  };
  const std::vector<row> rows{
      {"no-reply@gatehouse.example", mailbox{"", "no-reply@gatehouse.example"}},
      {"  no-reply@gatehouse.example  ", mailbox{"", "no-reply@gatehouse.example"}},
      {"Gatehouse <no-reply@gatehouse.example>", mailbox{"Gatehouse", "no-reply@gatehouse.example"}},
      {"<no-reply@gatehouse.example>", mailbox{"", "no-reply@gatehouse.example"}},
      {"\"Gatehouse, Inc.\" <no-reply@gatehouse.example>", mailbox{"Gatehouse, Inc.", "no-reply@gatehouse.example"}},
      {"\"The \\\"Gate\\\" \\\\ house\" <a@b.c>", mailbox{"The \"Gate\" \\ house", "a@b.c"}},
      {"Zo\xC3\xAB <a@b.c>", mailbox{"Zo\xC3\xAB", "a@b.c"}},
      {"A <b> <a@b.c>", mailbox{"A <b>", "a@b.c"}},
      {"Gatehouse <no reply@gatehouse.example>", std::nullopt},
      {"Gatehouse <no-reply@gatehouse.example", std::nullopt},
      {"Gatehouse no-reply@gatehouse.example>", std::nullopt},
      {"Gate\r\nBcc: x@evil <a@b.c>", std::nullopt},
      {"Gate\thouse <a@b.c>", std::nullopt},
      {"Gate\xC2\x85house <a@b.c>", std::nullopt},
      {"Gate\xFFhouse <a@b.c>", std::nullopt},
      {"", std::nullopt},
      {"<>", std::nullopt},
      {std::string(max_header_text_bytes + 1, 'n') + " <a@b.c>", std::nullopt},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.text);
    const auto got = parse_mailbox(r.text);
    ASSERT_EQ(got.has_value(), r.expected.has_value());
    if (got) {
      EXPECT_EQ(got->display_name, r.expected->display_name);
      EXPECT_EQ(got->address, r.expected->address);
    }
  }
}

}  // namespace
}  // namespace gatehouse::mail
