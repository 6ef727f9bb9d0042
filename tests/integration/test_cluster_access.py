"""The cluster settings as each client library takes them: the real client constructors accept the
options and carry them to their connections (the TLS and credential paths themselves run for real
in tests/e2e/test_secured_cluster.py)."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from infrastructure.search_engine.elasticsearch_client import ElasticsearchClient
from infrastructure.search_engine.connection import (
    AccessProblem,
    ClusterAccess,
    elasticsearch_options,
    opensearch_options,
)

FINGERPRINT = "ab" * 32
API_KEY = base64.b64encode(b"key-id:key-secret").decode()
CLOUD_ID = "prod:" + base64.b64encode(b"europe-west1.gcp.cloud.es.io:443$abc123$def456").decode()


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    from tests.tools.tls import make_test_ca

    return make_test_ca(tmp_path).ca_cert


def test_elasticsearch_gets_its_own_keywords(ca_file):
    access = ClusterAccess(url="https://es:9200", ca_certs=ca_file, username="esauth", password="pw")
    assert elasticsearch_options(access) == {"ca_certs": str(ca_file), "basic_auth": ("esauth", "pw")}
    client = ElasticsearchClient(access.url, options=elasticsearch_options(access)).library
    node = client.transport.node_pool.all()[0]
    assert (node.config.ca_certs, node.config.verify_certs) == (str(ca_file), True)
    assert client._headers["authorization"] == "Basic " + base64.b64encode(b"esauth:pw").decode()
    client.close()


def test_elasticsearch_pins_the_node_certificate_with_a_context_of_its_own():
    """elastic-transport alone would accept the pin on any certificate of the chain; the context
    (the one opensearch-py gets too) holds it to the node's own."""
    access = ClusterAccess(url="https://es:9200", ssl_fingerprint=FINGERPRINT, api_key=API_KEY)
    options = elasticsearch_options(access)
    context = options.pop("ssl_context")
    assert options == {"ssl_assert_fingerprint": FINGERPRINT, "api_key": API_KEY}
    assert issubclass(context.sslsocket_class, ssl.SSLSocket) and context.sslsocket_class.pin == FINGERPRINT
    client = ElasticsearchClient(access.url, options=elasticsearch_options(access)).library
    config = client.transport.node_pool.all()[0].config
    assert config.ssl_assert_fingerprint == FINGERPRINT and config.ssl_context.sslsocket_class.pin == FINGERPRINT
    assert client._headers["authorization"] == f"ApiKey {API_KEY}"
    client.close()


def test_an_elastic_cloud_id_is_the_cluster_address():
    access = ClusterAccess(cloud_id=CLOUD_ID, api_key=API_KEY)
    client = ElasticsearchClient(None, options=elasticsearch_options(access)).library
    node = client.transport.node_pool.all()[0].config
    assert (node.scheme, node.host, node.port) == ("https", "abc123.europe-west1.gcp.cloud.es.io", 443)
    client.close()


def test_opensearch_gets_its_own_keywords(ca_file):
    access = ClusterAccess(url="https://os:9200", ca_certs=ca_file, username="esauth", password="pw")
    assert opensearch_options(access) == {"ca_certs": str(ca_file), "http_auth": ("esauth", "pw")}
    client = OpenSearch(hosts=[access.url], **opensearch_options(access))
    connection = client.transport.get_connection()
    assert connection.use_ssl and connection.pool.ca_certs == str(ca_file)
    assert connection.headers["authorization"] == "Basic " + base64.b64encode(b"esauth:pw").decode()
    client.close()


def test_opensearch_pins_a_fingerprint_with_a_context_of_its_own_and_no_warning():
    access = ClusterAccess(url="https://os:9200", ssl_fingerprint=FINGERPRINT, api_key=API_KEY)
    options = opensearch_options(access)
    assert options["ssl_context"].verify_mode == ssl.CERT_NONE  # the pin replaces the chain...
    assert options["ssl_context"].sslsocket_class.pin == FINGERPRINT  # ...and is held to the node's certificate
    assert ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED  # the process default is untouched
    client = OpenSearch(hosts=[access.url], **options)  # filterwarnings=error: no "insecure" warning
    connection = client.transport.get_connection()
    assert connection.pool.assert_fingerprint == FINGERPRINT
    assert connection.headers["authorization"] == f"ApiKey {API_KEY}"
    client.close()


def test_opensearch_has_no_cloud_id():
    with pytest.raises(AccessProblem) as refused:
        opensearch_options(ClusterAccess(cloud_id=CLOUD_ID))
    assert refused.value.setting == "cloud_id"
