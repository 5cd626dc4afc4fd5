-- wrk driver of the intake benchmarks (BENCH_DRIVER=wrk): the same request as bench/lib.mjs
-- orderRequest(), one POST /v1/orders per request with a unique Idempotency-Key, and a one-line
-- JSON summary that bench/lib.mjs reads.
local counter = 0
local run = string.format("%x%x", os.time(), math.random(0, 0xffffff))

request = function()
  counter = counter + 1
  local n = counter
  local body = string.format('{"customerId":"cust-%d","items":[{"sku":"SKU-%04d","qty":1}]}', n % 5000, (n % 25) + 1)
  local headers = {
    ["content-type"] = "application/json",
    ["idempotency-key"] = string.format("wrk-%s-%x-%d", run, math.random(0, 0x7fffffff), n),
  }
  return wrk.format("POST", "/v1/orders", headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"non2xx":%d,"p50Us":%d,"p99Us":%d,"errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, e.status, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write, e.timeout))
end
