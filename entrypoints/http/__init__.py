"""The HTTP API: the Falcon app, its resources and the middleware every request passes."""
