-- wrk script for `make bench-proxy`: JWT bearer grant exchanges at POST /oauth2/token.
--
-- Every request POSTs the next unused assertion from a file (one a line, from
-- `linkgate token assertion --count N`) as
--   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
-- An assertion is never sent twice (the gateway records each jti and refuses a
-- replay): with T threads, thread i (from 0) takes lines i+1, i+1+T, ...; a thread
-- that runs out stops (wrk.thread:stop()) and reports it, and the run is invalid.
--
-- The file is named by the first script argument (wrk ... -s token-exchange.lua
-- URL -- FILE [THREADS [MODE [KEEP]]]) or by the environment variable BENCH_ASSERTIONS.
-- MODE says what a line is:
--   jwt-bearer (the default)  an assertion, sent as above;
--   form                      a whole form body (bench/oauth2-codes.py writes
--                             authorization-code exchanges); with KEEP, the
--                             refresh_token of each 200 answer is appended to the
--                             file KEEP.<thread>, one a line;
--   refresh                   a refresh token, sent as grant_type=refresh_token with
--                             the client of BENCH_CLIENT ("client_id=…&client_secret=…");
--                             each 200 answer's new refresh token is sent next (the
--                             old one is spent), so a few seeds keep a run going.
-- done() prints one BENCH-SUMMARY line in the format of bench-proxy.sh's
-- summary.lua (latencies in microseconds) plus exhausted= (threads that ran
-- out) and used= (assertions sent); non2xx counts every answer outside 200-299.

local path = os.getenv("BENCH_ASSERTIONS")
local threads = {}

-- Runs in the main Lua state, once per thread, before that thread's init().
-- thread:set() writes a global of the thread's own Lua state; done() reads
-- the threads' globals back with thread:get().
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads - 1)
end

-- Globals of each thread's state (read by done()).
non2xx = 0
used = 0
exhausted = 0
first_failure = ""

local next_line, stride, line_number, mode, keep
local prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
local client = os.getenv("BENCH_CLIENT") or ""
local rotated = {}   -- refresh mode: new refresh tokens, sent before the file's next line

-- args[1]: the assertion file (else BENCH_ASSERTIONS); args[2]: wrk's -t, so that
-- threads split the file (else BENCH_THREADS, else 1).
function init(args)
  local file = args[1] or path
  if not file or file == "" then
    error("token-exchange.lua: set BENCH_ASSERTIONS or pass the assertion file after --")
  end
  stride = tonumber(args[2] or os.getenv("BENCH_THREADS") or "1")
  mode = args[3] or "jwt-bearer"
  if mode == "form" then
    prefix = ""
    if args[4] then keep = assert(io.open(args[4] .. "." .. thread_index, "a")) end
  elseif mode == "refresh" then
    prefix = "grant_type=refresh_token&" .. client .. "&refresh_token="
  end
  next_line = assert(io.open(file, "r")):lines()
  line_number = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
end

-- The next line that belongs to this thread, or nil at the end of the file.
local function take()
  while true do
    local line = next_line()
    if line == nil then return nil end
    line_number = line_number + 1
    if (line_number - 1) % stride == thread_index and line ~= "" then return line end
  end
end

function request()
  local assertion = table.remove(rotated)
  if assertion == nil and exhausted == 0 then assertion = take() end
  if assertion == nil then
    if exhausted == 0 then
      exhausted = 1
      wrk.thread:stop()
    end
    -- wrk still wants a request; a bare GET never spends an assertion and is
    -- counted below as a failure (it is not a token exchange).
    return wrk.format("GET", "/oauth2/token-exhausted", {}, nil)
  end
  used = used + 1
  return wrk.format(nil, nil, nil, prefix .. assertion)
end

function response(status, headers, body)
  if status == 200 and (keep or mode == "refresh") then
    local token = (body or ""):match('"refresh_token"%s*:%s*"([^"]+)"')
    if token and keep then keep:write(token, "\n"); keep:flush() end
    if token and mode == "refresh" then table.insert(rotated, token) end
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_failure == "" then
      first_failure = string.format("%d %s", status, ((body or ""):sub(1, 300):gsub("%s+", " ")))
    end
  end
end

done = function(summary, latency, requests)
  local counted, total_used, total_exhausted, failure = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    counted = counted + (tonumber(t:get("non2xx")) or 0)
    total_used = total_used + (tonumber(t:get("used")) or 0)
    total_exhausted = total_exhausted + (tonumber(t:get("exhausted")) or 0)
    local f = t:get("first_failure")
    if failure == "" and f and f ~= "" then failure = f end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH-SUMMARY requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d exhausted=%d used=%d\n",
    summary.requests, summary.duration, math.max(e.status, counted), e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, total_exhausted, total_used))
  if failure ~= "" then io.write("BENCH-FIRST-FAILURE " .. failure .. "\n") end
end
