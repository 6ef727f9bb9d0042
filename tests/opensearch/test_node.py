"""The real node itself: what it is, and the engine rules osmem does not enforce."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest


def call(url: str, method: str, path: str, body: object = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def test_the_node_is_a_real_opensearch_without_the_elastic_product_header(opensearch_node):
    with urllib.request.urlopen(opensearch_node, timeout=10) as answer:
        root = json.load(answer)
        assert answer.headers.get("X-Elastic-Product") is None
    assert root["version"]["distribution"] == "opensearch"
    assert root["version"]["number"].startswith("3.")


@pytest.mark.parametrize("index", ["node-sort-id"])
def test_a_sort_on_id_is_refused_as_on_elasticsearch_8(opensearch_node, index):
    call(opensearch_node, "PUT", f"/{index}/_doc/a?refresh=true", {"x": 1})
    status, answer = call(opensearch_node, "POST", f"/{index}/_search", {"sort": [{"_id": "asc"}]})
    call(opensearch_node, "DELETE", f"/{index}")
    assert status == 400, answer
    assert "id_field_data" in json.dumps(answer)
