-- GET the URL's path; with cookies=FILE, each request carries one `Cookie:` line of FILE.
-- threads=N: thread i takes lines i, i+N, i+2N, ... round-robin, so two threads never send the
-- same line at once and, with one line per user, each user comes back only after all the
-- others. Used for GET /v1/test and for the bare-Falcon baseline (no cookies).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local requests, k, step

function init(args)
   local opts = parse_args(args)
   step = tonumber(opts.threads or "1")
   requests = {}
   if opts.cookies then
      for _, cookie in ipairs(read_lines(opts.cookies)) do
         table.insert(requests, wrk.format("GET", nil, {["Cookie"] = cookie}))
      end
   else
      table.insert(requests, wrk.format("GET", nil, {}))
   end
   k = id
end

function request()
   local r = requests[(k % #requests) + 1]
   k = k + step
   return r
end
