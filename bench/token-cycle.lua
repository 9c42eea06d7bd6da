-- wrk script for `make bench-proxy`: every request carries the next token of a file.
--
--   wrk ... -s token-cycle.lua URL -- FILE SCHEME [THREADS]
--
-- Each request sends "Authorization: SCHEME <token>" with the next line of FILE
-- (one token a line, from bench/connect-tokens.py; a one-line file sends the same
-- token every time; a file of up to 1 MiB is held in memory, a larger one read
-- as the run goes). With T threads, thread i (from 0) takes lines i+1, i+1+T, ...
-- so that no two threads send the same token. At the end of the file a thread
-- starts it again and counts a wrap: a run of a verifying contender with wraps > 0
-- sent some tokens twice, and the report says so.
--
-- done() prints one BENCH-SUMMARY line in the format of bench-proxy.sh's
-- summary.lua (latencies in microseconds) plus sent= (requests formatted) and
-- wraps= (times a thread started the file again). No response() hook: wrk then
-- skips collecting answers, as it does for the other contenders.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads - 1)
end

-- Globals of each thread's state (read back by done()).
sent = 0
wraps = 0

local file, prefix, stride, next_line, line_number
local held, held_index   -- a small file's lines, held in memory

-- A file of at most this many bytes is read once and cycled in memory, so that
-- a one-token file does not cost wrk a file opening per request.
local HOLD_LIMIT = 1024 * 1024

-- The next line that belongs to this thread from the file; nil at its end.
local function next_own_line()
  while true do
    local line = next_line()
    if line == nil then return nil end
    line_number = line_number + 1
    if (line_number - 1) % stride == thread_index and line ~= "" then return line end
  end
end

function init(args)
  file = args[1]
  if not file or file == "" then
    error("token-cycle.lua: pass the token file after -- (and the scheme: JWT or Bearer)")
  end
  prefix = (args[2] or "JWT") .. " "
  stride = tonumber(args[3] or "1")
  local handle = assert(io.open(file, "r"))
  local size = handle:seek("end")
  handle:close()
  next_line = io.lines(file)
  line_number = 0
  if size <= HOLD_LIMIT then
    held, held_index = {}, 0
    for line in next_own_line do table.insert(held, line) end
    if #held == 0 then error("token-cycle.lua: no token for thread " .. thread_index .. " in " .. file) end
  end
end

-- The next token of this thread; at the end of the file, the file again.
local function take()
  if held then
    held_index = held_index + 1
    if held_index > #held then
      held_index = 1
      wraps = wraps + 1
    end
    return held[held_index]
  end
  local line = next_own_line()
  if line == nil then
    wraps = wraps + 1
    next_line = io.lines(file)
    line_number = 0
    line = next_own_line()
    if line == nil then error("token-cycle.lua: no token for thread " .. thread_index .. " in " .. file) end
  end
  return line
end

function request()
  sent = sent + 1
  wrk.headers["Authorization"] = prefix .. take()
  return wrk.format()
end

done = function(summary, latency, requests)
  local total_sent, total_wraps = 0, 0
  for _, t in ipairs(threads) do
    total_sent = total_sent + (tonumber(t:get("sent")) or 0)
    total_wraps = total_wraps + (tonumber(t:get("wraps")) or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH-SUMMARY requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d sent=%d wraps=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, total_sent, total_wraps))
end
