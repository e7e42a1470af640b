-- wrk script of tools/bench/load-generator.ts: each request sends the next body of a file (one
-- body a line), rotating over them; "{{n}}" in a body becomes the request's number, so every
-- request can carry an identifier of its own. Request numbers are global across threads: thread t
-- of T sends n = t, t + T, t + 2T, ..., and body (n mod count). done() prints one JSON line with
-- the latency percentiles (microseconds), the errors and how many requests each thread sent.
-- wrk 4.1 calls thread 0's request() once before the run to count pipelined requests, and drops
-- what it returns: thread 0 starts one number early, so that call takes number -T and the first
-- request sent is number 0.
--
--   wrk -t T -c C -d Ds --latency -s wrk-bodies.lua URL -- BODIES_FILE METHOD
--
-- Without a bodies file, requests carry no body (a GET rotating over nothing).
--
-- A body without "{{n}}" is made into its whole request once, at init, and request() returns
-- that same string each time: no string is made per request. Made per request (wrk.format of a
-- body read from a file of 300,000), each one was a new string for LuaJIT to intern and collect,
-- and wrk's own pauses then showed as the server's latency: against a bare node:http server,
-- p99 5.5 to 11.1 ms and p99.9 70 to 117 ms that way, 2.4 to 3.0 ms and 4.3 to 5.8 ms with the
-- requests made once (a load generator in Go on the same server: 2.3 to 2.6 ms and 3.6 to 4.1 ms).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  wrk.method = args[2] or "GET"
  bodies = {}
  templated = {}
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      bodies[#bodies + 1] = line
      templated[#bodies] = string.find(line, "{{n}}", 1, true) ~= nil
    end
  end
  count = #bodies
  -- Each fixed body's whole request, made once (see the top of this file); templated ones are made per request.
  formatted = {}
  for index = 1, count do
    if not templated[index] then
      formatted[index] = wrk.format(nil, nil, nil, bodies[index])
      bodies[index] = false
    end
  end
  -- The bodies read are garbage now: collected here rather than by steps during the run.
  collectgarbage("collect")
  stride = tonumber(args[3] or "1")
  n = id
  sent = 0
  if id == 0 then
    n = -stride
    sent = -1
  end
  if count == 0 then
    fixed = wrk.format(nil, nil, nil, nil)
  end
end

function request()
  local number = n
  n = n + stride
  sent = sent + 1
  if count == 0 then
    return fixed
  end
  local at = (number % count) + 1
  if not templated[at] then
    return formatted[at]
  end
  local body = string.gsub(bodies[at], "{{n}}", tostring(number))
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local sent_by_thread = {}
  for index, thread in ipairs(threads) do
    sent_by_thread[index] = tostring(thread:get("sent"))
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99.9":%d},"sent":[%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(sent_by_thread, ",")))
end
