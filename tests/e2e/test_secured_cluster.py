"""A secured cluster for real: Debian's nginx with a test CA's certificate in front of the
Elasticsearch-compatible server (elasticsearch-py's path) and of the real OpenSearch node
(opensearch-py's path), requiring basic auth or an API key, as a secured cluster does.

Every refusal must be a one-line configuration error naming the setting to fix (exit 2), never
"not reachable" and never a traceback.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from entrypoints.cli import main
from tests.e2e.harness import REPO_ROOT, START_TIMEOUT_S, StartServer, esauth_command, random_secret_key
from tests.e2e.seed_session import run_seed_session
from tests.tools.nginx import Nginx, run_nginx
from tests.tools.ports import LOOPBACK, free_port
from tests.tools.tls import CertificateFiles, forge_chain, make_test_ca

pytestmark = pytest.mark.elasticsearch

USER, PASSWORD = "esauth", "right-password"
READER, READER_PASSWORD = "reader", "reader-password"
API_KEY = "guarded-id:guarded-key"
FORBIDDEN_BODY = '{"error":{"type":"security_exception","reason":"unauthorized"},"status":403}'


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def api_key_header(key: str) -> str:
    return "ApiKey " + base64.b64encode(key.encode()).decode()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return make_test_ca(tmp_path_factory.mktemp("cluster-ca"))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    """Another CA, which never signed the cluster's certificate."""
    return make_test_ca(tmp_path_factory.mktemp("stranger-ca"))


@contextmanager
def guarded(upstream_url: str, certs: CertificateFiles, workdir: Path) -> Iterator[Nginx]:
    """nginx on https://127.0.0.1:<port> in front of `upstream_url`: TLS with the test CA; the esauth user or
    API key may pass, the reader is known but forbidden (403), anyone else gets 401."""
    upstream = urlsplit(upstream_url)
    port = free_port()
    block = f"""
        map $http_authorization $cluster_access {{
            default                             deny;
            "{basic(USER, PASSWORD)}"           allow;
            "{api_key_header(API_KEY)}"         allow;
            "{basic(READER, READER_PASSWORD)}"  forbid;
        }}
        server {{
            listen {LOOPBACK}:{port} ssl;
            ssl_certificate     {certs.server_chain};
            ssl_certificate_key {certs.server_key};
            location / {{
                default_type application/json;
                if ($cluster_access = deny)   {{ return 401; }}
                if ($cluster_access = forbid) {{ return 403 '{FORBIDDEN_BODY}'; }}
                proxy_pass {upstream.scheme}://{upstream.netloc};
                proxy_http_version 1.1;
                proxy_set_header Connection "";
            }}
        }}
    """
    with run_nginx(block, ports=[port], workdir=workdir) as nginx:
        yield nginx


def https_url(nginx: Nginx) -> str:
    return f"https://{LOOPBACK}:{nginx.ports[0]}"


@pytest.fixture(scope="module")
def osmem_proxy(osmem_url: str, certs: CertificateFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """osmem (answering as Elasticsearch: elasticsearch-py's path), secured; its access log holds
    every request esauth made to it."""
    with guarded(osmem_url, certs, tmp_path_factory.mktemp("nginx-osmem")) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def opensearch_proxy(opensearch_node: str, certs: CertificateFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """The real OpenSearch node (opensearch-py's path), secured."""
    with guarded(opensearch_node, certs, tmp_path_factory.mktemp("nginx-opensearch")) as nginx:
        yield nginx


@dataclass(frozen=True)
class Secured:
    engine: str
    url: str
    upstream: str
    engine_setting: str
    """ESAUTH_ES_ENGINE: osmem's root answer names OpenSearch, so it is forced to elasticsearch; the
    real node is found by detection, whose probe then goes through TLS and the credentials too."""


@pytest.fixture(scope="module", params=["elasticsearch", "opensearch"])
def secured(request) -> Secured:
    """Each engine behind the guarded proxy: every test below runs with both client libraries."""
    if request.param == "elasticsearch":
        proxy, upstream, setting = "osmem_proxy", "osmem_url", "elasticsearch"
    else:
        proxy, upstream, setting = "opensearch_proxy", "opensearch_node", "auto"
    return Secured(
        request.param, https_url(request.getfixturevalue(proxy)), request.getfixturevalue(upstream), setting
    )


def cluster_env(secured: Secured, es_index: str) -> dict[str, str]:
    return {"ESAUTH_ELASTICSEARCH_URL": secured.url, "ESAUTH_ES_ENGINE": secured.engine_setting, "ESAUTH_ES_INDEX": es_index}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secured: Secured, es_index: str) -> pytest.MonkeyPatch:
    """The environment of an `esauth` command aimed at the secured cluster, credentials to be added."""
    for name in [n for n in os.environ if n.startswith("ESAUTH_")]:
        monkeypatch.delenv(name)
    for name, value in {
        "ESAUTH_DATA_DIR": str(tmp_path / "data"),
        "ESAUTH_SECRET_KEY": random_secret_key(),
        "ESAUTH_ELASTICSEARCH_URL": secured.url,
        "ESAUTH_ES_ENGINE": secured.engine_setting,
        "ESAUTH_ES_INDEX": es_index,
    }.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def init(capsys: pytest.CaptureFixture, env: pytest.MonkeyPatch, **settings: str) -> tuple[int, str, str]:
    for name, value in settings.items():
        env.setenv(f"ESAUTH_ES_{name.upper()}", value)
    code = main(["init"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_right_ca_and_password_let_init_create_the_indices(capsys, env, certs, es_index):
    code, out, err = init(capsys, env, ca_certs=str(certs.ca_cert), username=USER, password=PASSWORD)
    assert (code, err) == (0, "")
    assert f"index {es_index}: created" in out


def test_an_api_key_in_either_form_is_accepted(capsys, env, certs):
    assert init(capsys, env, ca_certs=str(certs.ca_cert), api_key=API_KEY)[0] == 0
    encoded = base64.b64encode(API_KEY.encode()).decode()
    assert init(capsys, env, ca_certs=str(certs.ca_cert), api_key=encoded)[0] == 0


def with_colons(fingerprint: str) -> str:
    return ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()


def test_the_node_fingerprint_is_trusted_without_a_ca_file(capsys, env, certs):
    result = init(capsys, env, ssl_fingerprint=with_colons(certs.server_fingerprint), api_key=API_KEY)
    assert result[0] == 0, result[2]


def test_a_ca_fingerprint_is_refused_with_the_ca_file_to_use_instead(capsys, env, certs):
    """What ES 8 prints at first start is its CA's fingerprint; with the chain unverified it
    proves nothing (the forged-chain test below), so it is refused on both clients."""
    line = refused(init(capsys, env, ssl_fingerprint=with_colons(certs.ca_fingerprint), api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_SSL_FINGERPRINT: it is the fingerprint of a CA certificate"), line
    assert "ESAUTH_ES_CA_CERTS" in line and "http_ca.crt" in line


@pytest.fixture(scope="module")
def mitm_proxy(osmem_url: str, certs: CertificateFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """A man in the middle in front of osmem: a forged leaf (its issuer looks like the real CA:
    subject and key identifier) followed by the real, public CA certificate."""
    forged = forge_chain(certs, tmp_path_factory.mktemp("mitm-certs"))
    with guarded(osmem_url, forged, tmp_path_factory.mktemp("nginx-mitm")) as nginx:
        yield nginx


def test_a_forged_leaf_before_the_real_ca_gets_no_request_with_a_ca_pin(capsys, env, secured, certs, mitm_proxy):
    """The attack on elastic-transport's any-certificate-of-the-chain match, through each client
    library (osmem answers both); the CA file sees through the forgery too."""
    env.setenv("ESAUTH_ELASTICSEARCH_URL", https_url(mitm_proxy))
    env.setenv("ESAUTH_ES_ENGINE", secured.engine)
    line = refused(init(capsys, env, ssl_fingerprint=certs.ca_fingerprint, api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_SSL_FINGERPRINT: it is the fingerprint of a CA certificate"), line
    line = refused(init(capsys, env, ssl_fingerprint="", ca_certs=str(certs.ca_cert), api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_CA_CERTS: the server's certificate does not verify against this CA"), line
    requests = re.findall(r'"[A-Z]+ \S+ HTTP/1\.1"', (mitm_proxy.workdir / "access.log").read_text())
    assert requests == [], "the man in the middle received requests (and the API key)"


def refused(result: tuple[int, str, str]) -> str:
    """The one line an operator reads, after checking it is a configuration error and only that."""
    code, _, err = result
    assert code == 2, err
    assert err.startswith("esauth: configuration error: ") and err.count("\n") == 1, err
    assert "not reachable" not in err and "Traceback" not in err
    return err.removeprefix("esauth: configuration error: ")


def run_esauth(tmp_path: Path, *argv: str, **settings: str) -> subprocess.CompletedProcess:
    """`esauth <argv>` as a process with these settings (and no ESAUTH_* of the test run's own)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ESAUTH_")}
    env.update(ESAUTH_DATA_DIR=str(tmp_path), ESAUTH_SECRET_KEY=random_secret_key(), **settings)
    return subprocess.run([*esauth_command(), *argv], env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S)


def test_a_wrong_ca_is_named(capsys, env, stranger):
    line = refused(init(capsys, env, ca_certs=str(stranger.ca_cert), api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_CA_CERTS: the server's certificate does not verify against this CA")
    assert "certificate verify failed" in line


def test_no_ca_for_a_private_ca_names_the_ca_setting(capsys, env):
    line = refused(init(capsys, env, api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_CA_CERTS: the server's certificate does not verify against the system's CAs")


def test_a_wrong_fingerprint_is_named(capsys, env, stranger):
    line = refused(init(capsys, env, ssl_fingerprint=stranger.server_fingerprint, api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_SSL_FINGERPRINT: the node's certificate does not match it (the node presented ")


def test_https_to_a_plain_http_port_names_the_url(capsys, env, secured):
    env.setenv("ESAUTH_ELASTICSEARCH_URL", secured.upstream.replace("http://", "https://"))
    line = refused(init(capsys, env, api_key=API_KEY))
    assert line.startswith("ESAUTH_ELASTICSEARCH_URL: the TLS handshake failed (")


def test_verification_off_works_and_is_warned_about(tmp_path, secured, es_index):
    result = run_esauth(tmp_path, "init", **cluster_env(secured, es_index),
                        ESAUTH_ES_VERIFY_CERTS="false", ESAUTH_ES_API_KEY=API_KEY)
    assert result.returncode == 0, result.stderr
    assert "ESAUTH_ES_VERIFY_CERTS is off" in result.stderr
    assert "InsecureRequestWarning" not in result.stderr  # said once, not at every request


def test_a_wrong_password_is_named(capsys, env, certs):
    line = refused(init(capsys, env, ca_certs=str(certs.ca_cert), username=USER, password="wrong-password"))
    assert line == "ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD: the cluster refused these credentials (401)\n"


def test_a_wrong_api_key_is_named(capsys, env, certs):
    line = refused(init(capsys, env, ca_certs=str(certs.ca_cert), api_key="guarded-id:wrong-key"))
    assert line == "ESAUTH_ES_API_KEY: the cluster refused these credentials (401)\n"


def test_a_missing_key_is_named(capsys, env, certs):
    line = refused(init(capsys, env, ca_certs=str(certs.ca_cert)))
    assert line == "ESAUTH_ES_API_KEY or ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD: the cluster requires credentials (401)\n"


def test_a_user_without_the_privileges_is_pointed_to_the_role(capsys, env, certs):
    line = refused(init(capsys, env, ca_certs=str(certs.ca_cert), username=READER, password=READER_PASSWORD))
    assert line.startswith("ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD: the cluster knows these credentials but refuses")
    assert "(403)" in line and "Running against your cluster" in line


def test_serve_works_through_tls_and_an_api_key(start_server: StartServer, secured, certs, es_index):
    server = start_server(
        **cluster_env(secured, es_index),
        ESAUTH_ES_CA_CERTS=str(certs.ca_cert), ESAUTH_ES_API_KEY=API_KEY,
    )
    client = server.client()
    credentials = {"email_address": "tls@example.com", "password": "correct horse battery"}
    assert client.post("/v1/users/new", credentials).status == 200
    assert client.post("/v1/auth/login", credentials).status == 200
    assert client.get("/v1/test").json["data"]["user"]["email_address"] == "tls@example.com"


ROLE_CALLS = [
    # (methods, path, privileges) as the README's table says; <i> is an index or alias name
    ("GET", r"/", "cluster:monitor"),
    ("GET", r"/_cluster/health/(?P<i>[^/]+)", "cluster:monitor"),
    ("HEAD", r"/(?P<i>[^/_][^/]*)", "view_index_metadata"),
    ("GET", r"/(?P<i>[^/_][^/]*)/_mapping", "view_index_metadata"),
    ("GET", r"/_alias/(?P<i>[^/]+)", "view_index_metadata"),
    ("PUT", r"/(?P<i>[^/_][^/]*)", "create_index"),
    ("PUT", r"/(?P<i>[^/_][^/]*)/_(mapping|settings)", "manage"),
    ("POST", r"/(?P<i>[^/_][^/]*)/_refresh", "manage"),
    ("POST", r"/_aliases", "manage"),
    ("DELETE", r"/(?P<i>[^/_][^/]*)", "manage"),
    ("POST", r"/_reindex", "read index"),
    ("GET", r"/(?P<i>[^/_][^/]*)/_doc/[^/]+", "read"),
    ("GET POST", r"/(?P<i>[^/_][^/]*)/_search", "read"),
    ("PUT POST", r"/(?P<i>[^/_][^/]*)/_(doc|create)/[^/]+", "index"),
    ("DELETE", r"/(?P<i>[^/_][^/]*)/_doc/[^/]+", "delete"),
    ("POST", r"/(?P<i>[^/_][^/]*)/_delete_by_query", "delete read"),
]


def readme_es_role() -> dict:
    """The role JSON of the README's "A secured Elasticsearch 8 or 9" section."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("### A secured Elasticsearch 8 or 9"):]
    return json.loads(section[section.index("```json") + len("```json"): section.index("```", section.index("```json") + 3)])


def privileges_needed(request_line: str, role_names: list[str]) -> set[str] | None:
    """What the README's table says the request needs; None for a call the table does not list."""
    method, target, _ = request_line.split(" ")
    path = urlsplit(target).path
    for methods, pattern, privileges in ROLE_CALLS:
        match = re.fullmatch(pattern, path)
        if method in methods.split() and match:
            for index in (match.groupdict().get("i") or "").split(","):
                assert not index or any(fnmatch.fnmatchcase(index, name) for name in role_names), f"{index} is outside the role"
            return set(privileges.split())
    return None


def test_every_request_esauth_sent_is_covered_by_the_readme_role(tmp_path, osmem_proxy, start_server, certs, es_index):
    """After a session that signs up, logs in, searches as admin and logs out, through the proxy."""
    osmem = cluster_env(Secured("elasticsearch", https_url(osmem_proxy), "", "elasticsearch"), es_index)
    server = start_server(
        **osmem, ESAUTH_ES_CA_CERTS=str(certs.ca_cert),
        ESAUTH_ES_API_KEY=API_KEY,
    )
    run_seed_session(server, store="elasticsearch")
    again = run_esauth(tmp_path, "init", **osmem,
                       ESAUTH_ES_CA_CERTS=str(certs.ca_cert), ESAUTH_ES_API_KEY=API_KEY)
    assert again.returncode == 0, again.stderr  # an existing index: its mapping is updated, users backfilled
    role = readme_es_role()
    granted = {f"cluster:{name}" for name in role["cluster"]} | set(role["indices"][0]["privileges"])
    # Every index of these tests is esauth-test-<hex>: the role's names as ESAUTH_ES_INDEX makes them.
    names = [name.replace("esauth-users", "esauth-test-*") for name in role["indices"][0]["names"]]
    lines = re.findall(r'"([A-Z]+ \S+ HTTP/1\.1)"', (osmem_proxy.workdir / "access.log").read_text())
    assert len(lines) > 10 and any(f"/{es_index}-login-failures/_doc/" in line for line in lines)
    needs = {line: privileges_needed(line, names) for line in lines}
    assert not [line for line, need in needs.items() if need is None], "calls the README's role table does not list"
    assert not [line for line, need in needs.items() if not need <= granted], "calls the README's role does not grant"


def test_serve_with_a_wrong_password_exits_2_with_one_line(tmp_path, secured, certs, es_index):
    result = run_esauth(
        tmp_path, "serve", "--port", str(free_port()), **cluster_env(secured, es_index),
        ESAUTH_ES_CA_CERTS=str(certs.ca_cert), ESAUTH_ES_USERNAME=USER, ESAUTH_ES_PASSWORD="wrong-password",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "esauth: configuration error: ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD: the cluster refused these credentials (401)"
    )
    assert "Traceback" not in result.stderr and "wrong-password" not in result.stderr
