"""The FastAPI peer: fastapi-users with its cookie transport and JWT strategy, users in SQLite
through its SQLAlchemy adapter (aiosqlite), as fastapi-users' own full example sets it up.

The cookie holds a JWT; on every request the strategy checks it and the user manager reads the
user from the database (one SELECT by id), which is what `current_user(active=True)` costs.
Passwords use fastapi-users' PasswordHelper (pwdlib: argon2, then bcrypt, with its defaults).
Login is its own router's form POST (`username`, `password`), answered 204 with the cookie.

    uvicorn --workers 2 --port P fastapi_users_app:app
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin
from fastapi_users.authentication import AuthenticationBackend, CookieTransport, JWTStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy import create_engine, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from peer_common import DB, PASSWORD, SECRET, USER_PAGE, email, main

LIFETIME_S = 4 * 3600
"""Long enough that the cookies minted at seeding outlive the peer's part of the run."""


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


engine = create_async_engine(f"sqlite+aiosqlite:///{Path(DB).resolve()}")
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_async_session():
    async with async_session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_async_session)):
    yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db=Depends(get_user_db)):
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=LIFETIME_S)


cookie_transport = CookieTransport(cookie_max_age=LIFETIME_S)
auth_backend = AuthenticationBackend(name="jwt", transport=cookie_transport, get_strategy=get_jwt_strategy)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])
current_active_user = fastapi_users.current_user(active=True)

app = FastAPI()
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/cookie")


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/v1/test")
async def test(user: User = Depends(current_active_user)):
    return {**USER_PAGE, "data": {"user": {"id": str(user.id), "email_address": user.email}}}


def seed(users: int, sessions: int, cookies: Path) -> None:
    hashed = PasswordHelper().hash(PASSWORD)
    ids = [uuid.uuid4() for _ in range(users)]
    sync = create_engine(f"sqlite:///{Path(DB).resolve()}")
    Base.metadata.create_all(sync)
    with sync.begin() as connection:
        connection.execute(insert(User), [
            {"id": ids[i], "email": email(i), "hashed_password": hashed, "is_active": True, "is_superuser": False,
             "is_verified": True} for i in range(users)])
    sync.dispose()

    async def tokens() -> list[str]:
        strategy = get_jwt_strategy()
        return [await strategy.write_token(User(id=ids[i], email=email(i))) for i in range(sessions)]

    cookies.write_text("".join(f"{cookie_transport.cookie_name}={token}\n" for token in asyncio.run(tokens())))


def verifier():
    helper = PasswordHelper()
    stored = helper.hash(PASSWORD)
    return lambda: helper.verify_and_update(PASSWORD, stored)[0]


if __name__ == "__main__":
    main(seed, verifier, "fastapi-users PasswordHelper (pwdlib argon2, its defaults)")
