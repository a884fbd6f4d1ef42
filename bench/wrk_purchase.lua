-- wrk script for the channel purchase API (bench/load_bench.py runs it).
-- args: <meter file> <reference prefix> <api key> <nominal> [path]
-- Each request buys a token for a random meter of the file with a reference never used before.
local meters = {}
local counter = 0
local prefix, apikey, nominal, path
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    meters[#meters + 1] = line
  end
  f:close()
  prefix = args[2] .. "-" .. tid .. "-"
  apikey = args[3]
  nominal = args[4]
  path = args[5] or "/api/v1/channel/purchase"
  math.randomseed(os.time() * 1000 + tid * 7919)
end

function request()
  counter = counter + 1
  local meter = meters[math.random(#meters)]
  local body = '{"channel_reference":"' .. prefix .. counter .. '","identifier":"' .. meter ..
      '","nominal":' .. nominal .. '}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Api-Key"] = apikey}, body)
end

local shown = 0

-- The first few answers that are not 200, on stderr: a refusal (e.g. 0047, a meter's monthly
-- cap reached after many runs) reads differently from a server fault.
function response(status, headers, body)
  if status ~= 200 and shown < 3 then
    shown = shown + 1
    io.stderr:write("NON200 " .. status .. " " .. string.sub(body or "", 1, 300) .. "\n")
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
