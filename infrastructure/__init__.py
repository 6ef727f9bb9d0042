"""Adapters from real things (argon2, SQLite, Elasticsearch) to the ports."""
