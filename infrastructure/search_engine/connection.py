"""How esauth reaches and logs in to a cluster, in each client library's own keyword arguments,
and the start-up check that tells a wrong certificate or credential from an outage.

TLS options are given per client, never through the process-wide trust store or SSL_CERT_FILE:
other HTTPS in the process (SMTP, the seed import) keeps the system's CAs.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from domain.errors import StoreAccessDenied, StoreUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class ClusterAccess:
    """Where the cluster is and how to trust it and log in; both settings of a pair never come alone
    (entrypoints.config checks the combinations)."""

    url: str | None = None
    cloud_id: str | None = None
    ca_certs: Path | None = None
    verify_certs: bool = True
    ssl_fingerprint: str | None = None
    """SHA-256, lowercase hex, of the node's own (leaf) certificate, on both clients. Never a CA's:
    with the chain unverified, a CA certificate is public and anyone can present it after a
    forged leaf (see leaf_pinning_context)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    """The encoded form: base64 of `id:api_key`."""

    @property
    def credential(self) -> str | None:
        """The field that logs in, for messages: api_key, username, or None."""
        return "api_key" if self.api_key else "username" if self.username else None


class AccessProblem(Exception):
    """The cluster answered, but not to these settings: `setting` is the ClusterAccess field to fix
    (or `credential` when none was given)."""

    def __init__(self, setting: str, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.setting = setting
        self.reason = reason
        self.status = status
        """401 or 403 when the cluster answered so; None for TLS."""


def tls_options(access: ClusterAccess) -> dict[str, Any]:
    """The TLS keyword arguments both clients take alike.

    A pinned fingerprint gets a context of the client's own that refuses the handshake unless the
    node's own (leaf) certificate matches: elastic-transport alone would accept ANY certificate of
    the unverified chain, so a forged leaf followed by the real (public) CA certificate would pass
    a CA pin, and opensearch-py's urllib3 connection would verify the chain against certifi first.
    The libraries' own fingerprint check stays on: it marks the connection verified (no urllib3
    warning)."""
    options: dict[str, Any] = {}
    if access.ca_certs:
        options["ca_certs"] = str(access.ca_certs)
    if not access.verify_certs:
        options["verify_certs"] = False
    if access.ssl_fingerprint:
        options["ssl_context"] = leaf_pinning_context(access.ssl_fingerprint)
        options["ssl_assert_fingerprint"] = access.ssl_fingerprint
    return options


def elasticsearch_options(access: ClusterAccess) -> dict[str, Any]:
    """Keyword arguments for `elasticsearch.Elasticsearch(...)` (the URL goes first, positionally)."""
    options = tls_options(access)
    if access.cloud_id:
        options["cloud_id"] = access.cloud_id
    if access.username:
        options["basic_auth"] = (access.username, access.password)
    if access.api_key:
        options["api_key"] = access.api_key
    return options


def opensearch_options(access: ClusterAccess) -> dict[str, Any]:
    """Keyword arguments for `opensearchpy.OpenSearch(hosts=[url], ...)`; https comes from the URL."""
    if access.cloud_id:
        raise AccessProblem("cloud_id", "a cloud id names an Elastic Cloud deployment; OpenSearch takes a URL")
    options = tls_options(access)
    if access.username:
        options["http_auth"] = (access.username, access.password)
    if access.api_key:
        # OpenSearch itself has no Elasticsearch-style API keys; a gateway in front may take one.
        options["headers"] = {"authorization": f"ApiKey {access.api_key}"}
    return options


class PinMismatch(ssl.SSLError):
    """The node's own certificate is not the pinned one; `reason` says what was presented."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _LeafPinnedSocket(ssl.SSLSocket):
    """Checks the pin during the handshake, before the client sends a byte (credentials included)."""

    pin: str

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        leaf = hashlib.sha256(self.getpeercert(binary_form=True) or b"").hexdigest()
        if hmac.compare_digest(leaf, self.pin):
            return
        if self.pin in _chain_fingerprints(self)[1:]:
            reason = (
                "it is the fingerprint of a CA certificate the server presented, not of the node's own; a CA "
                "fingerprint proves nothing without verifying the chain (anyone can present the public CA "
                "certificate after a forged one): give the CA file in ESAUTH_ES_CA_CERTS instead (ES 8 writes "
                "config/certs/http_ca.crt)"
            )
        else:
            reason = f"the node's certificate does not match it (the node presented {leaf})"
        raise PinMismatch(reason)


def _chain_fingerprints(sock: ssl.SSLSocket) -> list[str]:
    """SHA-256 of every certificate the server sent, leaf first; only to explain a refusal, so a
    Python without the (3.13 public, 3.10 private) chain API just explains less."""
    chain_of = getattr(sock, "get_unverified_chain", None) or getattr(sock._sslobj, "get_unverified_chain", None)
    try:
        chain = chain_of() if chain_of else []
        # 3.13's public API gives DER bytes; 3.10's private one Certificate objects, PEM by default.
        ders = [c if isinstance(c, bytes) else ssl.PEM_cert_to_DER_cert(c.public_bytes()) for c in chain]
        return [hashlib.sha256(der).hexdigest() for der in ders]
    except Exception:  # a private API: never let an explanation turn into a different failure
        return []


def leaf_pinning_context(fingerprint: str) -> ssl.SSLContext:
    """A context of the client's own that accepts exactly the node certificate whose SHA-256 is
    `fingerprint`: the chain is not verified (a pin replaces the CA), so nothing but the leaf is
    compared; the process-wide default context is left alone."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.sslsocket_class = type("LeafPinnedSocket", (_LeafPinnedSocket,), {"pin": fingerprint})
    return context


def quiet_unverified_requests() -> None:
    """With verification off by choice, urllib3 (under both clients) warns at every request, which
    under load floods the log; the composition root says it once instead. Only this warning is
    ignored: the libraries' own quiet switch (ssl_show_warn=False) silences every urllib3 warning."""
    from urllib3.exceptions import InsecureRequestWarning

    warnings.filterwarnings("ignore", category=InsecureRequestWarning)


def check_access(first_request: Callable[[], T], access: ClusterAccess) -> T:
    """Make the client's first request; when TLS or the cluster refused it, an AccessProblem
    naming the setting to fix.

    The clients (search_engine.client) turn every failure into StoreUnavailable, keeping the
    library's error as its cause; a TLS failure is read from there, a 401/403 from
    StoreAccessDenied. Anything else (refused connection, timeout, 5xx) propagates as it is: an
    outage, not a wrong setting.
    """
    try:
        return first_request()
    except StoreUnavailable as error:
        problem = access_problem(error, access)
        if problem is None:
            raise
        raise problem from None


def access_problem(error: StoreUnavailable, access: ClusterAccess) -> AccessProblem | None:
    if any(_is_tls(cause) for cause in causes(error)):
        return tls_problem(access, error)
    status = error.status if isinstance(error, StoreAccessDenied) else None
    if status == 401:
        if access.credential is None:
            return AccessProblem("credential", "the cluster requires credentials (401)", 401)
        return AccessProblem(access.credential, "the cluster refused these credentials (401)", 401)
    if status == 403:
        return AccessProblem(
            access.credential or "credential",
            "the cluster knows these credentials but refuses them this request (403): the role lacks a privilege",
            403,
        )
    return None


def tls_problem(access: ClusterAccess, error: BaseException) -> AccessProblem:
    pin = next((cause for cause in causes(error) if isinstance(cause, PinMismatch)), None)
    if pin is not None:
        return AccessProblem("ssl_fingerprint", pin.reason)
    reason = ssl_reason(error)
    if not reason.startswith(("certificate verify failed", "Fingerprints did not match")):
        # No certificate was judged: the handshake itself failed, as with https:// to a plain port.
        return AccessProblem("url", f"the TLS handshake failed ({reason}); does the cluster serve https there?")
    if access.ssl_fingerprint:
        return AccessProblem("ssl_fingerprint", f"the server's certificates do not match it ({reason})")
    if access.ca_certs:
        return AccessProblem("ca_certs", f"the server's certificate does not verify against this CA ({reason})")
    return AccessProblem("ca_certs", f"the server's certificate does not verify against the system's CAs ({reason})")


def ssl_reason(error: BaseException) -> str:
    """The innermost TLS complaint on one line ("certificate verify failed: ...", "Fingerprints did
    not match ..."), found along the causes the client libraries wrap it in."""
    found: BaseException = error
    for cause in causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {cause.verify_message}"
        if type(cause).__name__ == "SSLError":  # ssl's own, or urllib3's wrapper of a fingerprint check
            found = cause
    return " ".join(str(found).split())


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and every exception it wraps: causes, contexts, and the ones the libraries keep in
    `errors` (elastic-transport) or `args` (opensearch-py, urllib3), innermost last."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(e for e in getattr(current, "errors", ()) or () if isinstance(e, BaseException))
        pending.extend(e for e in current.args if isinstance(e, BaseException))


def _is_tls(error: BaseException) -> bool:
    return isinstance(error, ssl.SSLError) or type(error).__name__ in ("TlsError", "SSLError")
