-- wrk script for `make soak` (scripts/soak.sh): the allowed part of the load.
--
--   wrk ... -s bench/soak/load.lua http://127.0.0.1:PORT -- JWT_FILE BEARER_FILE BASIC_FILE THREADS
--
-- Every request is one of four kinds, in turn:
--   jwt          GET  /rest/api/3/project/PROJ  Authorization: JWT <next Connect JWT of JWT_FILE>
--   bearer       GET  /rest/api/3/project/PROJ  Authorization: Bearer <next token of BEARER_FILE>
--   bearer-post  POST /rest/api/3/search        Bearer, with a small JSON body
--   basic        GET  /rest/api/3/project/PROJ  Authorization: Basic <next line of BASIC_FILE>
-- JWT_FILE holds distinct Connect JWTs bound by qsh to GET /rest/api/3/project/PROJ
-- (bench/connect-tokens.py), BEARER_FILE access tokens of the JWT bearer grant,
-- BASIC_FILE base64(user:api-token) values. With T threads, thread i (from 0)
-- takes lines i+1, i+1+T, ... of each file (every line of a file with fewer
-- lines than threads), held in memory and cycled.
--
-- Every request is expected to be allowed and forwarded to linkgate-echo, which
-- answers 200 with the headers it received: response() counts each answer by the
-- X-Linkgate-Auth the gateway forwarded (jwt, jwt-bearer, basic), and anything
-- else (another status, a missing or unexpected header) as a failure, keeping
-- the first one. done() prints one SOAK-WRK line (latencies in microseconds) and,
-- when something failed, one SOAK-WRK-FIRST-FAILURE line.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads - 1)
end

-- Globals of each thread's state (read back by done()).
sent = 0
ok_jwt = 0
ok_bearer = 0
ok_basic = 0
non200 = 0
unexpected = 0
first_failure = ""

local lists = {}
local positions = {}
local kinds = { "jwt", "bearer", "bearer-post", "basic" }
local turn = 0
local project = "/rest/api/3/project/PROJ"
local search = "/rest/api/3/search"
local body = '{"jql":"project = PROJ AND status != Done ORDER BY updated DESC","startAt":0,"maxResults":50,'
  .. '"fields":["summary","status","assignee","updated"],"expand":["names"],"validateQuery":"strict"}'

-- This thread's lines of a file: lines thread_index+1, thread_index+1+stride, ...
local function own_lines(file, stride)
  local held, all, number = {}, {}, 0
  for line in io.lines(file) do
    number = number + 1
    if line ~= "" then
      table.insert(all, line)
      if (number - 1) % stride == thread_index then table.insert(held, line) end
    end
  end
  if #all < stride then held = all end
  if #held == 0 then error("load.lua: no line for thread " .. thread_index .. " in " .. file) end
  return held
end

function init(args)
  if #args < 3 then
    error("load.lua: pass JWT_FILE BEARER_FILE BASIC_FILE [THREADS] after --")
  end
  local stride = tonumber(args[4] or "1")
  lists.jwt = own_lines(args[1], stride)
  lists.bearer = own_lines(args[2], stride)
  lists.basic = own_lines(args[3], stride)
  positions = { jwt = 0, bearer = 0, basic = 0 }
end

local function take(list)
  local held = lists[list]
  local index = positions[list] % #held + 1
  positions[list] = index
  return held[index]
end

function request()
  sent = sent + 1
  turn = turn % #kinds + 1
  local kind = kinds[turn]
  if kind == "jwt" then
    return wrk.format("GET", project, { ["Authorization"] = "JWT " .. take("jwt") }, nil)
  elseif kind == "bearer" then
    return wrk.format("GET", project, { ["Authorization"] = "Bearer " .. take("bearer") }, nil)
  elseif kind == "bearer-post" then
    return wrk.format("POST", search, {
      ["Authorization"] = "Bearer " .. take("bearer"),
      ["Content-Type"] = "application/json",
    }, body)
  else
    return wrk.format("GET", project, { ["Authorization"] = "Basic " .. take("basic") }, nil)
  end
end

local function failed(what)
  if first_failure == "" then first_failure = what end
end

function response(status, headers, answer)
  if status ~= 200 then
    non200 = non200 + 1
    failed(string.format("%d %s", status, ((answer or ""):sub(1, 300):gsub("%s+", " "))))
    return
  end
  -- linkgate-echo's JSON: "headers":[["X-Linkgate-Auth","jwt"],...] (names as the gateway sent them)
  local auth = (answer or ""):lower():match('"x%-linkgate%-auth","([%w%-]+)"')
  if auth == "jwt" then
    ok_jwt = ok_jwt + 1
  elseif auth == "jwt-bearer" then
    ok_bearer = ok_bearer + 1
  elseif auth == "basic" then
    ok_basic = ok_basic + 1
  else
    unexpected = unexpected + 1
    failed(string.format("200 without the expected X-Linkgate-Auth: %s", ((answer or ""):sub(1, 300):gsub("%s+", " "))))
  end
end

done = function(summary, latency, requests)
  local totals = { sent = 0, ok_jwt = 0, ok_bearer = 0, ok_basic = 0, non200 = 0, unexpected = 0 }
  local failure = ""
  for _, t in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (tonumber(t:get(name)) or 0)
    end
    local f = t:get("first_failure")
    if failure == "" and f and f ~= "" then failure = f end
  end
  local e = summary.errors
  io.write(string.format(
    "SOAK-WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d "
      .. "sent=%d jwt=%d jwt_bearer=%d basic=%d non200=%d unexpected=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    totals.sent, totals.ok_jwt, totals.ok_bearer, totals.ok_basic, totals.non200, totals.unexpected,
    latency:percentile(50), latency:percentile(99), latency.max))
  if failure ~= "" then io.write("SOAK-WRK-FIRST-FAILURE " .. failure .. "\n") end
end
