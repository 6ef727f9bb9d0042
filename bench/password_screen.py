"""What the common-password list costs: load time, memory, lookup, against argon2. Prints them.

Both hold the entries the length rule lets through (as the server does). Compares the shipped frozenset with a sorted blob searched by bisect (the memory-lean
alternative), and times the whole password rule for a listed and an unlisted password, since
the rule runs before any account is read and must not tell one from the other by much.
Each structure is measured in a fresh subprocess so one's memory does not hide the other's.

    .venv/bin/python bench/password_screen.py
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import timeit

from domain.user import MIN_PASSWORD_LENGTH

MEASURE = textwrap.dedent(
    """
    import bisect, gc, gzip, time
    from array import array
    from infrastructure.passwords.common_list import LIST_FILE, CommonPasswordList

    def rss_kib():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    class SortedBlob:
        def __init__(self, entries):
            self.blob = "\\n".join(entries)
            self.starts = array("I", [0])
            for entry in entries[:-1]:
                self.starts.append(self.starts[-1] + len(entry) + 1)

        def entry(self, i):
            end = self.blob.find("\\n", self.starts[i])
            return self.blob[self.starts[i] : end if end >= 0 else len(self.blob)]

        def is_listed(self, password):
            lo, hi = 0, len(self.starts)
            while lo < hi:
                mid = (lo + hi) // 2
                if self.entry(mid) < password:
                    lo = mid + 1
                else:
                    hi = mid
            return lo < len(self.starts) and self.entry(lo) == password

    gc.collect()
    before = rss_kib()
    started = time.perf_counter()
    if KIND == "set":
        screen = CommonPasswordList.load(MIN)
    else:
        with gzip.open(LIST_FILE, "rt", encoding="utf-8") as lines:
            screen = SortedBlob(sorted(e for e in lines.read().split("\\n") if len(e) >= MIN))
    loaded = time.perf_counter() - started
    gc.collect()
    after = rss_kib()
    import timeit
    hit = min(timeit.repeat(lambda: screen.is_listed("qwertyuiop"), number=20000, repeat=5)) / 20000
    miss = min(timeit.repeat(lambda: screen.is_listed("violet kettle on the roof"), number=20000, repeat=5)) / 20000
    print(f"{KIND:5} load {loaded * 1000:6.1f} ms  RSS +{(after - before) / 1024:5.1f} MiB  "
          f"lookup hit {hit * 1e6:5.2f} us  miss {miss * 1e6:5.2f} us")
    """
)


def main() -> None:
    for kind in ("set", "blob"):
        subprocess.run([sys.executable, "-c", f"KIND, MIN = {kind!r}, {MIN_PASSWORD_LENGTH}\n" + MEASURE], check=True)

    from argon2 import PasswordHasher

    from domain.passwords import PasswordRules
    from infrastructure.passwords.common_list import CommonPasswordList

    rules = PasswordRules(CommonPasswordList.load(MIN_PASSWORD_LENGTH))

    def rule(password: str) -> None:
        try:
            rules.check(password, "password", "jane.doe@example.com")
        except Exception:
            pass

    listed, unlisted = "qwertyuiop", "violet kettle on the roof"
    times = {}
    for _ in range(5):  # interleaved, so noise hits both alike
        for name, password in (("listed", listed), ("unlisted", unlisted)):
            took = min(timeit.repeat(lambda: rule(password), number=5000, repeat=3)) / 5000
            times[name] = min(times.get(name, took), took)
    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    argon2 = min(timeit.repeat(lambda: hasher.hash(unlisted), number=5, repeat=3)) / 5
    print(f"whole rule: listed {times['listed'] * 1e6:.1f} us, unlisted {times['unlisted'] * 1e6:.1f} us "
          f"(difference {abs(times['listed'] - times['unlisted']) * 1e6:.1f} us); "
          f"argon2 hash with esauth's defaults {argon2 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
