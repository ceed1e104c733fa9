-- POST /login, cycling through the seeded users so that no single user's
-- record is the only one read: user<i>@<BENCH_EMAIL_DOMAIN> for i in
-- 0..BENCH_USERS-1, all with BENCH_PASSWORD (as run.mjs seeded them). Each
-- wrk thread starts at its own offset.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local users = tonumber(common.env("BENCH_USERS"))
local password = common.env("BENCH_PASSWORD")
local domain = common.env("BENCH_EMAIL_DOMAIN")
local headers = { ["Content-Type"] = "application/json" }
local bodies = {}
for i = 0, users - 1 do
  bodies[i] = string.format('{"email":"user%d@%s","password":"%s"}', i, domain, password)
end

local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

local next_user = 0
function init(args)
  next_user = (tonumber(offset) or 0) % users
end

function request()
  local body = bodies[next_user]
  next_user = (next_user + 1) % users
  return wrk.format("POST", "/login", headers, body)
end

done = common.done
