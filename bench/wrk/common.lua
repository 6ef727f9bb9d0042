-- Shared by the scenario scripts (each loads it with dofile). It gives every wrk thread an
-- `id`, counts response statuses and answers carrying Set-Cookie per thread, and prints one
-- `BENCHJSON {...}` line from done() that bench/run.py reads. Script arguments are key=value
-- pairs after `--`.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function parse_args(args)
   local opts = {}
   for _, arg in ipairs(args) do
      local key, value = arg:match("^([%w_]+)=(.*)$")
      if key then opts[key] = value end
   end
   return opts
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then table.insert(lines, line) end
   end
   assert(#lines > 0, path .. " is empty")
   return lines
end

statuses = {}
set_cookie = 0

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if headers["Set-Cookie"] then set_cookie = set_cookie + 1 end
end

function done(summary, latency, requests)
   local counts = {}
   local cookies_set = 0
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses")
      if seen then
         for code, n in pairs(seen) do counts[code] = (counts[code] or 0) + n end
      end
      cookies_set = cookies_set + (thread:get("set_cookie") or 0)
   end
   local parts = {}
   for code, n in pairs(counts) do
      table.insert(parts, string.format('"%d":%d', code, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"timeouts":%d,"set_cookie":%d,"statuses":{%s}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write,
      e.timeout, cookies_set, table.concat(parts, ",")))
end
