// The bcrypt gate under attack, against the real binary: a flood of
// concurrent logins from one self-registered account (issue 12, finding 3)
// at cost 12 gets some 503 server_busy with Retry-After, never a 500, and
// every /health and GET /users/me made meanwhile is answered 200: hashing
// holds at most its own threads, never the ones the other routes need.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>
#include <vector>

namespace gatehouse::testing {
namespace {

constexpr int flood = 64;

TEST(bcrypt_queue, a_login_flood_is_partly_refused_503_while_health_and_users_me_stay_200) {
  // 2 hashing, 4 waiting, 4 workers (a 2-core machine's defaults but the
  // queue): the flood is far larger than what the gate takes, on any machine.
  gatehouse_process server(std::map<std::string, std::string>{{"BCRYPT_COST", "12"},
                                                              {"BCRYPT_CONCURRENCY", "2"},
                                                              {"BCRYPT_QUEUE_DEPTH", "4"},
                                                              {"WORKER_THREADS", "4"}});
  http_client setup(server.port());
  const auto user = sign_up_and_log_in(setup, "flood@example.com", "password123");
  const header_list bearer{{"authorization", "Bearer " + user.token}};

  std::atomic<bool> flooding{true};
  std::vector<int> health_statuses, me_statuses;
  auto prober = std::async(std::launch::async, [&] {
    http_client health(server.port()), me(server.port());
    // At least a few rounds, and on until the flood has been answered.
    for (int round = 0; flooding || round < 5; ++round) {
      health_statuses.push_back(health.get("/health").status);
      me_statuses.push_back(me.get("/users/me", bearer).status);
    }
  });
  const auto logins = all_at_once(flood, server.port(), [](http_client& c, int) {
    return c.post_json("/login", R"({"email":"flood@example.com","password":"password123"})");
  });
  flooding = false;
  prober.get();

  int ok = 0, busy = 0;
  for (const auto& r : logins) {
    if (r.status == 200) {
      ++ok;
    } else {
      ASSERT_EQ(r.status, 503) << r.body;
      EXPECT_EQ(error_code_of(r), "server_busy") << r.body;
      EXPECT_EQ(r.header("retry-after"), "1");
      ++busy;
    }
  }
  EXPECT_GT(busy, 0) << "64 logins at cost 12 against 2 hashing + 4 waiting: some must be refused";
  EXPECT_GT(ok, 0) << "the gate lets the logins it has room for through";
  ASSERT_FALSE(health_statuses.empty());
  for (int s : health_statuses) EXPECT_EQ(s, 200);
  for (int s : me_statuses) EXPECT_EQ(s, 200);
  // The flood is over: the account logs in normally again.
  EXPECT_EQ(setup.post_json("/login", R"({"email":"flood@example.com","password":"password123"})").status, 200);
}

}  // namespace
}  // namespace gatehouse::testing
