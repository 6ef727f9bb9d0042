"""The embedded store: one SQLite file holds users and login failures."""
