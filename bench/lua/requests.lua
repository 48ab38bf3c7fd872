-- Requests cycled over prepared bodies, one body a line of a file (JSON has no raw newlines).
--   wrk -s requests.lua URL -- METHOD PATH TOKEN|- BODIES_FILE|-
-- Every request is formatted once in init(): the run measures the server, not Lua.
-- No response() here: wrk then skips handing each body to Lua.

local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
end

function init(args)
  local method, path, token, file = args[1], args[2], args[3], args[4]
  local headers = { ["Content-Type"] = "application/json" }
  if token ~= "-" then
    headers["Authorization"] = "Bearer " .. token
  end
  prepared = {}
  if file == "-" then
    prepared[1] = wrk.format(method, path, headers)
  else
    for line in io.lines(file) do
      if #line > 0 then
        prepared[#prepared + 1] = wrk.format(method, path, headers, line)
      end
    end
  end
  -- Threads start at different places, so that they do not ask the same checks in step.
  position = (id * 7919) % #prepared
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %.0f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %.1f, "p90": %.1f, "p99": %.1f, "max": %.1f}, "counted": {}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
