-- wrk script for http_service.py: stop after a fixed number of responses,
-- count bad ones, print the figures as one JSON line.
--   wrk -t1 -c8 -d60s -s http_wrk.lua URL -- REQUESTS
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   limit = tonumber(args[1])
   count = 0
   bad = 0
end

function response(status, headers, body)
   count = count + 1
   if status ~= 200 or not string.find(body, '"ok": true', 1, true) then
      bad = bad + 1
   end
   if count >= limit then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local nbad = 0
   for _, t in ipairs(threads) do
      nbad = nbad + t:get("bad")
   end
   local e = summary.errors
   io.write(string.format('wrk {"requests": %d, "duration_us": %d, "p50_us": %d, ' ..
      '"p99_us": %d, "bad": %d, "errors": %d}\n', summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), nbad,
      e.connect + e.read + e.write + e.status + e.timeout))
end
