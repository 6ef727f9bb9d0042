"""Schemathesis hooks for the contract run: sessions from the real login, as a client gets them.

Named by `hooks` in schemathesis.toml (so `st` runs from this directory);
tests/e2e/test_contract.py sets the variables read here. Administrators' operations get the administrator's session (made with
`esauth create-user --admin`); every other login-required operation gets a fresh user's, signed
up and logged in through the API, and a new one whenever a 401 shows it was ended (logout,
logout-all, a password change elsewhere). A cookie a link carried over from a login is kept.
"""

from __future__ import annotations

import itertools
import os
import secrets

import requests

import schemathesis

BASE_URL = os.environ.get("ESAUTH_CONTRACT_URL", "")
COOKIE = os.environ.get("ESAUTH_CONTRACT_COOKIE", "session")
ADMIN = (os.environ.get("ESAUTH_CONTRACT_ADMIN_EMAIL", ""), os.environ.get("ESAUTH_CONTRACT_ADMIN_PASSWORD", ""))
ADMIN_TAG = "administration"
TIMEOUT_S = 10

_users = itertools.count(1)
_run = secrets.token_hex(4)  # a server may outlive one run (by hand, against `make run`)


def _role(case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
    if "security" not in context.operation.definition.raw:
        return "public"  # sign-up and login go without a cookie, as a new client's do
    return "admin" if ADMIN_TAG in (context.operation.tags or []) else "user"


def _log_in(email: str, password: str) -> str:
    answer = requests.post(f"{BASE_URL}/v1/auth/login", json={"email_address": email, "password": password}, timeout=TIMEOUT_S)
    if answer.status_code != 200 or COOKIE not in answer.cookies:
        raise RuntimeError(f"login as {email} answered {answer.status_code}: {answer.text[:200]}")
    return answer.cookies[COOKIE]


# Cached: a login per generated case would push the sessions of cases not yet sent out of the
# ten newest a user keeps (the coverage phase generates all its cases first). Kept here rather
# than by schemathesis (refresh_interval=None), so a 401 to a case that carried the cached cookie
# drops it at once (after_call below): a chain may end that very session (logout, logout-all, a
# password change, or DELETE of its own id from the session list), and every later case would
# otherwise go out with a dead cookie.
_cookies: dict[str, str] = {}


def _fresh(role: str) -> str:
    if role == "admin":
        return _log_in(*ADMIN)
    email, password = f"contract-{_run}-{next(_users)}@example.com", secrets.token_urlsafe(12)
    answer = requests.post(f"{BASE_URL}/v1/users/new", json={"email_address": email, "password": password}, timeout=TIMEOUT_S)
    if answer.status_code != 200:
        raise RuntimeError(f"sign-up of {email} answered {answer.status_code}: {answer.text[:200]}")
    return _log_in(email, password)


@schemathesis.hook
def after_call(context, case: schemathesis.Case, response) -> None:
    if response.status_code != 401:
        return
    sent = (case.cookies or {}).get(COOKIE)
    for role, cookie in list(_cookies.items()):
        if cookie == sent:
            del _cookies[role]


@schemathesis.auth(refresh_interval=None)
class SessionCookie:
    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        role = _role(case, context)
        if role == "public":
            return ""
        if role not in _cookies:
            _cookies[role] = _fresh(role)
        return _cookies[role]

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        if not data:
            return
        cookies = dict(case.cookies or {})
        cookies.setdefault(COOKIE, data)
        case.cookies = cookies
