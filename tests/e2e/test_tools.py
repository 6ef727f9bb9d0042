"""The test tools themselves: a test CA's certificate served by a real nginx, and nginx's lifecycle."""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl

import pytest

from tests.tools.nginx import NginxError, run_nginx
from tests.tools.ports import LOOPBACK, free_port
from tests.tools.tls import make_test_ca, sha256_fingerprint


def https_get(host: str, port: int, context: ssl.SSLContext) -> tuple[int, bytes, bytes]:
    """Status, body and the DER certificate the server presented."""
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=5)
    try:
        connection.request("GET", "/")
        with connection.getresponse() as answer:
            return answer.status, answer.read(), connection.sock.getpeercert(binary_form=True)
    finally:
        connection.close()


def test_nginx_serves_tls_that_only_the_test_ca_verifies(tmp_path):
    certs = make_test_ca(tmp_path / "ca")
    stranger = make_test_ca(tmp_path / "stranger")
    port = free_port()
    block = f"""
        server {{
            listen {LOOPBACK}:{port} ssl;
            ssl_certificate {certs.server_chain};
            ssl_certificate_key {certs.server_key};
            location / {{ return 200 "hello"; }}
        }}
    """
    with run_nginx(block, ports=[port], workdir=tmp_path / "nginx") as nginx:
        trusting = ssl.create_default_context(cafile=str(certs.ca_cert))
        for host in ("127.0.0.1", "localhost"):
            status, body, der = https_get(host, port, trusting)
            assert (status, body) == (200, b"hello")
            assert hashlib.sha256(der).hexdigest() == certs.server_fingerprint
        with pytest.raises(ssl.SSLCertVerificationError):
            https_get(LOOPBACK, port, ssl.create_default_context(cafile=str(stranger.ca_cert)))
    assert nginx.process.returncode is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((LOOPBACK, port), timeout=1).close()


def test_fingerprints_are_of_the_first_certificate_with_or_without_colons(tmp_path):
    certs = make_test_ca(tmp_path)
    assert sha256_fingerprint(certs.ca_cert) == certs.ca_fingerprint
    assert sha256_fingerprint(certs.server_chain) == certs.server_fingerprint != certs.ca_fingerprint
    with_colons = sha256_fingerprint(certs.ca_cert, colons=True)
    assert with_colons.replace(":", "").lower() == certs.ca_fingerprint and len(with_colons) == 95


def test_a_config_nginx_refuses_fails_with_nginx_own_words(tmp_path):
    with pytest.raises(NginxError, match="unknown directive"):
        with run_nginx("no_such_directive on;", ports=[free_port()], workdir=tmp_path):
            pass
