"""The bearer token check: a refusal does the same store work whether or not the token's ids exist."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.access_tokens import AccessTokens
from domain.errors import TokenRefused
from domain.user import User, new_user_id
from domain.users import Users
from tests.contract.test_user_repository import make_user
from tests.fakes import CountingUserRepository, FakeClock

SECRET = "a" * 52
OTHER_SECRET = "b" * 52


class StoreWork(CountingUserRepository):
    """Notes every read as what it cost: a user document found (and parsed) or none, a link."""

    def get(self, email_address: str) -> User | None:
        user = super().get(email_address)
        self.calls[-1] = "user read" if user is not None else "empty read"
        return user

    def email_for_id(self, user_id: str) -> str | None:
        self.calls.append("link read")
        return super().email_for_id(user_id)


@pytest.fixture(params=[1000, 0], ids=["view-on", "view-off"])
def setup(request: pytest.FixtureRequest) -> tuple[StoreWork, AccessTokens, str, str]:
    repo, clock = StoreWork(), FakeClock()
    users = Users(repo, clock, timedelta(milliseconds=request.param))
    tokens = AccessTokens(users, clock)
    users.add(make_user("ada@example.com"))
    users.add(make_user("bob@example.com"))
    token, _ = tokens.create("ada@example.com", "ci")
    tokens.create("bob@example.com", "ci")
    tokens.authenticate(token)  # this process has used a token: the ids it knows are in memory
    return repo, tokens, token, request.param


def refusal_work(repo: StoreWork, tokens: AccessTokens, token: str) -> list[str]:
    del repo.calls[:]
    with pytest.raises(TokenRefused):
        tokens.authenticate(token)
    return sorted(repo.calls)


def test_a_refused_token_costs_the_same_store_reads_whether_or_not_its_ids_exist(setup) -> None:
    repo, tokens, token, _ = setup
    _, user_id, token_id, _ = token.rsplit("_", 3)
    unknown_user = refusal_work(repo, tokens, f"esauth_pat_{new_user_id()}_{'c' * 13}_{SECRET}")
    unknown_token = refusal_work(repo, tokens, f"esauth_pat_{user_id}_{'c' * 13}_{SECRET}")
    wrong_secret = refusal_work(repo, tokens, f"esauth_pat_{user_id}_{token_id}_{OTHER_SECRET}")
    assert unknown_user == unknown_token == wrong_secret
    assert unknown_user == ["link read", "user read"]  # a user document read and parsed each time


def test_a_process_that_never_saw_a_token_still_reads_a_user_for_an_unknown_id() -> None:
    repo, clock = StoreWork(), FakeClock()
    tokens = AccessTokens(Users(repo, clock), clock)
    assert refusal_work(repo, tokens, f"esauth_pat_{new_user_id()}_{'c' * 13}_{SECRET}") == ["empty read", "link read"]


def test_the_decoy_never_lets_a_token_through(setup) -> None:
    """A token naming an unknown user id but the decoy's token id and secret is still refused."""
    repo, tokens, token, _ = setup
    _, _, token_id, secret = token.rsplit("_", 3)
    refusal_work(repo, tokens, f"esauth_pat_{new_user_id()}_{token_id}_{secret}")
    assert tokens.authenticate(token)[0].email_address == "ada@example.com"
