-- wrk script: POSTs a JSON string of exactly N bytes with content-type application/json,
-- keep-alive. Arguments (after `--`): N [delay_ms]. delay_ms > 0 paces each connection
-- (used by the soak mode). At the end prints one line: BENCH_JSON {...}.

local delay_ms = 0

function init(args)
  local size = tonumber(args[1] or "100")
  delay_ms = tonumber(args[2] or "0")
  -- A JSON string: a quote, size - 2 letters, a quote.
  wrk.method = "POST"
  wrk.body = '"' .. string.rep("a", size - 2) .. '"'
  wrk.headers["Content-Type"] = "application/json"
end

if tonumber(os.getenv("BENCH_DELAY_MS") or "0") > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
