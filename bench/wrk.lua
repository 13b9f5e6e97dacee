-- wrk script for the benchmark: method and body from the environment, a JSON summary line at the end.
--
-- A POST sends a body of its own with every request, so a save is measured, not the refusal of a repeat
-- (bench/pages.py, nth_form, builds the same bodies in Python). BENCH_BODIES holds the bodies to cycle through,
-- one a line, with two placeholders: __date__ becomes BENCH_TODAY minus floor(n / #bodies) days and __token__ the
-- one-time token BENCH_SALT .. n as 12 hex digits. The request numbers n start at BENCH_SEQ; the threads take turns
-- (thread i sends BENCH_SEQ + i, + i + BENCH_STRIDE, ...), and the summary names the first number left unused
-- ("next_seq") for the next wrk run against the same database.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local bodies = {}
for line in (os.getenv("BENCH_BODIES") or ""):gmatch("[^\n]+") do
  bodies[#bodies + 1] = line
end
local start = tonumber(os.getenv("BENCH_SEQ") or "0") or 0
local stride = tonumber(os.getenv("BENCH_STRIDE") or "1") or 1
local salt = os.getenv("BENCH_SALT") or ""
local year, month, day = (os.getenv("BENCH_TODAY") or ""):match("^(%d+)-(%d+)-(%d+)$")

local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  thread:set("counter", 0)
  threads[#threads + 1] = thread
end

local function days_before_today(days)
  -- os.time normalises the day of the month (mktime), noon keeps a DST change from moving the date.
  local t = os.time({year = tonumber(year), month = tonumber(month), day = tonumber(day) - days, hour = 12})
  return os.date("%Y-%m-%d", t)
end

if #bodies > 0 then
  request = function()
    local n = start + counter * stride + id
    counter = counter + 1
    local body = bodies[(n % #bodies) + 1]
    if year ~= nil then
      body = body:gsub("__date__", days_before_today(math.floor(n / #bodies)))
    end
    body = body:gsub("__token__", string.format("%s%012x", salt, n))
    return wrk.format(nil, nil, nil, body)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local used = 0
  for _, thread in ipairs(threads) do
    used = math.max(used, thread:get("counter") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, '
      .. '"errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"mean_us": %.1f, "max_us": %d, "next_seq": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max, start + used * stride))
end
