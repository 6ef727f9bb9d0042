"""Users in a search engine: Elasticsearch (elasticsearch-py) or OpenSearch (opensearch-py).

client.py holds what esauth asks of either engine and how their failures read;
elasticsearch_client.py and opensearch_client.py each speak one library; the rest (mapping,
indices, repositories, the seed reader) is written once against client.SearchClient.
"""
