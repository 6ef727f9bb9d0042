"""The scenario families, one module each, all run against esauth on one store (store_suite.py):

- cookie_check: GET /v1/test with 16 sessions in turn, with 10,000 distinct sessions in turn, and
  with the session cache off;
- forward_auth: GET /v1/auth/verify with the same sessions, read against GET /v1/test;
- metrics: GET /v1/test with /metrics off, on, and on and scraped, in turns;
- login: the right password and an unknown email, measured in turns;
- signup: POST /v1/users with a new address per request;
- large_store: 100,000 more users written into the store, then the cookie check and login again.

Row keys are `[growth-]<kind>-<store>-t<threads>-c<conns>` (kinds: test, sessions, uncached,
verify, verifysessions, metricsoff, metricson, scraped, login, unknown, signup); report.evaluate gives each kind its baseline and target.
"""
