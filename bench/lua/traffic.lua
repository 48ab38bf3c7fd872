-- A marketplace's traffic, one client per wrk thread and one connection per thread, so that
-- every answer belongs to the request this thread sent last (wrk hands response() no
-- request): checkout decisions, orders, and seller list and setting writes.
--   wrk -t N -c N -s traffic.lua URL -- DATA_FILE LOG_PREFIX DECISIONS ORDERS TOGGLES SETTINGS
-- DATA_FILE lines (tab-separated):
--   operator TOKEN | seller TOKEN | pair ACCOUNT SPEC |
--   client BUYER_TOKEN LISTED_PRODUCT SETTING_PRODUCT OWN_SPEC ACCOUNT:NAME,... SPEC,...
-- The four shares are fractions of the requests. Every acknowledged write is appended to
-- LOG_PREFIX<thread>.log, and so is every write whose answer never came ("unsure"), for the
-- audit against the database afterwards.

local count = 0
local threads = {}

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

local function split(line, sep)
  local out = {}
  for field in string.gmatch(line, "([^" .. sep .. "]+)") do
    out[#out + 1] = field
  end
  return out
end

local SETTINGS = { "enterprise", "individual", "all", "same_as_product" }
local KINDS = { "decision", "order", "add", "remove", "setting" }
local STATUSES = {
  200, 201, 204, 400, 401, 403, 404, 409, 412, 413, 422, 429, 500, 502, 503, 504, "5xx",
}

function init(args)
  local operator, seller
  local pairs_, clients = {}, {}
  for line in io.lines(args[1]) do
    local f = split(line, "\t")
    if f[1] == "operator" then
      operator = f[2]
    elseif f[1] == "seller" then
      seller = f[2]
    elseif f[1] == "pair" then
      pairs_[#pairs_ + 1] = { f[2], f[3] }
    elseif f[1] == "client" then
      clients[#clients + 1] = f
    end
  end
  local me = clients[id + 1]
  log = io.open(args[2] .. id .. ".log", "w")
  share_decision = tonumber(args[3])
  share_order = share_decision + tonumber(args[4])
  share_toggle = share_order + tonumber(args[5])
  math.randomseed(id + 1)

  -- Decisions: this thread's window of the checks, formatted once.
  local checkout = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. operator }
  decisions = {}
  local window = math.min(#pairs_, 1000)
  local start = (id * 7919) % #pairs_
  for i = 1, window do
    local p = pairs_[(start + i - 1) % #pairs_ + 1]
    decisions[i] = wrk.format("POST", "/v1/decisions", checkout,
      '{"account_id":"' .. p[1] .. '","specification_id":"' .. p[2] .. '"}')
  end
  position = 0

  buyer = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. me[2] }
  listed, setting_product, own_spec = me[3], me[4], me[5]
  accounts, names, members = {}, {}, {}
  if me[6] ~= "-" then
    for _, pair in ipairs(split(me[6], ",")) do
      local an = split(pair, ":")
      accounts[#accounts + 1] = an[1]
      names[an[1]] = an[2]
      members[an[1]] = false
    end
  end
  buyable = split(me[7], ",")
  next_buy = id % #buyable
  if seller then
    sellers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. seller }
  end
  pending_kind, pending_key, pending_value = nil, nil, nil
  dry = id == 0
end

local function note(kind, key, value)
  log:write(kind, "\t", key or "", "\t", value or "", "\n")
  log:flush()
end

function request()
  if dry then
    -- wrk calls request() once on the first thread before the run, only to look at it.
    dry = false
    return decisions[1]
  end
  if pending_kind ~= nil then
    -- The last request never got its answer (its connection broke): it may or may not have
    -- been applied.
    if pending_kind ~= "decision" then
      note("unsure", pending_kind, pending_key)
    end
    _G["lost_" .. pending_kind] = (_G["lost_" .. pending_kind] or 0) + 1
  end
  local roll = math.random()
  if roll < share_decision then
    pending_kind, pending_key = "decision", nil
    position = position % #decisions + 1
    return decisions[position]
  elseif roll < share_order then
    next_buy = next_buy % #buyable + 1
    pending_kind, pending_key = "order", buyable[next_buy]
    return wrk.format("POST", "/v1/orders", buyer, '{"specification_id":"' .. pending_key .. '"}')
  elseif roll < share_toggle then
    local account = accounts[math.random(#accounts)]
    local path = "/v1/products/" .. listed .. "/specified-users"
    pending_key = account
    if members[account] then
      pending_kind = "remove"
      return wrk.format("DELETE", path .. "/" .. account, sellers)
    end
    pending_kind = "add"
    return wrk.format("POST", path, sellers,
      '{"account_id":"' .. account .. '","account_name":"' .. names[account] .. '"}')
  end
  pending_kind, pending_key = "setting", own_spec
  pending_value = SETTINGS[math.random(#SETTINGS)]
  return wrk.format("PUT",
    "/v1/products/" .. setting_product .. "/specifications/" .. own_spec .. "/target-customers",
    sellers, '{"target":"' .. pending_value .. '"}')
end

function response(status, headers, body)
  local kind, key = pending_kind, pending_key
  pending_kind = nil
  if kind == nil then
    return
  end
  local counter = "n_" .. kind .. "_" .. status
  _G[counter] = (_G[counter] or 0) + 1
  if status >= 500 then
    _G["n_" .. kind .. "_5xx"] = (_G["n_" .. kind .. "_5xx"] or 0) + 1
  end
  if kind == "order" and status == 201 then
    note("order", string.match(body, '"order_id"%s*:%s*"([^"]+)"'), key)
  elseif kind == "add" and (status == 200 or status == 201) then
    members[key] = true
    note("member", key, "1")
  elseif kind == "remove" and status == 204 then
    members[key] = false
    note("member", key, "0")
  elseif kind == "setting" and status == 200 then
    note("setting", key, pending_value)
  end
end

function done(summary, latency, requests)
  local counted, unsure = {}, {}
  for _, t in ipairs(threads) do
    for _, kind in ipairs(KINDS) do
      for _, status in ipairs(STATUSES) do
        local n = t:get("n_" .. kind .. "_" .. status)
        if n then
          local name = kind .. " " .. status
          counted[name] = (counted[name] or 0) + n
        end
      end
      local lost = t:get("lost_" .. kind)
      if lost then
        counted[kind .. " unanswered"] = (counted[kind .. " unanswered"] or 0) + lost
      end
    end
    -- The request in flight when the run stopped: its answer never came either.
    local kind = t:get("pending_kind")
    if kind ~= nil and kind ~= "decision" then
      unsure[#unsure + 1] = string.format('["%s", "%s"]', kind, t:get("pending_key") or "")
    end
  end
  local statuses = {}
  for name, n in pairs(counted) do
    statuses[#statuses + 1] = string.format('"%s": %d', name, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %.0f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %.1f, "p90": %.1f, "p99": %.1f, "max": %.1f}, '
      .. '"counted": {"statuses": {%s}, "unsure": [%s]}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(statuses, ", "), table.concat(unsure, ", ")))
end
