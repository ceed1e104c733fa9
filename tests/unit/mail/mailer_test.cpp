// mailer::send over a scripted transport (a test double of our own
// interface): attempts, the doubling delays, the time budget, and what
// is logged: the kind, the Message-ID and why, never the address, the
// subject or the body.
#include "mail/mailer.hpp"

#include "base/request_deadline.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace gatehouse::mail {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t friday_evening = 1796407200;  // 2026-12-04T18:00:00Z
const mailbox sender{"Gatehouse", "no-reply@gatehouse.example"};
const std::string secret_link = "https://gatehouse.example/verify?token=SECRET-TOKEN-123";

// Each deliver() runs the next step; the last one repeats.
class scripted_transport : public transport {
 public:
  using step = std::function<void()>;
  explicit scripted_transport(std::vector<step> steps) : steps_(std::move(steps)) {}

  void deliver(const outgoing& m) override {
    std::size_t i = 0;
    {
      std::lock_guard lock(mutex_);
      received_.push_back(m);
      i = std::min(received_.size() - 1, steps_.size() - 1);
    }
    steps_[i]();
  }
  std::vector<outgoing> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  std::vector<step> steps_;
  mutable std::mutex mutex_;
  std::vector<outgoing> received_;
};

const scripted_transport::step accept = [] {};
const scripted_transport::step busy = [] { throw delivery_error("smtp: 451 try again later", true); };
const scripted_transport::step refuse = [] { throw delivery_error("smtp: 550 mailbox unavailable", false); };

letter verify_letter() {
  return letter{"verify_email", {"Ada Lovelace", "ada@example.com"}, "Verify your address for Gatehouse",
                "Open " + secret_link + "\n", "<a href=\"" + secret_link + "\">verify</a>"};
}

// A mailer whose sleeps are recorded, not slept.
struct fixture {
  explicit fixture(std::vector<scripted_transport::step> steps, retry_policy policy = {})
      : out(std::move(steps)),
        m(out, sender, policy, [] { return friday_evening; },
          [this](std::chrono::milliseconds d) { sleeps.push_back(d); }) {}
  scripted_transport out;
  std::vector<std::chrono::milliseconds> sleeps;
  mailer m;
};

// send() with stdout captured: its result and the JSON log lines it wrote.
struct logged_send {
  bool sent = false;
  std::vector<boost::json::object> lines;
  std::string raw;
};

logged_send send_logged(mailer& m, const letter& l) {
  logged_send r;
  ::testing::internal::CaptureStdout();
  r.sent = m.send(l);
  r.raw = ::testing::internal::GetCapturedStdout();
  std::istringstream in(r.raw);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) r.lines.push_back(boost::json::parse(line).as_object());
  return r;
}

void expect_nothing_private(const logged_send& r) {
  for (const char* secret : {"ada@example.com", "Ada Lovelace", "Verify your address", "SECRET-TOKEN-123",
                             "no-reply@gatehouse.example"})
    EXPECT_EQ(r.raw.find(secret), std::string::npos) << secret << " in the log:\n" << r.raw;
}

static_assert(noexcept(std::declval<mailer&>().send(std::declval<const letter&>())));

TEST(mailer, delivers_the_composed_message_once_and_logs_mail_sent) {
  fixture f({accept});
  const auto r = send_logged(f.m, verify_letter());
  EXPECT_TRUE(r.sent);
  const auto got = f.out.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].envelope_from, sender.address);
  EXPECT_EQ(got[0].recipient, "ada@example.com");
  EXPECT_EQ(got[0].data.rfind("Date: Fri, 04 Dec 2026 18:00:00 +0000\r\n", 0), 0u) << got[0].data;
  EXPECT_NE(got[0].data.find("Message-ID: <" + got[0].message_id + ">\r\n"), std::string::npos);
  EXPECT_NE(got[0].data.find("From: \"Gatehouse\" <no-reply@gatehouse.example>\r\n"), std::string::npos);
  EXPECT_TRUE(f.sleeps.empty());
  ASSERT_EQ(r.lines.size(), 1u) << r.raw;
  EXPECT_EQ(r.lines[0].at("msg"), "mail sent");
  EXPECT_EQ(r.lines[0].at("kind"), "verify_email");
  EXPECT_EQ(r.lines[0].at("message_id"), boost::json::value(got[0].message_id));
  EXPECT_EQ(r.lines[0].at("attempts"), 1);
  expect_nothing_private(r);
}

TEST(mailer, retries_retryable_failures_with_doubling_delays) {
  fixture f({busy, busy, accept});
  const auto r = send_logged(f.m, verify_letter());
  EXPECT_TRUE(r.sent);
  ASSERT_EQ(f.out.received().size(), 3u);
  EXPECT_EQ(f.sleeps, (std::vector<std::chrono::milliseconds>{200ms, 400ms}));
  EXPECT_EQ(f.out.received()[0].data, f.out.received()[2].data) << "the same message each time";
  EXPECT_EQ(r.lines.back().at("msg"), "mail sent");
  EXPECT_EQ(r.lines.back().at("attempts"), 3);
  expect_nothing_private(r);
}

TEST(mailer, gives_up_after_max_attempts_and_logs_why) {
  retry_policy p;
  p.max_attempts = 4;
  p.first_delay = 5ms;
  fixture f({busy}, p);
  const auto r = send_logged(f.m, verify_letter());
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(f.out.received().size(), 4u);
  EXPECT_EQ(f.sleeps, (std::vector<std::chrono::milliseconds>{5ms, 10ms, 20ms}));
  ASSERT_FALSE(r.lines.empty());
  const auto& last = r.lines.back();
  EXPECT_EQ(last.at("msg"), "mail not sent");
  EXPECT_EQ(last.at("level"), "error");
  EXPECT_EQ(last.at("attempts"), 4);
  EXPECT_EQ(last.at("why"), "smtp: 451 try again later");
  EXPECT_EQ(last.at("message_id"), boost::json::value(f.out.received()[0].message_id));
  expect_nothing_private(r);
}

TEST(mailer, a_permanent_failure_is_not_retried) {
  fixture f({refuse, accept});
  const auto r = send_logged(f.m, verify_letter());
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(f.out.received().size(), 1u);
  EXPECT_TRUE(f.sleeps.empty());
  EXPECT_EQ(r.lines.back().at("why"), "smtp: 550 mailbox unavailable");
  EXPECT_EQ(r.lines.back().at("attempts"), 1);
}

TEST(mailer, no_attempt_starts_after_the_budget) {
  // Each attempt takes 60 ms of real time; the second could not be
  // followed by a third within 100 ms.
  retry_policy p;
  p.max_attempts = 10;
  p.first_delay = 10ms;
  p.total_budget = 100ms;
  std::vector<std::chrono::milliseconds> slept;
  scripted_transport out({[] {
    std::this_thread::sleep_for(60ms);
    throw delivery_error("timeout", true);
  }});
  mailer m(out, sender, p, [] { return friday_evening; }, [&](std::chrono::milliseconds d) {
    slept.push_back(d);
    std::this_thread::sleep_for(d);
  });
  const auto started = std::chrono::steady_clock::now();
  const auto r = send_logged(m, verify_letter());
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(out.received().size(), 2u);
  EXPECT_EQ(slept, (std::vector<std::chrono::milliseconds>{10ms}));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

TEST(mailer, the_budget_counts_sleeps_before_they_happen) {
  retry_policy p;
  p.max_attempts = 10;
  p.first_delay = 40ms;
  p.total_budget = 100ms;
  scripted_transport out({busy});
  std::vector<std::chrono::milliseconds> slept;
  mailer m(out, sender, p, [] { return friday_evening; }, [&](std::chrono::milliseconds d) {
    slept.push_back(d);
    std::this_thread::sleep_for(d);
  });
  EXPECT_FALSE(send_logged(m, verify_letter()).sent);
  // 0 + 40 <= 100: sleep; 40 + 80 > 100: stop.
  EXPECT_EQ(slept, (std::vector<std::chrono::milliseconds>{40ms}));
  EXPECT_EQ(out.received().size(), 2u);
}

TEST(mailer, nothing_is_delivered_once_the_requests_deadline_has_passed) {
  fixture f({accept});
  const request_deadline::scope out_of_time(std::chrono::steady_clock::now() - 1ms);
  const auto r = send_logged(f.m, verify_letter());
  EXPECT_FALSE(r.sent);
  EXPECT_TRUE(f.out.received().empty());
  ASSERT_FALSE(r.lines.empty());
  EXPECT_EQ(r.lines.back().at("msg"), "mail not sent");
  EXPECT_EQ(r.lines.back().at("why"), "no time left before the request's deadline");
  expect_nothing_private(r);
}

TEST(mailer, no_retry_sleeps_past_the_requests_deadline) {
  // Sleeps of 1 s, 2 s, 4 s, ... within a 60 s budget, recorded and not
  // slept; the request has 3 s: 1 s and 2 s fit, 4 s does not.
  retry_policy p;
  p.max_attempts = 10;
  p.first_delay = 1s;
  p.total_budget = 60s;
  fixture f({busy}, p);
  const request_deadline::scope answer_by(std::chrono::steady_clock::now() + 3s);
  const auto r = send_logged(f.m, verify_letter());
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(f.sleeps, (std::vector<std::chrono::milliseconds>{1s, 2s}));
  EXPECT_EQ(f.out.received().size(), 3u);
}

TEST(mailer, an_unsafe_address_is_logged_and_never_delivered) {
  fixture f({accept});
  letter l = verify_letter();
  l.to.address = "ada@example.com\r\nBcc: x@evil.example";
  const auto r = send_logged(f.m, l);
  EXPECT_FALSE(r.sent);
  EXPECT_TRUE(f.out.received().empty());
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].at("msg"), "mail not sent");
  EXPECT_EQ(r.lines[0].at("attempts"), 0);
  EXPECT_NE(std::string(r.lines[0].at("why").as_string()).find("not safe"), std::string::npos);
  expect_nothing_private(r);
}

TEST(mailer, any_exception_from_a_transport_is_a_failure_not_a_crash) {
  fixture a({[] { throw std::runtime_error("a bug in a transport"); }});
  EXPECT_FALSE(send_logged(a.m, verify_letter()).sent);
  EXPECT_EQ(a.out.received().size(), 1u) << "only delivery_error says whether a retry may help";
  fixture b({[] { throw 42; }});
  const auto r = send_logged(b.m, verify_letter());
  EXPECT_FALSE(r.sent);
  EXPECT_EQ(r.lines.back().at("msg"), "mail not sent");
  scripted_transport out({busy, accept});
  mailer c(out, sender, retry_policy{}, [] { return friday_evening; },
           [](std::chrono::milliseconds) { throw std::runtime_error("sleep failed"); });
  EXPECT_FALSE(send_logged(c, verify_letter()).sent);
}

TEST(mailer, empty_clock_and_sleeper_default_to_the_real_ones) {
  scripted_transport out({busy, accept});
  retry_policy p;
  p.first_delay = 1ms;
  mailer m(out, sender, p, {}, {});
  EXPECT_TRUE(send_logged(m, verify_letter()).sent);
  ASSERT_EQ(out.received().size(), 2u);
  EXPECT_EQ(out.received()[0].data.rfind("Date: ", 0), 0u);
}

}  // namespace
}  // namespace gatehouse::mail
