"""A throwaway certificate authority and a server certificate for loopback, written as PEM files.

Usage::

    from tests.tools.tls import make_test_ca

    ca = make_test_ca(tmp_path / "tls")        # a fresh CA and a cert for 127.0.0.1 and localhost
    ca.ca_cert          # Path: the CA certificate, what a client trusts (ESAUTH_ES_CA_CERTS)
    ca.server_chain     # Path: server cert then CA cert, what a server presents (nginx ssl_certificate)
    ca.server_key       # Path: the server's private key (nginx ssl_certificate_key)
    ca.ca_fingerprint   # the CA's SHA-256 fingerprint, lowercase hex as Elasticsearch 8 prints it
    ca.server_fingerprint  # the same for the server's own (leaf) certificate

    other = make_test_ca(tmp_path / "other")   # an unrelated CA: the "wrong CA" of a test
    sha256_fingerprint(path_or_pem, colons=True)   # "AB:CD:..." for any PEM certificate

The chain holds the CA certificate after the server's, as Elasticsearch's own HTTP certificate
does, so a client pinning the CA's fingerprint (what ES 8 prints at first start) finds it.

Built on trustme (the test-CA library of the Python TLS world, on `cryptography`): it makes keys,
serials, validity and subjectAltName extensions right, which a hand-written openssl call sequence
would have to repeat. The fingerprint needs only the standard library.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class CertificateFiles:
    """PEM files of one test CA and the server certificate it issued."""

    ca_cert: Path
    server_chain: Path
    server_key: Path
    ca_fingerprint: str
    server_fingerprint: str


def make_test_ca(directory: Path, names: tuple[str, ...] = LOOPBACK_NAMES) -> CertificateFiles:
    """Write a new CA and a server certificate for `names` (IPs or DNS names) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="esauth tests")
    server = ca.issue_cert(*names)
    ca_pem = ca.cert_pem.bytes()
    files = CertificateFiles(
        ca_cert=directory / "ca.pem",
        server_chain=directory / "server-chain.pem",
        server_key=directory / "server-key.pem",
        ca_fingerprint=sha256_fingerprint(ca_pem),
        server_fingerprint=sha256_fingerprint(server.cert_chain_pems[0].bytes()),
    )
    files.ca_cert.write_bytes(ca_pem)
    files.server_chain.write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems) + ca_pem)
    server.private_key_pem.write_to_path(str(files.server_key))
    files.server_key.chmod(0o600)
    return files


def sha256_fingerprint(certificate: Path | str | bytes, colons: bool = False) -> str:
    """The SHA-256 of the first certificate's DER form: lowercase hex, or "AB:CD:..." with colons.

    `certificate` is a PEM file's path, or PEM text itself.
    """
    if isinstance(certificate, Path):
        certificate = certificate.read_bytes()
    pem = certificate.decode("ascii") if isinstance(certificate, bytes) else certificate
    end = "-----END CERTIFICATE-----"
    first = pem[: pem.index(end) + len(end)]
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()
    if colons:
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()
    return digest
