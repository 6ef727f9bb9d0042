"""Password hashing: argon2, the pool that runs it off the request threads, legacy hashes."""
