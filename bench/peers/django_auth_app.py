"""The Django peer: django.contrib.auth with database sessions (Django's default session engine)
on SQLite, in one file (settings.configure), served by gunicorn as Django's docs deploy it:

    gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:P django_auth_app:application

The session cookie holds a random key; on every request SessionMiddleware reads the session row
and AuthenticationMiddleware then reads the user (two SELECTs) and checks the session's hash of
the password hash. Passwords use Django's default hasher (PBKDF2-SHA256, its iteration count).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import django
from django.conf import settings

from peer_common import DB, PASSWORD, SECRET, USER_PAGE, email, main

settings.configure(
    DEBUG=False,
    SECRET_KEY=SECRET,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(DB).resolve())}},
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import authenticate, login  # noqa: E402
from django.contrib.auth.hashers import check_password, make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def test(request: HttpRequest) -> JsonResponse:
    # What @login_required checks, answered as an API (401) instead of a redirect to a login page.
    if not request.user.is_authenticated:
        return JsonResponse({"message": "Login required.", "success": False}, status=401)
    return JsonResponse({**USER_PAGE, "data": {"user": {"id": request.user.pk, "email_address": request.user.email}}})


@csrf_exempt  # a JSON API login, as an SPA's; the pages of a Django site would keep the CSRF check
@require_POST
def log_in(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body)
    except ValueError:
        body = {}
    user = authenticate(request, username=body.get("email_address"), password=str(body.get("password", "")))
    if user is None:
        return JsonResponse({"message": "Unknown email_address or bad password", "success": False}, status=400)
    login(request, user)
    return JsonResponse({"message": "logged in", "success": True})


urlpatterns = [path("health", health), path("v1/test", test), path("v1/auth/login", log_in)]
application = WSGIHandler()


def seed(users: int, sessions: int, cookies: Path) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    hashed = make_password(PASSWORD)
    User.objects.bulk_create([User(username=email(i), email=email(i), password=hashed) for i in range(users)],
                             batch_size=2000)
    backend = "django.contrib.auth.backends.ModelBackend"
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows, lines = [], []
    for user in User.objects.filter(username__in=[email(i) for i in range(sessions)]).order_by("pk"):
        # What login() stores: the user's id, backend, and the hash tying the session to the password.
        key = get_random_string(32)
        data = {"_auth_user_id": str(user.pk), "_auth_user_backend": backend,
                "_auth_user_hash": user.get_session_auth_hash()}
        rows.append(Session(session_key=key, session_data=SessionStore().encode(data), expire_date=expires))
        lines.append(f"{settings.SESSION_COOKIE_NAME}={key}\n")
    Session.objects.bulk_create(rows, batch_size=2000)
    cookies.write_text("".join(lines))


def verifier():
    stored = make_password(PASSWORD)
    return lambda: check_password(PASSWORD, stored)


if __name__ == "__main__":
    main(seed, verifier, "Django make_password/check_password (PBKDF2-SHA256, its defaults)")
