"""`make bench`'s nginx deployment starts and answers: deploy/nginx as the bench serves it, in
front of `esauth serve` and of bare Falcon, with a minted live cookie, and one short wrk run
through it (bounded: seconds). The peers' venvs take a minute to build on a fresh machine, so
they are smoke-tested with `make bench BENCH_ARGS=...` instead (README, Benchmarks)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from esauth_bench import wrk  # noqa: E402
from esauth_bench.common import SEED_USERS  # noqa: E402
from esauth_bench.processes import Processes  # noqa: E402
from esauth_bench.scenarios.behind_nginx import APP_PATH, answers, front  # noqa: E402
from esauth_bench.seeding import LiveSessions, seed_directly  # noqa: E402
from esauth_bench.servers import esauth_env, start_bare_falcon, start_esauth  # noqa: E402


@pytest.fixture
def procs() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()


def test_the_bench_serves_esauth_and_bare_falcon_through_deploy_nginx(tmp_path: Path, procs: Processes) -> None:
    from domain.auth import new_session_id

    env = {**esauth_env(tmp_path / "data", workers=1), "ESAUTH_TRUSTED_PROXIES": "1"}
    esauth = start_esauth(procs, tmp_path, "sqlite", env, threads=2)
    bare = start_bare_falcon(procs, tmp_path, env, threads=2)
    ids = {SEED_USERS + k: new_session_id() for k in range(3)}
    seed_directly(env, SEED_USERS, len(ids), session_ids=lambda i: (ids[i],))
    cookies = LiveSessions(env, tmp_path, ids).file()
    with ExitStack() as stack:
        served = front(stack, tmp_path / "nginx-esauth", esauth, bare)
        bare_front = front(stack, tmp_path / "nginx-bare", bare, bare)
        cookie = cookies.read_text().splitlines()[0]
        for path in ("/v1/test", "/v1/auth/verify", APP_PATH):
            answers(served, path, cookie)  # 200 with the cookie, 401 without: else it raises
        binary, _ = wrk.find_wrk(None, may_install=True)
        argv, result = wrk.run(binary, 1, served.url + APP_PATH, "get.lua", 2, 1, [f"cookies={cookies}"])
        through_auth_request = wrk.figures(argv, result)
        argv, result = wrk.run(binary, 1, bare_front.url + "/v1/test", "get.lua", 2, 1, [])
        bare_behind_nginx = wrk.figures(argv, result)
    for figures in (through_auth_request, bare_behind_nginx):
        assert figures["requests"] > 0
        assert set(figures["statuses"]) == {"200"}
        assert figures["connect_errors"] + figures["read_errors"] + figures["timeouts"] == 0
