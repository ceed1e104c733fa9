-- GET with a Bearer token (GET /users/me, GET /users?limit=25: run.mjs puts
-- the path in the URL). BENCH_TOKEN: a token from a login to the server
-- under test.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
wrk.headers["Authorization"] = "Bearer " .. common.env("BENCH_TOKEN")
done = common.done
