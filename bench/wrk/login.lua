-- POST /v1/auth/login with a JSON body.
--   mode=ok emails=FILE password=P threads=N : registered users of FILE, round-robin; thread i
--     takes lines i, i+N, i+2N, ... so no two threads send the same user at once.
--   mode=unknown password=P nonce=S : a never-registered address on every request.
--   form=FIELD : a form body (FIELD=<email>&password=P, application/x-www-form-urlencoded) instead
--     of JSON, for a peer whose login is a form (fastapi-users' OAuth2 password form: form=username).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local opts, emails, nthreads, k

function init(args)
   opts = parse_args(args)
   assert(opts.password, "password= is required")
   nthreads = tonumber(opts.threads or "1")
   if opts.mode == "ok" then
      emails = read_lines(opts.emails)
   else
      assert(opts.mode == "unknown", "mode= must be ok or unknown")
   end
   k = id
end

function request()
   local email
   if emails then
      email = emails[(k % #emails) + 1]
      k = k + nthreads
   else
      email = string.format("nobody-%s-%d-%d@bench.example.com", opts.nonce or "x", id, k)
      k = k + 1
   end
   if opts.form then
      local body = string.format("%s=%s&password=%s", opts.form, email:gsub("@", "%%40"), opts.password)
      return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
   end
   local body = string.format('{"email_address":"%s","password":"%s"}', email, opts.password)
   return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
