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
    forged = forge_chain(ca, tmp_path / "mitm")  # a man in the middle's chain (below)
    sha256_fingerprint(path_or_pem, colons=True)   # "AB:CD:..." for any PEM certificate

The chain holds the CA certificate after the server's, as Elasticsearch's own HTTP certificate
does, so a client pinning the CA's fingerprint (what ES 8 prints at first start) sees it there
(and esauth refuses that pin: see forge_chain).

forge_chain(real) is the attack on a pin that any certificate of an unverified chain may match: a
forged CA with the real CA's subject and subjectKeyIdentifier (but its own key), a leaf for the
same names signed by it, served as forged leaf + the REAL CA certificate (public, so anyone has
it). Its server_fingerprint is the forged leaf's; its ca_fingerprint is the real CA's.

Built on trustme (the test-CA library of the Python TLS world, on `cryptography`): it makes keys,
serials, validity and subjectAltName extensions right, which a hand-written openssl call sequence
would have to repeat. The fingerprint needs only the standard library.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

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


def forge_chain(real: CertificateFiles, directory: Path, names: tuple[str, ...] = LOOPBACK_NAMES) -> CertificateFiles:
    """A man in the middle's files for `names`: a leaf signed by a look-alike of `real`'s CA (same
    subject, same subjectKeyIdentifier, another key), served followed by `real`'s CA certificate.
    Built with `cryptography` directly, as trustme derives a CA's identifiers from its own key."""
    directory.mkdir(parents=True, exist_ok=True)
    real_pem = real.ca_cert.read_bytes()
    real_ca = x509.load_pem_x509_certificate(real_pem)
    skid = real_ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    now = datetime.datetime.now(datetime.timezone.utc)
    forged_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(real_ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1)))

    forged_ca = (certificate(real_ca.subject, forged_key)
                 .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                 .add_extension(skid, critical=False)
                 .sign(forged_key, hashes.SHA256()))
    leaf = (certificate(x509.Name([]), leaf_key)
            .add_extension(x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier(skid.digest, None, None), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(forged_key, hashes.SHA256()))
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM)
    files = CertificateFiles(
        ca_cert=directory / "forged-ca.pem",
        server_chain=directory / "forged-chain.pem",
        server_key=directory / "forged-key.pem",
        ca_fingerprint=real.ca_fingerprint,
        server_fingerprint=sha256_fingerprint(leaf_pem),
    )
    files.ca_cert.write_bytes(forged_ca.public_bytes(serialization.Encoding.PEM))
    files.server_chain.write_bytes(leaf_pem + real_pem)
    files.server_key.write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    files.server_key.chmod(0o600)
    return files


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


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
