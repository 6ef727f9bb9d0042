"""ESAUTH_PWNED_PASSWORDS_URL through the composition root: a breached password is refused at
sign-up, and a service that does not answer blocks nothing."""

from pathlib import Path

import pytest
from falcon.testing import TestClient

from entrypoints.bootstrap import build_app, build_services
from entrypoints.config import Settings
from tests.range_server import RangeServer

BREACHED = "Tr0ub4dor&3-but-longer"


@pytest.fixture
def server():
    server = RangeServer({BREACHED: 7})
    yield server
    server.close()


def signup(settings: Settings, email: str, password: str):
    services = build_services(settings)
    try:
        client = TestClient(build_app(settings, services))
        return client.simulate_post("/v1/users", json={"email_address": email, "password": password})
    finally:
        services.close()


def test_a_breached_password_is_refused_and_an_unbreached_one_taken(server: RangeServer, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_keys=("k" * 40,), pwned_passwords_url=server.url)
    refused = signup(settings, "ada@example.com", BREACHED)
    assert refused.status_code == 400
    assert refused.json["message"] == "password: has appeared in a data breach; choose another"
    assert signup(settings, "ada@example.com", "violet kettle on the roof").status_code == 201
    assert len(server.requests) == 2


def test_a_service_that_does_not_answer_blocks_no_sign_up(server: RangeServer, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_keys=("k" * 40,), pwned_passwords_url=server.url)
    server.status = 500
    assert signup(settings, "ada@example.com", BREACHED).status_code == 201
