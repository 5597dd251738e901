-- bench/run.py's wrk reporter: counts every response whose status is not the expected one
-- and prints one JSON line (the marker "BENCH_JSON ") when the run ends.
--
--   wrk -s bench/wrk/report.lua URL -- [expected status, default 200]
--
-- wrk runs each thread in its own Lua state: the counters below are per thread and done()
-- (in the main state) adds them up through the thread objects setup() kept.

local threads = {}

function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[1]) or 200
  unexpected = 0
  statuses = {}
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local unexpected_total = 0
  local counts = {}
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + (thread:get("unexpected") or 0)
    for code, n in pairs(thread:get("statuses") or {}) do
      counts[code] = (counts[code] or 0) + n
    end
  end
  local status_parts = {}
  for code, n in pairs(counts) do
    table.insert(status_parts, string.format('"%s":%d', code, n))
  end
  local seconds = summary.duration / 1e6
  local function ms(us) return us / 1000 end
  io.write("BENCH_JSON ")
  io.write(string.format(
    '{"requests":%d,"duration_s":%.6f,"bytes":%d,"rps":%.3f,'
      .. '"latency_ms":{"mean":%.3f,"max":%.3f,"p50":%.3f,"p95":%.3f,"p99":%.3f},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,'
      .. '"unexpected_status":%d},"statuses":{%s}}\n',
    summary.requests, seconds, summary.bytes,
    seconds > 0 and summary.requests / seconds or 0,
    ms(latency.mean), ms(latency.max),
    ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, unexpected_total,
    table.concat(status_parts, ",")
  ))
end
