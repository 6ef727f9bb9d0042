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
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from entrypoints.cli import main
from tests.e2e.harness import REPO_ROOT, START_TIMEOUT_S, StartServer, esauth_command, random_secret_key
from tests.e2e.seed_session import run_seed_session
from tests.tools.nginx import Nginx, run_nginx
from tests.tools.ports import LOOPBACK, free_port
from tests.tools.tls import CertificateFiles, make_test_ca

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
def secured_proxy(osmem_url: str, certs: CertificateFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """The Elasticsearch-compatible server (elasticsearch-py's path), secured; its access log
    holds every request esauth made to it."""
    with guarded(osmem_url, certs, tmp_path_factory.mktemp("nginx")) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def secured_url(secured_proxy: Nginx) -> str:
    return https_url(secured_proxy)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secured_url: str, es_index: str) -> pytest.MonkeyPatch:
    """The environment of an `esauth` command aimed at the secured cluster, credentials to be added."""
    for name in [n for n in os.environ if n.startswith("ESAUTH_")]:
        monkeypatch.delenv(name)
    for name, value in {
        "ESAUTH_DATA_DIR": str(tmp_path / "data"),
        "ESAUTH_SECRET_KEY": random_secret_key(),
        "ESAUTH_ELASTICSEARCH_URL": secured_url,
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


@pytest.mark.parametrize("which", ["ca_fingerprint", "server_fingerprint"])
def test_the_right_fingerprint_is_trusted_without_a_ca_file(capsys, env, certs, which):
    """ES 8 prints its CA's fingerprint at first start; the node certificate's works too."""
    fingerprint = getattr(certs, which)
    with_colons = ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    code, _, err = init(capsys, env, ssl_fingerprint=with_colons, api_key=API_KEY)
    assert (code, err) == (0, "")


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
    line = refused(init(capsys, env, ssl_fingerprint=stranger.ca_fingerprint, api_key=API_KEY))
    assert line.startswith("ESAUTH_ES_SSL_FINGERPRINT: the server's certificates do not match it")


def test_https_to_a_plain_http_port_names_the_url(capsys, env, osmem_url):
    env.setenv("ESAUTH_ELASTICSEARCH_URL", osmem_url.replace("http://", "https://"))
    line = refused(init(capsys, env, api_key=API_KEY))
    assert line.startswith("ESAUTH_ELASTICSEARCH_URL: the TLS handshake failed (")


def test_verification_off_works_and_is_warned_about(tmp_path, secured_url, es_index):
    result = run_esauth(tmp_path, "init", ESAUTH_ELASTICSEARCH_URL=secured_url, ESAUTH_ES_INDEX=es_index,
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


def test_serve_works_through_tls_and_an_api_key(start_server: StartServer, secured_url, certs, es_index):
    server = start_server(
        ESAUTH_ELASTICSEARCH_URL=secured_url, ESAUTH_ES_INDEX=es_index,
        ESAUTH_ES_CA_CERTS=str(certs.ca_cert), ESAUTH_ES_API_KEY=API_KEY,
    )
    client = server.client()
    credentials = {"email_address": "tls@example.com", "password": "correct horse battery"}
    assert client.post("/v1/users/new", credentials).status == 200
    assert client.post("/v1/auth/login", credentials).status == 200
    assert client.get("/v1/test").json["data"]["user"]["email_address"] == "tls@example.com"


ROLE_CALLS = [
    # (methods, path below the index or None for the root, privilege) as the README's table says
    ("GET", None, "cluster:monitor"),
    ("HEAD", "", "view_index_metadata"),
    ("PUT", "", "create_index"),
    ("PUT", "/_mapping", "manage"),
    ("GET", "/_doc/[^/]+", "read"),
    ("GET POST", "/_search", "read"),
    ("PUT POST", "/_(doc|create)/[^/]+", "index"),
    ("DELETE", "/_doc/[^/]+", "delete"),
    ("POST", "/_delete_by_query", "delete read"),
]


def readme_es_role() -> dict:
    """The role JSON of the README's "A secured Elasticsearch 8 or 9" section."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("### A secured Elasticsearch 8 or 9"):]
    return json.loads(section[section.index("```json") + len("```json"): section.index("```", section.index("```json") + 3)])


def privileges_needed(request_line: str, role_names: list[str]) -> set[str]:
    method, target, _ = request_line.split(" ")
    path = urlsplit(target).path
    index, _, rest = path.lstrip("/").partition("/")
    rest = "/" + rest if rest else ""
    for methods, below, privileges in ROLE_CALLS:
        if method not in methods.split():
            continue
        if below is None and path == "/":
            return set(privileges.split())
        if below is not None and index and re.fullmatch(below, rest):
            assert any(fnmatch.fnmatchcase(index, name) for name in role_names), f"{index} is outside the role's names"
            return set(privileges.split())
    raise AssertionError(f"esauth sent {request_line!r}, which the README's role table does not cover")


def test_every_request_esauth_sent_is_covered_by_the_readme_role(tmp_path, secured_proxy, start_server, secured_url, certs, es_index):
    """After a session that signs up, logs in, searches as admin and logs out, through the proxy."""
    server = start_server(
        ESAUTH_ELASTICSEARCH_URL=secured_url, ESAUTH_ES_INDEX=es_index, ESAUTH_ES_CA_CERTS=str(certs.ca_cert),
        ESAUTH_ES_API_KEY=API_KEY,
    )
    run_seed_session(server, store="elasticsearch")
    again = run_esauth(tmp_path, "init", ESAUTH_ELASTICSEARCH_URL=secured_url, ESAUTH_ES_INDEX=es_index,
                       ESAUTH_ES_CA_CERTS=str(certs.ca_cert), ESAUTH_ES_API_KEY=API_KEY)
    assert again.returncode == 0, again.stderr  # an existing index: its mapping is updated, users backfilled
    role = readme_es_role()
    granted = {f"cluster:{name}" for name in role["cluster"]} | set(role["indices"][0]["privileges"])
    names = [name.replace("esauth-users", es_index) for name in role["indices"][0]["names"]]  # ESAUTH_ES_INDEX's
    logged = re.findall(r'"([A-Z]+ \S+ HTTP/1\.1)"', (secured_proxy.workdir / "access.log").read_text())
    lines = [line for line in logged if line.split(" ")[1] == "/" or line.split(" ")[1].startswith(f"/{es_index}")]
    assert len(lines) > 10 and any(f"/{es_index}-login-failures/_doc/" in line for line in lines)
    for line in lines:
        assert privileges_needed(line, names) <= granted, line


def test_serve_with_a_wrong_password_exits_2_with_one_line(tmp_path, secured_url, certs, es_index):
    result = run_esauth(
        tmp_path, "serve", "--port", str(free_port()), ESAUTH_ELASTICSEARCH_URL=secured_url, ESAUTH_ES_INDEX=es_index,
        ESAUTH_ES_CA_CERTS=str(certs.ca_cert), ESAUTH_ES_USERNAME=USER, ESAUTH_ES_PASSWORD="wrong-password",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "esauth: configuration error: ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD: the cluster refused these credentials (401)"
    )
    assert "Traceback" not in result.stderr and "wrong-password" not in result.stderr


# --------------------------------------------------------------------------------------------
# opensearch-py in front of the real OpenSearch node


@pytest.fixture(scope="module")
def secured_opensearch(opensearch_node: str, certs: CertificateFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with guarded(opensearch_node, certs, tmp_path_factory.mktemp("nginx-opensearch")) as nginx:
        yield https_url(nginx)


def opensearch_check(url: str, **settings) -> str | None:
    """Run the start-up check with opensearch-py; the setting it names, or None when it passed
    (and then a real request was made through the proxy)."""
    from opensearchpy import OpenSearch

    from infrastructure.search_engine.connection import (
        AccessProblem,
        ClusterAccess,
        check_opensearch_access,
        opensearch_options,
    )

    access = ClusterAccess(url=url, **settings)
    client = OpenSearch(hosts=[url], max_retries=0, **opensearch_options(access))
    try:
        check_opensearch_access(client, access)
        assert client.info()["version"]["distribution"] == "opensearch"
        return None
    except AccessProblem as problem:
        assert "\n" not in problem.reason
        return problem.setting
    finally:
        client.close()


def test_opensearch_with_the_right_ca_and_password_or_key(secured_opensearch, certs):
    assert opensearch_check(secured_opensearch, ca_certs=certs.ca_cert, username=USER, password=PASSWORD) is None
    key = base64.b64encode(API_KEY.encode()).decode()
    assert opensearch_check(secured_opensearch, ca_certs=certs.ca_cert, api_key=key) is None


def test_opensearch_pins_the_node_certificate_fingerprint(secured_opensearch, certs):
    """urllib3 under opensearch-py checks the node's own certificate, not the chain's CA."""
    pinned = dict(username=USER, password=PASSWORD)
    assert opensearch_check(secured_opensearch, ssl_fingerprint=certs.server_fingerprint, **pinned) is None
    assert opensearch_check(secured_opensearch, ssl_fingerprint=certs.ca_fingerprint, **pinned) == "ssl_fingerprint"


def test_opensearch_refusals_name_the_setting(secured_opensearch, certs, stranger):
    right = dict(ca_certs=certs.ca_cert)
    assert opensearch_check(secured_opensearch, ca_certs=stranger.ca_cert, username=USER, password=PASSWORD) == "ca_certs"
    assert opensearch_check(secured_opensearch, username=USER, password=PASSWORD) == "ca_certs"
    assert opensearch_check(secured_opensearch, **right, username=USER, password="wrong-password") == "username"
    assert opensearch_check(secured_opensearch, **right) == "credential"
    assert opensearch_check(secured_opensearch, **right, username=READER, password=READER_PASSWORD) == "username"
