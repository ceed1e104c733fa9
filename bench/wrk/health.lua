-- GET /health (run.mjs puts the path in the URL).
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
done = common.done
