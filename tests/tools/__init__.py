"""Real components for tests to start and stop themselves: a test CA (tls), nginx (nginx), free ports."""
