"""The API's contract as an OpenAPI 3.1 document, served at /openapi.json."""
