-- POST /v1/users with a new address on every request: the run's nonce, the wrk thread id and
-- a per-thread counter, so addresses never repeat within or across runs.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local opts, k

function init(args)
   opts = parse_args(args)
   assert(opts.password, "password= is required")
   k = 0
end

function request()
   k = k + 1
   local email = string.format("new-%s-%d-%d@bench.example.com", opts.nonce or "x", id, k)
   local body = string.format(
      '{"email_address":"%s","password":"%s","first_name":"Bench","last_name":"User"}',
      email, opts.password)
   return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
