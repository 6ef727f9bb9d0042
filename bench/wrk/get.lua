-- GET the URL's path; with cookies=FILE, each request carries one `Cookie:` line of FILE
-- (round-robin, each thread starting at its own offset). Used for GET /v1/test and for the
-- bare-Falcon baseline (no cookies).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local requests, k

function init(args)
   local opts = parse_args(args)
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
   k = k + 1
   return requests[(k % #requests) + 1]
end
