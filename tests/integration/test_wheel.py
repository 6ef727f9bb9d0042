"""The package as users get it: a wheel built from the tree, installed into a fresh venv, runs.

Real pip and PyPI (or pip's cache of them), so it takes tens of seconds the first time on a
machine and a few after; every step has a timeout so a stuck network fails instead of hanging.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT_S = 300
PACKAGES = {"domain", "ports", "infrastructure", "entrypoints"}
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")


def run(*argv: str | Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(arg) for arg in argv], capture_output=True, text=True, timeout=STEP_TIMEOUT_S, **kwargs)
    assert done.returncode == 0, f"{argv} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    return done


def test_the_wheel_holds_only_the_four_layers_and_installs_into_a_fresh_venv(tmp_path: Path) -> None:
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the work tree
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SOURCE)
    run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", source)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == f"esauth-{version}-py3-none-any.whl"

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == PACKAGES | {f"esauth-{version}.dist-info"}, tops
    assert "entrypoints/cli.py" in names
    for data in ("entrypoints/ui/templates/base.html", "entrypoints/ui/static/esauth.css"):
        assert data in names, data  # the hosted pages' templates and style sheet (package-data)
    assert f"esauth-{version}.dist-info/licenses/LICENSE" in names
    for data in ("common-passwords.txt.gz", "README.md", "LICENSE"):  # the list, its source and licence
        assert f"infrastructure/passwords/{data}" in names
    for layer in PACKAGES:  # subpackages come along, whatever a layer grows
        on_disk = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / layer).rglob("*.py")}
        assert on_disk <= set(names), on_disk - set(names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", wheel)
    assert run(venv / "bin" / "esauth", "--version").stdout.strip() == f"esauth {version}"
    initialised = run(venv / "bin" / "esauth", "init", env={"ESAUTH_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
                      cwd=tmp_path)  # away from the tree, so only the installed package can answer
    assert "SQLite database" in initialised.stdout and "created" in initialised.stdout
