"""Hosted pages under /ui/: server-rendered HTML forms over the same domain services as the API."""
