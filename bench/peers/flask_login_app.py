"""The Flask peer: Flask-Login over Flask-SQLAlchemy on SQLite, as Flask-Login's docs set it up.

A signed Flask session cookie carries the user's id; on every request Flask-Login's user_loader
reads the user from the database (one SELECT by primary key), which is what "login required"
costs in this stack. Passwords use werkzeug's generate_password_hash/check_password_hash with
their defaults (scrypt). Served by waitress (one process, its threads) or gunicorn (processes):

    waitress-serve --threads 8 --port P flask_login_app:app
    gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:P flask_login_app:app
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, request
from flask_login import LoginManager, UserMixin, login_required, login_user, current_user
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

from peer_common import DB, PASSWORD, SECRET, USER_PAGE, email, main

app = Flask(__name__)
app.config.update(SECRET_KEY=SECRET, SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(DB).resolve()}")
db = SQLAlchemy(app)
login_manager = LoginManager(app)


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


@login_manager.unauthorized_handler
def unauthorized():
    return jsonify(message="Login required.", success=False), 401


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/v1/test")
@login_required
def test():
    return jsonify(**USER_PAGE, data={"user": {"id": current_user.id, "email_address": current_user.email}})


@app.post("/v1/auth/login")
def log_in():
    body = request.get_json(silent=True) or {}
    user = db.session.execute(db.select(User).filter_by(email=body.get("email_address"))).scalar_one_or_none()
    if user is None or not check_password_hash(user.password_hash, str(body.get("password", ""))):
        return jsonify(message="Unknown email_address or bad password", success=False), 400
    login_user(user)
    return jsonify(message="logged in", success=True)


def seed(users: int, sessions: int, cookies: Path) -> None:
    password_hash = generate_password_hash(PASSWORD)
    with app.app_context():
        db.create_all()
        db.session.execute(db.insert(User), [{"id": i + 1, "email": email(i), "password_hash": password_hash}
                                             for i in range(users)])
        db.session.commit()
    serializer = app.session_interface.get_signing_serializer(app)
    lines = []
    for i in range(sessions):
        # login_user in a request from wrk's address and headers (no User-Agent), so the session
        # identifier Flask-Login's "basic" protection compares matches, as after a real login.
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={}):
            from flask import session

            login_user(User(id=i + 1, email=email(i), password_hash=password_hash))
            lines.append(f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}\n")
    cookies.write_text("".join(lines))


def verifier():
    stored = generate_password_hash(PASSWORD)
    return lambda: check_password_hash(stored, PASSWORD)


if __name__ == "__main__":
    main(seed, verifier, "werkzeug generate_password_hash (scrypt, its defaults)")
