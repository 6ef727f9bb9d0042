"""Administration rules: admins only, no self-lockout, deactivation and deletion end sessions at once."""

from __future__ import annotations

import pytest

from domain.admin import AdminService
from domain.auth import AuthService
from domain.errors import NotPermitted, SelfLockout, SessionInvalid, UserNotFound, ValidationError
from domain.throttle import FailureCounter
from domain.users import Users
from tests.fakes import FakeHasher, FakePasswordScreen, InMemoryLoginFailureRepository, InMemoryUserRepository

PASSWORD = "correct horse battery"


@pytest.fixture
def users(clock):
    return Users(InMemoryUserRepository(), clock)


@pytest.fixture
def auth(users, clock):
    return AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock), screen=FakePasswordScreen())


@pytest.fixture
def admin(users):
    return AdminService(users)


@pytest.fixture
def root(auth):
    return auth.register("root@example.com", PASSWORD, is_admin=True)


@pytest.fixture
def ada(auth):
    return auth.register("ada@example.com", PASSWORD, "Ada")


def test_non_admins_are_refused_everything(admin, ada):
    for call in (
        lambda: admin.search(ada),
        lambda: admin.get(ada, "ada@example.com"),
        lambda: admin.update(ada, "ada@example.com", {"is_admin": True}),
        lambda: admin.delete(ada, "root@example.com"),
    ):
        with pytest.raises(NotPermitted):
            call()


def test_get_and_update_flags_and_names(admin, root, ada):
    assert admin.get(root, " ADA@example.com").first_name == "Ada"
    updated = admin.update(root, "ada@example.com", {"is_admin": True, "last_name": " Lovelace "})
    assert (updated.is_admin, updated.last_name, updated.first_name) == (True, "Lovelace", "Ada")
    with pytest.raises(UserNotFound):
        admin.get(root, "ghost@example.com")
    with pytest.raises(UserNotFound):
        admin.update(root, "ghost@example.com", {"is_active": False})


@pytest.mark.parametrize("changes, field", [({"is_active": "no"}, "is_active"), ({"is_admin": 1}, "is_admin"), ({"first_name": "x" * 101}, "first_name")])
def test_bad_values_are_refused_and_change_nothing(admin, root, ada, users, changes, field):
    with pytest.raises(ValidationError, match=field):
        admin.update(root, "ada@example.com", changes)
    assert users.get("ada@example.com") == ada


def test_deactivating_ends_every_session_at_once(admin, auth, root, ada):
    _, session = auth.login("ada@example.com", PASSWORD)
    assert auth.session_user(session)
    admin.update(root, "ada@example.com", {"is_active": False})
    with pytest.raises(SessionInvalid):
        auth.session_user(session)  # no waiting for any cache: same process


def test_deleting_ends_the_sessions_and_the_user(admin, auth, root, ada, users):
    _, session = auth.login("ada@example.com", PASSWORD)
    assert auth.session_user(session)
    admin.delete(root, "ada@example.com")
    with pytest.raises(SessionInvalid):
        auth.session_user(session)
    assert users.get("ada@example.com") is None
    with pytest.raises(UserNotFound):
        admin.delete(root, "ada@example.com")


@pytest.mark.parametrize("changes", [{"is_active": False}, {"is_admin": False}])
def test_an_admin_cannot_lock_themselves_out(admin, root, users, changes):
    with pytest.raises(SelfLockout):
        admin.update(root, "root@example.com", changes)
    assert users.get("root@example.com") == root
    with pytest.raises(SelfLockout):
        admin.delete(root, "Root@Example.com")


def test_an_admin_may_rename_themselves(admin, root):
    assert admin.update(root, "root@example.com", {"first_name": "Rooty", "is_admin": True}).first_name == "Rooty"


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_search_limit_is_bounded(admin, root, limit):
    with pytest.raises(ValidationError, match="limit"):
        admin.search(root, "", limit)
