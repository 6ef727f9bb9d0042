"""The scenario families, one module each, all run against esauth on one store (store_suite.py):

- cookie_check: GET /v1/test with 16 sessions in turn, with 10,000 distinct sessions in turn, and
  with the session cache off;
- forward_auth: GET /v1/auth/verify with the same sessions, read against GET /v1/test;
- behind_nginx: those through deploy/nginx's config, and an auth_request-protected app, against
  bare Falcon behind the same nginx;
- metrics: GET /v1/test with /metrics off, on, and on and scraped, in turns;
- login: the right password and an unknown email, measured in turns;
- signup: POST /v1/users with a new address per request;
- large_store: the store grown to each of --users, then the cookie check and login again;
- peers: the peer stacks, each in its own venv (run once per run, not per store).

Row keys are `[growth<users>-]<kind>-<store>-t<threads>-c<conns>` (kinds: test, sessions,
uncached, verify, verifysessions, metricsoff, metricson, scraped, login, unknown, signup,
nginxtest, nginxsessions, nginxverifysessions, nginxapp; and nginxbare-t-c, peerverify-<peer>-t,
peersessions/peerlogin-<peer>.<deployment>-t-c); report.evaluate gives each kind its baseline and
target.
"""
