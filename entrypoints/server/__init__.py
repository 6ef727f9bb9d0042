"""Serving the app: waitress with esauth's limits, and the workers' supervisor."""
