"""HTTP tests: the whole API through falcon.testing over real adapters."""
