-- GET /health at a modest, fixed pace (BENCH_DELAY_MS between a response
-- and the next request on each connection): the probe run.mjs runs beside
-- a saturating POST /login load to see how long a cheap request waits
-- behind the hashing. Paced so the probe itself does not compete for the
-- CPU the logins need.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
local pause = tonumber(common.env("BENCH_DELAY_MS", "5"))
function delay()
  return pause
end
done = common.done
