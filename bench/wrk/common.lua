-- Shared by the wrk scripts of bench/run.mjs (issue 7). Loaded with
-- dofile() from each script; returns a table of helpers.
--
-- done() prints one line, "BENCH_JSON {...}", that run.mjs parses: the
-- request and error counts and the latency distribution (microseconds) at
-- every percentile from 1 to 99 plus 99.9, 99.99 and the maximum, which is
-- the CDF the chart draws. wrk's latency is measured per connection from
-- sending a request to reading its response (a closed loop: no
-- coordinated-omission correction, as with any closed-loop tool).
local M = {}

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default == nil then error("bench/wrk: " .. name .. " is not set") end
    return default
  end
  return v
end

local function percentiles(latency)
  local points = {}
  for p = 1, 99 do points[#points + 1] = p end
  points[#points + 1] = 99.9
  points[#points + 1] = 99.99
  local out = {}
  for _, p in ipairs(points) do
    out[#out + 1] = string.format("[%s,%d]", tostring(p), latency:percentile(p))
  end
  out[#out + 1] = string.format("[100,%d]", latency.max)
  return "[" .. table.concat(out, ",") .. "]"
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"cdf_us":%s}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    percentiles(latency)))
end


return M
