"""The esauth benchmark behind bench/run.py, one concern per module:

- common: paths, the seeded users' names, constants, BenchError;
- processes: starting and always stopping child processes, reading their logs;
- measure: /proc readings (CPU, RSS), the load meter for a shared machine, waiting for idle;
- wrk: finding or installing wrk, running one Lua script (bench/wrk/), reading its BENCHJSON;
- results: Run (one wrk run), Row (a figure: runs and their medians), Results;
- loopback: plain HTTP calls and free ports on 127.0.0.1;
- stores: one starter per user store (SQLite, osmem, a real OpenSearch node); a new store is one
  entry in STARTERS;
- servers: `esauth serve` and the bare-Falcon app under the same waitress settings;
- seeding: users over HTTP or straight into the store; live sessions' cookies, minted afresh;
- runner: Bench, how one figure is measured (warm-up, runs, re-runs when disturbed, in turns);
- baselines: raw argon2 hash and verify, bare Falcon;
- prometheus: reading the server's /metrics (the session view's hits, the families served), and a
  scraper;
- peer_envs: the peer stacks (bench/peers/), their venvs (built with pip, cached) and deployments;
- scenarios/: the scenario families (cookie_check, forward_auth, behind_nginx, metrics, login,
  signup, large_store, peers);
- store_suite: every family on one store, in order;
- report: ratios, targets and verdicts, the tables, BENCHMARKS.md's generated block;
- cli: the flags and one whole run.
"""
