"""bench/esauth_bench/report: the verdicts BENCHMARKS.md states, and the blocks `make bench`'s two
runs (one process, then one worker per core) each rewrite without touching the other's."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from esauth_bench import report  # noqa: E402
from esauth_bench.results import Results, Row, Run  # noqa: E402


def run(rps: float, p99_ms: float = 10.0, rss: float = 60.0) -> Run:
    return Run(rps, 1.0, p99_ms, 0, rss)


def results(workers: int, test_rps: float, test_p99: float = 10.0) -> Results:
    out = Results()
    out.workers = workers
    for conns in (16, 64):
        out.add(Row(f"bare-t8-c{conns}", "bare Falcon GET (baseline)", "—", 8, conns, [run(1000.0)]))
        out.add(Row(f"test-sqlite-t8-c{conns}", "GET /v1/test", "sqlite", 8, conns, [run(test_rps, test_p99)]))
    return out


def verdicts(out: Results) -> dict[int | None, str]:
    report.evaluate(out)
    return {row.conns: row.verdict for key, row in out.rows.items() if key.startswith("test-")}


def test_one_process_needs_three_quarters_of_bare_falcon_and_judges_p99_at_64_only() -> None:
    assert verdicts(results(1, 800.0, test_p99=25.0)) == {16: "met", 64: "MISSED"}
    assert verdicts(results(1, 800.0)) == {16: "met", 64: "met"}


def test_n_workers_need_085_of_bare_falcon_and_p99_within_2x_at_every_count() -> None:
    assert verdicts(results(2, 800.0)) == {16: "MISSED", 64: "MISSED"}
    assert verdicts(results(2, 900.0)) == {16: "met", 64: "met"}
    assert verdicts(results(2, 900.0, test_p99=25.0)) == {16: "MISSED", 64: "MISSED"}


def test_replayed_stale_cookies_are_read_against_the_same_sessions_fresh_ones() -> None:
    out = results(1, 800.0)
    out.add(Row("stale-sqlite-t8-c16", "GET /v1/test, stale cookies replayed", "sqlite", 8, 16, [run(770.0)]))
    out.add(Row("stale-sqlite-t8-c64", "GET /v1/test, stale cookies replayed", "sqlite", 8, 64, [run(740.0)]))
    report.evaluate(out)
    stale = out.rows["stale-sqlite-t8-c16"], out.rows["stale-sqlite-t8-c64"]
    assert [row.verdict for row in stale] == ["met", "MISSED"]  # 0.96 and 0.93 of the fresh 800 req/s
    assert "0.93×" in stale[1].target and stale[1].ratio == 0.74  # still read against bare Falcon too


def test_the_login_memory_limit_is_what_one_workers_hashing_pool_can_hold(monkeypatch) -> None:
    monkeypatch.setattr(report, "cores_available", lambda: 2)
    for workers, limit in ((1, 2 * 19 + 80), (2, 19 + 80)):
        out = Results()
        out.workers = workers
        out.add(Row("argon2-verify-t8", "raw argon2 verify", "in-process", 2, None, [run(90.0)]))
        row = out.add(Row("login-sqlite-t8-c64", "login", "sqlite", 8, 64, [run(88.0, rss=limit + 1)]))
        report.evaluate(out)
        assert f"RSS ≤{limit} MiB" in row.target and row.verdict == "MISSED"


def test_each_worker_count_rewrites_only_its_own_block(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    report.write_report(path, "one process, first")
    path.write_text(path.read_text() + "\nhand-written notes\n")
    report.write_report(path, "two workers, first", workers=2)
    report.write_report(path, "one process, second")
    report.write_report(path, "two workers, second", workers=2)
    text = path.read_text()
    assert "first" not in text
    assert text.index("one process, second") < text.index("two workers, second") < text.index("hand-written notes")
    assert text.count("<!-- bench:begin workers=2") == 1 and text.count("<!-- bench:end -->") == 1


def test_a_named_block_sits_beside_the_worker_counts_blocks(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    report.write_report(path, "one process")
    report.write_report(path, "growth, first", block="growth")
    report.write_report(path, "growth, second", block="growth")
    text = path.read_text()
    assert "one process" in text and "growth, first" not in text and text.count("<!-- bench:begin growth") == 1
