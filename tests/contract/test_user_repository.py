"""One contract for every UserRepository: the fake, SQLite and Elasticsearch must all pass it."""

from __future__ import annotations

import base64
import logging
import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import StoreNeedsInit, StoreUnavailable, UserAlreadyExists, UserNotFound, ValidationError, VersionConflict
from domain.search import UserPage, query_terms
from domain.session import SessionRecord
from domain.user import AccessToken, Passkey, SpentChallenge, User
from domain.users import Users
from infrastructure.search_engine.client import NotFound, connect
from domain.timestamps import format_time
from infrastructure.search_engine import user_repository
from infrastructure.search_engine.documents import document_version, version_guard
from infrastructure.search_engine.indices import concrete_name, create_first
from infrastructure.search_engine.mapping import USERS
from infrastructure.search_engine.user_repository import MOVE_MARKS, MOVE_STALE, SearchEngineUserRepository
from infrastructure.sqlite import database as sqlite_database
from infrastructure.sqlite import user_repository as sqlite_repository
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.store_watch import ObservedStore, OutageLog
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.engines import drop_indices, settle
from tests.fakes import FakeClock, InMemoryUserRepository, RecordingMetrics

CREATED = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=timezone.utc)


def make_user(email: str = "ada@example.com", **fields) -> User:
    return User(email_address=email, password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", created_at=CREATED, **fields)


def add_user(repo, email: str, seconds: float = 0, **fields) -> User:
    """Add a user created `seconds` after CREATED (later is newer)."""
    return repo.add(replace(make_user(email, **fields), created_at=CREATED + timedelta(seconds=seconds)))


def emails(page: UserPage) -> list[str]:
    return [user.email_address for user in page.users]


def found_emails(repo, query: str) -> list[str]:
    return emails(repo.search(query_terms(query), 100))


def found(repo, query: str, limit: int = 100) -> list[str]:
    """Emails of the first page of a search, the query split into terms as the API does."""
    page = repo.search(query_terms(query), limit)
    assert page.next_cursor is None, "expected everything on one page"
    return emails(page)


def race_from_one_read(repo, updated, contenders: int = 6) -> list[str]:
    """Let `contenders` threads write `updated(n)` (each made from one read) at once; the first
    names of the writes that were not refused with VersionConflict."""
    barrier = threading.Barrier(contenders)

    def update(n: int) -> str | None:
        barrier.wait()
        try:
            return repo.update(updated(n)).first_name
        except VersionConflict:
            return None

    with ThreadPoolExecutor(contenders) as pool:
        return [name for name in pool.map(update, range(contenders)) if name is not None]


def assert_too_many_changes_are_incomplete(repo) -> None:
    """Three changes where the store lists two (its CHANGES_LISTED patched): the view must start afresh."""
    mark = repo.changes_since(None).mark
    for n in range(3):
        add_user(repo, f"u{n}@example.com")
    assert repo.changes_since(mark).complete is False


class UserRepositoryContract:
    """Not collected by itself: subclasses provide the `repo` fixture."""

    def test_a_missing_user_is_none(self, repo):
        assert repo.get("nobody@example.com") is None

    def test_add_then_get_round_trips_every_field(self, repo):
        tokens = (
            AccessToken("t" * 13, "ci ☃", "ab" * 32, CREATED, CREATED + timedelta(days=90)),
            AccessToken("u" * 13, "deploy", "cd" * 32, CREATED, CREATED + timedelta(days=1), last_used_at=CREATED),
        )
        passkeys = (
            Passkey("p" * 13, "Y3JlZC0x", "pQECAyYgASFYIA", 0, "Laptop ☃", CREATED, transports=("internal", "hybrid")),
            Passkey("q" * 13, "Y3JlZC0y" * 40, "pQECAyYgASFYIB", 2**32 - 1, "Key", CREATED, last_used_at=CREATED),
        )
        spent = (SpentChallenge("ef" * 32, CREATED + timedelta(minutes=2)),)
        user = make_user(first_name="Ada Ünïcode", last_name="Lövelace 💡", is_active=False, session_ids=("s1", "s2"),
                         user_id="a" * 26, access_tokens=tokens, passkeys=passkeys, spent_challenges=spent,
                         sessions=(SessionRecord("s1", CREATED, CREATED, "Firefox on Linux", "127.0.0.1"), SessionRecord("s2", None, None)))
        added = repo.add(user)
        assert added.version is not None
        found = repo.get("ada@example.com")
        assert found == user
        assert found.version == added.version
        assert found.created_at == CREATED

    def test_add_of_a_taken_email_is_refused_and_keeps_the_first(self, repo):
        repo.add(make_user(first_name="First"))
        with pytest.raises(UserAlreadyExists) as caught:
            repo.add(make_user(first_name="Second"))
        assert caught.value.email_address == "ada@example.com"
        assert repo.get("ada@example.com").first_name == "First"

    def test_update_with_the_current_version_is_written(self, repo):
        added = repo.add(make_user())
        updated = repo.update(replace(added, first_name="Ada", session_ids=("s1",)))
        assert updated.version != added.version
        found = repo.get("ada@example.com")
        assert (found.first_name, found.session_ids, found.version) == ("Ada", ("s1",), updated.version)

    def test_a_read_of_a_deleted_user_cannot_write_over_one_made_again(self, repo):
        stale = repo.add(make_user(first_name="First"))
        repo.delete(stale.email_address)
        again = repo.add(make_user(first_name="Second"))
        with pytest.raises(VersionConflict):
            repo.update(replace(stale, last_name="Overwritten"))
        assert repo.get(again.email_address) == again

    def test_update_with_a_stale_version_is_refused_and_changes_nothing(self, repo):
        added = repo.add(make_user())
        repo.update(replace(added, first_name="Winner"))
        with pytest.raises(VersionConflict):
            repo.update(replace(added, first_name="Loser"))
        assert repo.get("ada@example.com").first_name == "Winner"

    def test_update_of_a_missing_user_is_refused(self, repo):
        added = repo.add(make_user("other@example.com"))
        with pytest.raises(UserNotFound):
            repo.update(replace(added, email_address="ghost@example.com"))
        assert repo.get("ghost@example.com") is None

    def test_check_passes_when_the_store_answers(self, repo):
        repo.check()

    def test_concurrent_creates_of_one_email_let_exactly_one_win(self, repo):
        contenders = 8
        barrier = threading.Barrier(contenders)

        def create(n: int) -> str:
            barrier.wait()
            try:
                repo.add(make_user("race@example.com", first_name=f"n{n}"))
                return "created"
            except UserAlreadyExists:
                return "exists"

        with ThreadPoolExecutor(contenders) as pool:
            outcomes = list(pool.map(create, range(contenders)))
        assert sorted(outcomes) == ["created"] + ["exists"] * (contenders - 1)
        assert repo.get("race@example.com").first_name.startswith("n")

    def test_concurrent_updates_from_one_read_let_exactly_one_win(self, repo):
        added = repo.add(make_user())
        winners = race_from_one_read(repo, lambda n: replace(added, first_name=f"n{n}"))
        assert len(winners) == 1
        assert repo.get("ada@example.com").first_name == winners[0]

    def test_a_stale_update_is_refused_even_when_it_writes_what_the_winner_wrote(self, repo, monkeypatch):
        """Two wrong passwords guessed from one read write the same document (one failure more),
        in one millisecond at worst: the second must still be refused, or the throttle would
        count one guess for two."""
        monkeypatch.setattr(user_repository, "_now_ms", lambda: 1_764_000_000_000)  # both writes stamped alike
        added = repo.add(make_user())
        repo.update(replace(added, failed_logins=1))
        with pytest.raises(VersionConflict):
            repo.update(replace(added, failed_logins=1))
        assert repo.get("ada@example.com").failed_logins == 1

    def test_the_same_user_created_twice_is_refused_the_second_time(self, repo, monkeypatch):
        monkeypatch.setattr(user_repository, "_now_ms", lambda: 1_764_000_000_000)
        user = make_user(user_id="a" * 26)
        repo.add(user)
        with pytest.raises(UserAlreadyExists):
            repo.add(user)

    # the second factor (domain.second_factor)

    def test_the_second_factor_round_trips(self, repo):
        user = make_user(totp_secret="gAAAAAB" + "x" * 120, totp_enabled=True, totp_last_step=59_123_456,
                         recovery_codes=tuple(f"{n:064x}" for n in range(10)))
        repo.add(user)
        assert repo.get("ada@example.com") == user
        assert repo.get("ada@example.com").has_second_factor

    def test_a_user_without_a_second_factor_reads_with_none(self, repo):
        repo.add(make_user())
        found = repo.get("ada@example.com")
        assert (found.totp_secret, found.totp_enabled, found.totp_last_step, found.recovery_codes) == ("", False, 0, ())

    def test_one_code_used_by_concurrent_sign_ins_from_one_read_is_recorded_once(self, repo):
        """The step of the last code accepted is written under the version guard: of sign-ins
        racing with one code over one read, one write wins and the others must re-read (and
        then see the step spent)."""
        added = repo.add(make_user(totp_enabled=True, totp_last_step=100, recovery_codes=("a" * 64, "b" * 64)))
        winners = race_from_one_read(
            repo, lambda n: replace(added, totp_last_step=101, recovery_codes=("b" * 64,), first_name=f"n{n}")
        )
        assert len(winners) == 1
        stored = repo.get("ada@example.com")
        assert (stored.totp_last_step, stored.recovery_codes, stored.first_name) == (101, ("b" * 64,), winners[0])

    # user ids

    def test_passkeys_and_spent_challenges_change_only_by_a_guarded_update(self, repo):
        added = repo.add(make_user())
        with_key = repo.update(replace(added, passkeys=(Passkey("p" * 13, "Y3JlZA", "a2V5", 1, "Laptop", CREATED),)))
        with pytest.raises(VersionConflict):  # a second answer decided on the same read loses
            repo.update(replace(added, spent_challenges=(SpentChallenge("ab" * 32, CREATED),)))
        used = repo.update(replace(with_key, passkeys=(replace(with_key.passkeys[0], sign_count=2),),
                                   spent_challenges=(SpentChallenge("ab" * 32, CREATED),)))
        found = repo.get("ada@example.com")
        assert found == used and found.passkeys[0].sign_count == 2 and found.spent_challenges[0].digest == "ab" * 32

    def test_the_user_id_round_trips_and_a_guarded_update_keeps_it(self, repo):
        added = repo.add(make_user(user_id="b" * 26))
        repo.update(replace(added, first_name="Ada"))
        assert repo.get("ada@example.com").user_id == "b" * 26

    def test_a_user_stored_without_an_id_reads_with_an_empty_one(self, repo):
        repo.add(make_user())
        assert repo.get("ada@example.com").user_id == ""

    def test_two_processes_upgrading_one_old_user_at_once_agree_on_one_id(self, repo):
        """Each process has its own Users view; the store's version guard lets one id win."""
        repo.add(make_user())
        contenders = 6
        barrier = threading.Barrier(contenders)

        def first_read(_: int) -> str:
            view = Users(repo, lambda: CREATED)
            barrier.wait()
            return view.get("ada@example.com").user_id

        with ThreadPoolExecutor(contenders) as pool:
            ids = set(pool.map(first_read, range(contenders)))
        assert len(ids) == 1 and len(ids.pop()) == 26
        assert {repo.get("ada@example.com").user_id} == {Users(repo, lambda: CREATED).get("ada@example.com").user_id}

    def test_assigning_missing_ids_reaches_every_user_once(self, repo):
        for n in range(3):
            add_user(repo, f"u{n}@example.com", seconds=n)
        add_user(repo, "has@example.com", seconds=9, user_id="c" * 26)
        users = Users(repo, lambda: CREATED)
        assert users.assign_missing_ids(page_size=2) == 3
        assert users.assign_missing_ids(page_size=2) == 0
        ids = {repo.get(f"u{n}@example.com").user_id for n in range(3)}
        assert len(ids) == 3 and repo.get("has@example.com").user_id == "c" * 26

    def test_a_linked_id_is_found_at_once_and_an_unknown_one_is_none(self, repo):
        assert repo.email_for_id("d" * 26) is None
        repo.link_id("d" * 26, "ada@example.com")
        repo.link_id("d" * 26, "ada@example.com")  # idempotent
        assert repo.email_for_id("d" * 26) == "ada@example.com"
        assert repo.email_for_id("e" * 26) is None

    # move (an email change)

    def test_a_move_keeps_the_user_and_its_id_under_the_new_address_and_frees_the_old(self, repo):
        added = repo.add(make_user(first_name="Ada", user_id="m" * 26, session_ids=("s1",)))
        moved = repo.move(replace(added, email_address="ada@new.example.org", session_ids=()), "ada@example.com")
        assert moved.version is not None
        assert repo.get("ada@example.com") is None
        found = repo.get("ada@new.example.org")
        assert found == replace(added, email_address="ada@new.example.org", session_ids=())
        assert found.version == moved.version
        assert repo.email_for_id("m" * 26) == "ada@new.example.org"
        repo.update(replace(found, last_name="King"))  # the version it answered guards the next write
        settle(repo)
        assert found_emails(repo, "ada") == ["ada@new.example.org"]
        assert repo.add(make_user(first_name="Another")).first_name == "Another"  # the old address is free

    def test_a_move_to_a_taken_address_is_refused_and_changes_neither_user(self, repo):
        ada = repo.add(make_user(user_id="m" * 26))
        repo.add(make_user("bob@example.com", first_name="Bob", user_id="b" * 26))
        with pytest.raises(UserAlreadyExists):
            repo.move(replace(ada, email_address="bob@example.com"), "ada@example.com")
        assert repo.get("bob@example.com").first_name == "Bob"
        assert repo.get("ada@example.com") == ada
        repo.update(repo.get("ada@example.com"))  # still writable: nothing left half-moved
        assert repo.email_for_id("b" * 26) is None or repo.email_for_id("b" * 26) == "bob@example.com"

    def test_a_move_from_a_stale_read_is_a_conflict_and_changes_nothing(self, repo):
        stale = repo.add(make_user(user_id="m" * 26))
        repo.update(replace(stale, first_name="Newer"))
        with pytest.raises(VersionConflict):
            repo.move(replace(stale, email_address="ada@new.example.org"), "ada@example.com")
        assert repo.get("ada@example.com").first_name == "Newer"
        assert repo.get("ada@new.example.org") is None
        repo.add(make_user("ada@new.example.org"))  # the address was not held

    def test_a_move_of_a_user_that_is_gone_is_not_found(self, repo):
        gone = repo.add(make_user(user_id="m" * 26))
        repo.delete("ada@example.com")
        with pytest.raises(UserNotFound):
            repo.move(replace(gone, email_address="ada@new.example.org"), "ada@example.com")
        assert repo.get("ada@new.example.org") is None

    def test_two_users_moving_to_one_address_at_once_one_wins(self, repo):
        contenders = 4
        users = [repo.add(make_user(f"u{n}@example.com", first_name=f"U{n}", user_id=f"{n}" * 26)) for n in range(contenders)]
        barrier = threading.Barrier(contenders)

        def move(user: User) -> str:
            barrier.wait()
            try:
                repo.move(replace(user, email_address="wanted@example.com"), user.email_address)
            except UserAlreadyExists:
                return "taken"
            return "moved"

        with ThreadPoolExecutor(contenders) as pool:
            outcomes = list(pool.map(move, users))
        assert sorted(outcomes) == ["moved"] + ["taken"] * (contenders - 1)
        winner = users[outcomes.index("moved")]
        assert repo.get("wanted@example.com").first_name == winner.first_name
        assert repo.get(winner.email_address) is None
        for user, outcome in zip(users, outcomes):
            if outcome == "taken":
                assert repo.get(user.email_address) == user  # the losers are untouched

    def test_a_sign_up_and_a_move_racing_for_one_address_one_wins(self, repo):
        ada = repo.add(make_user(user_id="m" * 26))
        barrier = threading.Barrier(2)

        def move() -> str:
            barrier.wait()
            try:
                repo.move(replace(ada, email_address="wanted@example.com"), "ada@example.com")
            except UserAlreadyExists:
                return "taken"
            return "moved"

        def sign_up() -> str:
            barrier.wait()
            try:
                repo.add(make_user("wanted@example.com", first_name="New"))
            except UserAlreadyExists:
                return "taken"
            return "signed up"

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(f.result() for f in [pool.submit(move), pool.submit(sign_up)])
        assert outcomes in (["moved", "taken"], ["signed up", "taken"])
        holder = repo.get("wanted@example.com")
        if outcomes == ["moved", "taken"]:
            assert holder.user_id == "m" * 26 and repo.get("ada@example.com") is None
        else:
            assert holder.first_name == "New" and repo.get("ada@example.com") == ada

    # changes_since: the session views' change feed

    def test_asking_without_a_mark_lists_nothing_and_gives_one(self, repo):
        add_user(repo, "ada@example.com")
        first = repo.changes_since(None)
        assert (first.versions, first.complete) == ({}, True) and isinstance(first.mark, str)

    def test_every_add_update_and_delete_after_a_mark_is_listed_with_its_version_now(self, repo):
        ada = add_user(repo, "ada@example.com")
        add_user(repo, "gone@example.com")
        untouched = add_user(repo, "bob@example.com")
        mark = repo.changes_since(None).mark
        ada = repo.update(replace(ada, is_admin=True))
        ada = repo.update(replace(ada, session_ids=()))  # twice: listed once, at its latest version
        new = add_user(repo, "new@example.com")
        repo.delete("gone@example.com")
        changes = repo.changes_since(mark)
        assert changes.complete
        assert {"ada@example.com": ada.version, "new@example.com": new.version, "gone@example.com": None}.items() <= changes.versions.items()
        # listed again (the search engines look back a window) is allowed, but then as it is now
        assert changes.versions.get("bob@example.com", untouched.version) == untouched.version

    def test_a_change_is_listed_by_the_look_after_it_whatever_came_before(self, repo):
        ada = add_user(repo, "ada@example.com")
        mark = repo.changes_since(None).mark
        assert repo.changes_since(mark).versions.get("ada@example.com", ada.version) == ada.version
        for _ in range(3):  # looks that find nothing new move the mark on without losing the next change
            mark = repo.changes_since(mark).mark
        ada = repo.update(replace(ada, is_active=False))
        assert repo.changes_since(mark).versions["ada@example.com"] == ada.version

    def test_a_user_deleted_and_made_again_is_listed_as_it_is_now(self, repo):
        add_user(repo, "ada@example.com")
        mark = repo.changes_since(None).mark
        repo.delete("ada@example.com")
        again = add_user(repo, "ada@example.com", first_name="Again")
        assert repo.changes_since(mark).versions["ada@example.com"] == again.version

    def test_a_move_lists_the_address_left_as_gone_and_the_new_one_as_it_is_now(self, repo):
        """An email change must reach other processes' views: else they keep trusting the old
        address's user, and its sessions, from what they hold."""
        ada = add_user(repo, "ada@example.com", user_id="m" * 26, session_ids=("s1",))
        mark = repo.changes_since(None).mark
        moved = repo.move(replace(ada, email_address="ada@new.example.org", session_ids=()), "ada@example.com")
        changes = repo.changes_since(mark)
        assert changes.complete
        assert {"ada@example.com": None, "ada@new.example.org": moved.version}.items() <= changes.versions.items()

    def test_a_session_view_drops_the_address_another_process_moved_away_from(self, repo):
        clock = FakeClock()
        add_user(repo, "ada@example.com", user_id="m" * 26, session_ids=("s1",))
        here = Users(repo, clock)
        assert here.recent("ada@example.com").session_ids == ("s1",)
        ada = repo.get("ada@example.com")
        repo.move(replace(ada, email_address="ada@new.example.org", session_ids=()), "ada@example.com")
        clock.advance(milliseconds=250)
        assert here.recent("ada@example.com") is None
        assert here.recent("ada@new.example.org").session_ids == ()

    def test_a_session_view_over_the_store_drops_what_another_process_changed(self, repo):
        """Two Users over one store, as two processes have them: a logout written by one reaches
        the other's session view at its next look (a quarter of the bound), never later."""
        clock = FakeClock()
        ada = add_user(repo, "ada@example.com", session_ids=("s1",))
        here, there = Users(repo, clock), Users(repo, clock)
        assert here.recent("ada@example.com").session_ids == ("s1",)
        there.modify("ada@example.com", lambda user: replace(user, session_ids=()))
        assert here.recent("ada@example.com").session_ids == ("s1",)  # held until the next look
        clock.advance(milliseconds=250)
        assert here.recent("ada@example.com").session_ids == ()
        there.delete("ada@example.com")
        clock.advance(milliseconds=250)
        assert here.recent("ada@example.com") is None
        assert ada.version is not None

    # delete

    def test_delete_removes_the_user_and_says_whether_there_was_one(self, repo):
        add_user(repo, "ada@example.com")
        add_user(repo, "bob@example.com")
        assert repo.delete("ada@example.com") is True
        assert repo.get("ada@example.com") is None
        assert repo.delete("ada@example.com") is False
        assert repo.get("bob@example.com") is not None
        assert found(repo, "") == ["bob@example.com"]

    def test_delete_of_an_unknown_user_is_false(self, repo):
        assert repo.delete("nobody@example.com") is False

    def test_a_deleted_email_can_sign_up_again(self, repo):
        add_user(repo, "ada@example.com", first_name="Before")
        repo.delete("ada@example.com")
        again = add_user(repo, "ada@example.com", first_name="After")
        assert repo.get("ada@example.com") == make_user(first_name="After")
        assert repo.update(replace(again, last_name="Again")).version is not None
        assert found(repo, "after") == ["ada@example.com"]
        assert found(repo, "before") == []

    # search: what matches

    def test_search_matches_a_prefix_of_the_email_only(self, repo):
        add_user(repo, "ada@example.com", 3)
        add_user(repo, "adam@example.org", 2)
        add_user(repo, "bob@ada.com", 1)  # "ada" inside, not at the start
        add_user(repo, "eve@example.com", 0)
        assert found(repo, "ada") == ["ada@example.com", "adam@example.org"]
        assert found(repo, "adam@") == ["adam@example.org"]
        assert found(repo, "ada@example.com") == ["ada@example.com"]
        assert found(repo, "ada@example.comx") == []
        assert found(repo, "example") == []
        assert found(repo, "com") == []

    def test_search_matches_a_prefix_of_any_whitespace_separated_word_of_a_name(self, repo):
        add_user(repo, "u1@example.com", 4, first_name="Mary Ann", last_name="van der Berg")
        add_user(repo, "u2@example.com", 3, first_name="Annabel", last_name="Smith")
        add_user(repo, "u3@example.com", 2, first_name="Joanna", last_name="Jean-Luc")
        add_user(repo, "u4@example.com", 1, first_name=None, last_name="Ann")
        add_user(repo, "u5@example.com", 0, first_name="Ann", last_name=None)
        add_user(repo, "u6@example.com", -1, first_name="Zoé\u00a0Dupont\u3000Durand")  # no-break, ideographic
        assert found(repo, "ann") == ["u1@example.com", "u2@example.com", "u4@example.com", "u5@example.com"]
        assert found(repo, "mary") == ["u1@example.com"]
        assert found(repo, "der") == ["u1@example.com"]
        assert found(repo, "berg") == ["u1@example.com"]
        assert found(repo, "smi") == ["u2@example.com"]
        assert found(repo, "jean-l") == ["u3@example.com"]  # a word is all between spaces
        assert found(repo, "luc") == []  # ... so "-" starts no word
        assert found(repo, "erg") == []  # inside a word
        assert found(repo, "anna") == ["u2@example.com"]  # not Joanna
        assert found(repo, "maryann") == []  # words are not joined
        assert found(repo, "dupont durand") == ["u6@example.com"]
        assert found(repo, "zoé") == ["u6@example.com"]

    def test_search_needs_every_term_to_match_somewhere(self, repo):
        add_user(repo, "ada@example.com", 2, first_name="Ada", last_name="Lovelace")
        add_user(repo, "byron@example.com", 1, first_name="Ada", last_name="Byron")
        add_user(repo, "charles@example.com", 0, first_name="Charles", last_name="Babbage")
        assert found(repo, "ada") == ["ada@example.com", "byron@example.com"]
        assert found(repo, "ada love") == ["ada@example.com"]
        assert found(repo, "love ada") == ["ada@example.com"]
        assert found(repo, "ada byr") == ["byron@example.com"]
        assert found(repo, "byron@ ada") == ["byron@example.com"]  # one term in the email, one in a name
        assert found(repo, "ada babbage") == []
        assert found(repo, "ada lovelace x") == []

    def test_search_ignores_case(self, repo):
        add_user(repo, "emilie@example.com", 1, first_name="ÉMILIE", last_name="DU CHÂTELET")
        add_user(repo, "ada@example.com", 0, first_name="Ada Ünïcode", last_name="LoveLace")
        assert found(repo, "Émilie châtelet") == ["emilie@example.com"]
        assert found(repo, "du") == ["emilie@example.com"]
        assert found(repo, "EMILIE@") == ["emilie@example.com"]
        assert found(repo, "üN") == ["ada@example.com"]
        assert found(repo, "lovelace") == ["ada@example.com"]
        assert repo.search(("lovelace",), 10).users[0].last_name == "LoveLace"  # stored as given

    def test_search_without_a_match_is_an_empty_last_page(self, repo):
        add_user(repo, "ada@example.com", first_name="Ada")
        assert repo.search(("zed",), 10) == UserPage((), None)

    def test_search_of_an_empty_store_is_an_empty_last_page(self, repo):
        assert repo.search((), 10) == UserPage((), None)
        assert repo.search(("ada",), 10) == UserPage((), None)

    def test_terms_are_literal_not_like_wildcard_or_query_syntax(self, repo):
        add_user(repo, "50%_off@example.com", 6)
        add_user(repo, "50abc@example.com", 5)
        add_user(repo, "a*b@example.com", 4)
        add_user(repo, "abc@example.com", 3)
        add_user(repo, "quote@example.com", 2, first_name='"Quoted"', last_name="Back\\slash")
        add_user(repo, "dan@example.com", 1, first_name="Dan", last_name="O'Brien")
        add_user(repo, "plain@example.com", 0, first_name="Plain", last_name="Name")
        assert found(repo, "50%_") == ["50%_off@example.com"]
        assert found(repo, "50%") == ["50%_off@example.com"]
        assert found(repo, "50_") == []
        assert found(repo, "50") == ["50%_off@example.com", "50abc@example.com"]
        assert found(repo, "a*") == ["a*b@example.com"]
        assert found(repo, "a?c") == []
        assert found(repo, '"') == ["quote@example.com"]
        assert found(repo, '"quoted"') == ["quote@example.com"]
        assert found(repo, "back\\s") == ["quote@example.com"]
        assert found(repo, "o'b") == ["dan@example.com"]
        for term in ("%", "_", "*", "?", "\\", "\\%", "%%", "'", "[a-z]", "a.", ".*", "(", ")", "{", "}", "~", "^", "$",
                     "|", "+", "-", "!", ":", "/", "<", ">", "&&", "||", "*:*", "p*", "\\u0000", "\x00", "plain\x00"):
            assert repo.search((term,), 10) == UserPage((), None), term

    # search: order and paging

    def test_search_lists_newest_first_and_equal_instants_by_email(self, repo):
        add_user(repo, "c@example.com", 0)
        add_user(repo, "b@example.com", 60)
        add_user(repo, "e@example.com", 0.001)  # a millisecond newer than c
        add_user(repo, "d@example.com", 120)
        add_user(repo, "a@example.com", 60)
        assert found(repo, "") == ["d@example.com", "a@example.com", "b@example.com", "e@example.com", "c@example.com"]

    def test_a_found_user_has_every_field_and_a_version_to_update_with(self, repo):
        user = make_user(first_name="Ada", last_name="Lovelace", is_admin=True, login_count=3, session_ids=("s1",))
        user = replace(user, last_login_at=CREATED + timedelta(days=1), failed_logins=2, last_failed_login_at=CREATED + timedelta(days=2))
        added = repo.add(user)
        assert repo.get("ada@example.com") == user
        (hit,) = repo.search(("ada",), 10).users
        assert hit == user
        assert hit.version == added.version
        repo.update(replace(hit, first_name="Countess"))
        assert repo.get("ada@example.com").first_name == "Countess"

    def test_paging_through_25_users_10_at_a_time_misses_and_repeats_nobody(self, repo):
        # Three users per instant, so pages end in the middle of a tie, added out of order.
        users = [(f"user{n:02}@example.com", n // 3) for n in range(25)]
        random.Random(4).shuffle(users)
        for email, seconds in users:
            add_user(repo, email, seconds)
        expected = [email for email, _ in sorted(users, key=lambda u: (-u[1], u[0]))]

        pages = [repo.search((), 10)]
        while pages[-1].next_cursor is not None:
            assert len(pages) < 5, "paging does not end"
            pages.append(repo.search((), 10, pages[-1].next_cursor))

        assert [len(page.users) for page in pages] == [10, 10, 5]
        assert [email for page in pages for email in emails(page)] == expected

    def test_paging_through_a_search_keeps_to_its_terms(self, repo):
        for n in range(12):
            add_user(repo, f"user{n:02}@example.com", n % 4, last_name="Match" if n % 3 else "Other")
        expected = found(repo, "match")
        assert len(expected) == 8
        first = repo.search(("match",), 3)
        second = repo.search(("match",), 3, first.next_cursor)
        third = repo.search(("match",), 3, second.next_cursor)
        assert emails(first) + emails(second) + emails(third) == expected
        assert third.next_cursor is None

    def test_a_page_that_ends_with_the_last_user_has_no_cursor(self, repo):
        for n in range(11):
            add_user(repo, f"user{n:02}@example.com", n)
        first = repo.search((), 10)
        assert len(first.users) == 10 and first.next_cursor is not None
        last = repo.search((), 10, first.next_cursor)
        assert emails(last) == ["user00@example.com"] and last.next_cursor is None
        assert repo.search((), 11).next_cursor is None

    def test_a_cursor_is_a_position_so_deleting_the_user_it_names_skips_nobody(self, repo):
        for n in range(6):
            add_user(repo, f"user{n}@example.com", n)
        first = repo.search((), 3)
        assert emails(first) == ["user5@example.com", "user4@example.com", "user3@example.com"]
        repo.delete("user3@example.com")
        add_user(repo, "user9@example.com", 9)  # newer than the cursor: not on later pages
        assert emails(repo.search((), 3, first.next_cursor)) == [
            "user2@example.com",
            "user1@example.com",
            "user0@example.com",
        ]

    @pytest.mark.parametrize(
        "cursor",
        [
            "not a cursor",
            "!!!",
            "e30",  # {}
            base64.urlsafe_b64encode(b'[123, "ada@example.com"]').decode(),
            base64.urlsafe_b64encode(b'["yesterday", "ada@example.com"]').decode(),
            base64.urlsafe_b64encode(b'["2026-03-04T05:06:07.891Z"]').decode(),
        ],
    )
    def test_a_malformed_cursor_is_a_validation_error(self, repo, cursor):
        add_user(repo, "ada@example.com")
        with pytest.raises(ValidationError) as caught:
            repo.search((), 10, cursor)
        assert caught.value.field == "cursor"


class TestInMemoryUserRepository(UserRepositoryContract):
    @pytest.fixture
    def repo(self):
        return InMemoryUserRepository()


class TestObservedSqliteUserRepository(UserRepositoryContract):
    """What the composition root hands the domain: the adapter behind the metrics and outage watch."""

    @pytest.fixture
    def repo(self, tmp_path):
        database = SqliteDatabase(tmp_path / "esauth.sqlite3")
        yield ObservedStore(SqliteUserRepository(database), RecordingMetrics(), OutageLog("sqlite"))
        database.close()


class TestSqliteUserRepository(UserRepositoryContract):
    @pytest.fixture
    def repo(self, tmp_path):
        database = SqliteDatabase(tmp_path / "esauth.sqlite3")
        yield SqliteUserRepository(database)
        database.close()

    def test_users_survive_a_restart(self, tmp_path):
        first = SqliteDatabase(tmp_path / "esauth.sqlite3")
        SqliteUserRepository(first).add(make_user())
        first.close()
        second = SqliteDatabase(tmp_path / "esauth.sqlite3")
        try:
            assert SqliteUserRepository(second).get("ada@example.com") == make_user()
            assert second.connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            second.close()

    def test_every_threads_connection_keeps_a_small_page_cache(self, tmp_path):
        """One connection per thread: SQLite's default 2 MiB cache each made 8 request threads
        hold 16 MiB of pages the OS caches anyway."""
        database = SqliteDatabase(tmp_path / "esauth.sqlite3")
        try:
            opened_before = len(database._connections)
            sizes = []
            threads = [threading.Thread(target=lambda: sizes.append(
                database.connection().execute("PRAGMA cache_size").fetchone()[0])) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sizes == [-sqlite_database.PAGE_CACHE_KIB] * 3
            assert len(database._connections) == opened_before + 3
        finally:
            database.close()

    def test_search_and_delete_of_a_store_that_cannot_be_read_are_store_unavailable(self, repo):
        repo._db.connection().execute("DROP TABLE users")
        with pytest.raises(StoreUnavailable):
            repo.search(("ada",), 10)
        with pytest.raises(StoreUnavailable):
            repo.delete("ada@example.com")

    def test_a_look_further_behind_than_the_change_log_keeps_is_incomplete(self, repo):
        mark = repo.changes_since(None).mark
        for n in range(3):
            add_user(repo, f"u{n}@example.com")
        connection = repo._db.connection()
        connection.execute("DELETE FROM user_changes WHERE sequence = (SELECT MIN(sequence) FROM user_changes)")
        assert repo.changes_since(mark).complete is False

    def test_a_mark_ahead_of_the_change_log_is_incomplete(self, repo):
        """A mark from another history (the file restored from a backup, or replaced): nothing a
        view kept can be vouched for, so it starts afresh rather than hearing of no change."""
        mark = repo.changes_since(None).mark
        add_user(repo, "u@example.com")
        assert repo.changes_since(str(int(mark) + 5)).complete is False
        assert repo.changes_since(mark).complete is True

    def test_more_changes_than_are_listed_is_incomplete(self, repo, monkeypatch):
        monkeypatch.setattr(sqlite_repository, "CHANGES_LISTED", 2)
        assert_too_many_changes_are_incomplete(repo)

    def test_a_write_made_around_esauth_is_listed_too(self, repo):
        """Triggers write the change log, so no writer (an operator's SQL, a script) can skip it."""
        add_user(repo, "ada@example.com")
        mark = repo.changes_since(None).mark
        repo._db.connection().execute("UPDATE users SET version = version + 1 WHERE email_address = 'ada@example.com'")
        assert repo.changes_since(mark).versions == {"ada@example.com": repo.get("ada@example.com").version}

    def test_an_edit_made_around_esauth_that_keeps_the_version_gets_a_new_one(self, repo):
        """An operator's SQL that rewrites the document but not the version: listed with a new
        version (a view holding the old one drops it), and a write from a read before the edit
        is refused rather than undoing it."""
        ada = add_user(repo, "ada@example.com")
        mark = repo.changes_since(None).mark
        repo._db.connection().execute(
            "UPDATE users SET document = json_set(document, '$.is_active', json('false')) WHERE email_address = 'ada@example.com'"
        )
        stored = repo.get("ada@example.com")
        assert stored.is_active is False and stored.version != ada.version
        assert repo.changes_since(mark).versions == {"ada@example.com": stored.version}
        with pytest.raises(VersionConflict):
            repo.update(replace(ada, first_name="Ada"))

    def test_a_page_is_read_off_the_created_at_index(self, repo, monkeypatch):
        """No sort of the whole table: the query seeks users_by_created_at to the cursor."""
        connection = repo._db.connection()
        statements = []

        class Recording:
            def execute(self, sql, parameters=()):
                statements.append((sql, parameters))
                return connection.execute(sql, parameters)

        monkeypatch.setattr(repo._db, "connection", Recording)
        repo.search(("ada",), 10, base64.urlsafe_b64encode(b'["2026-03-04T05:06:07.891Z", "a@b.c"]').decode())
        ((sql, parameters),) = statements
        plan = " ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters))
        assert "SEARCH" in plan and "users_by_created_at" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.elasticsearch
class TestSearchEngineUserRepository(UserRepositoryContract):
    """Run once per engine (tests/engines.py): elasticsearch-py on osmem, opensearch-py on the real node."""

    @pytest.fixture
    def repo(self, search_engine, es_index, clock):
        client = search_engine.connect()
        repository = RefreshingUserRepository(client, es_index, clock=clock)
        assert repository.ensure_index() == "created"
        assert repository.id_links.ensure_index() == "created"
        assert repository.tombstones.ensure_index() == "created"
        yield repository
        drop_indices(client, es_index, f"{es_index}-ids", f"{es_index}-gone")
        client.close()

    # A move is five writes here (SearchEngineUserRepository.move); a crash can stop it after any.

    def test_a_crash_before_the_commit_leaves_the_user_where_it_was_and_frees_the_address_later(self, repo, clock):
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        crash_after_claim(repo, ada, "ada@new.example.org")
        assert repo.get("ada@example.com").first_name == "Ada"  # still the user
        assert repo.get("ada@new.example.org") is None  # a move under way is not a user yet
        with pytest.raises(UserAlreadyExists):  # ... but holds the address meanwhile
            repo.add(make_user("ada@new.example.org"))
        settle(repo)
        assert found_emails(repo, "ada") == ["ada@example.com"]  # never listed twice
        clock.advance(seconds=MOVE_STALE.total_seconds() + 1)
        assert repo.get("ada@new.example.org") is None  # called off: the claim is gone
        assert repo.email_for_id("m" * 26) == "ada@example.com"
        assert repo.add(make_user("ada@new.example.org", first_name="Other")).first_name == "Other"
        user = repo.get("ada@example.com")
        assert user.first_name == "Ada" and user.user_id == "m" * 26
        repo.update(replace(user, last_name="King"))  # and writable as ever

    def test_a_claim_overtaken_by_a_write_of_the_user_is_dropped_at_once(self, repo):
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        crash_after_claim(repo, ada, "ada@new.example.org")
        repo.update(replace(repo.get("ada@example.com"), last_name="King"))  # a login, say: the mark goes
        assert repo.get("ada@new.example.org") is None
        assert repo.add(make_user("ada@new.example.org")).email_address == "ada@new.example.org"
        assert repo.get("ada@example.com").last_name == "King"

    def test_a_crash_after_the_commit_is_finished_by_the_next_reader(self, repo):
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        marked = crash_after_claim(repo, ada, "ada@new.example.org")
        repo._client.delete(repo.index, "ada@example.com", **version_guard(document_version(marked)))  # the commit
        found = repo.get("ada@new.example.org")
        assert (found.first_name, found.user_id, found.email_address) == ("Ada", "m" * 26, "ada@new.example.org")
        assert "moved_from" not in repo._client.get(repo.index, "ada@new.example.org")["_source"]
        assert repo.email_for_id("m" * 26) == "ada@new.example.org"
        repo.update(replace(found, last_name="King"))
        assert repo.get("ada@example.com") is None

    def test_a_second_move_after_a_crashed_one_succeeds(self, repo, clock):
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        crash_after_claim(repo, ada, "ada@new.example.org")
        moved = repo.move(replace(repo.get("ada@example.com"), email_address="ada@new.example.org"), "ada@example.com")
        assert repo.get("ada@new.example.org") == moved and repo.get("ada@example.com") is None

    def test_a_create_the_cluster_ran_again_after_it_landed_is_the_sign_up_not_a_taken_address(self, repo, monkeypatch):
        sent = run_every_write_twice(repo, monkeypatch)
        ada = repo.add(make_user(user_id="a" * 26))
        assert sent == ["ada@example.com", "ada@example.com"]  # the second answered 409
        assert ada.version == document_version(repo._raw("ada@example.com"))
        assert repo.update(replace(ada, last_name="King")).last_name == "King"  # the version it got is the one there

    def test_a_guarded_update_the_cluster_ran_again_is_acknowledged_at_the_version_it_made(self, repo, monkeypatch):
        ada = repo.add(make_user())
        run_every_write_twice(repo, monkeypatch)
        written = repo.update(replace(ada, last_name="King"))
        assert repo.get("ada@example.com").last_name == "King" and written.version == repo.get("ada@example.com").version

    def test_a_move_whose_writes_the_cluster_ran_again_lands_at_the_new_address(self, repo, monkeypatch):
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        run_every_write_twice(repo, monkeypatch)
        moved = repo.move(replace(ada, email_address="ada@new.example.org"), "ada@example.com")
        assert (moved.first_name, moved.email_address) == ("Ada", "ada@new.example.org")
        assert repo.get("ada@example.com") is None and repo.get("ada@new.example.org") == moved
        assert repo.email_for_id("m" * 26) == "ada@new.example.org"

    def test_a_move_overtaken_by_a_whole_other_move_leaves_the_user_at_that_ones_address(self, repo, monkeypatch):
        """Move A stalls before its commit; meanwhile a login drops A's mark and move B takes the
        user to another address. A's commit then finds the old address gone, as it would had its
        own delete landed, but the id names B's address: A is called off, the user is at one place."""
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        commit = repo._delete_guarded

        def overtaken(email: str, version: str) -> None:
            monkeypatch.setattr(repo, "_delete_guarded", commit)
            relogged = repo.update(replace(repo.get("ada@example.com"), last_name="King"))
            repo.move(replace(relogged, email_address="ada@y.example.org"), "ada@example.com")
            commit(email, version)

        monkeypatch.setattr(repo, "_delete_guarded", overtaken)
        with pytest.raises(VersionConflict):
            repo.move(replace(ada, email_address="ada@x.example.org"), "ada@example.com")
        assert repo.get("ada@x.example.org") is None and repo.get("ada@example.com") is None
        assert repo.get("ada@y.example.org").last_name == "King"
        assert repo.email_for_id("m" * 26) == "ada@y.example.org"

    def test_a_commit_run_again_after_the_old_address_was_taken_anew_is_still_committed(self, repo, monkeypatch):
        """The cluster ran the commit's landed delete again, and someone signed up under the old
        address in between: that document is another user's, so the move is committed, as a
        settler reads it."""
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        delete = repo._client.delete

        def landed_then_retaken(index, id, **options):
            delete(index, id, **options)
            repo.add(make_user("ada@example.com", first_name="Eve", user_id="e" * 26))
            raise NotFound("document_missing")

        monkeypatch.setattr(repo._client, "delete", landed_then_retaken)
        moved = repo.move(replace(ada, email_address="ada@new.example.org"), "ada@example.com")
        assert (moved.first_name, repo.get("ada@new.example.org").first_name) == ("Ada", "Ada")
        assert repo.get("ada@example.com").first_name == "Eve"
        assert repo.email_for_id("m" * 26) == "ada@new.example.org"

    def test_a_move_whose_new_address_is_deleted_before_it_finishes_is_not_found(self, repo, monkeypatch):
        """An admin deletes the new address between the commit and the clearing of the claim's
        marks: the user is gone, and the move must say so rather than return it."""
        ada = repo.add(make_user(first_name="Ada", user_id="m" * 26))
        commit = repo._delete_guarded

        def then_deleted(email: str, version: str) -> None:
            commit(email, version)
            if email == "ada@example.com":
                assert repo.delete("ada@new.example.org")

        monkeypatch.setattr(repo, "_delete_guarded", then_deleted)
        with pytest.raises(UserNotFound):
            repo.move(replace(ada, email_address="ada@new.example.org"), "ada@example.com")
        assert repo.get("ada@new.example.org") is None and repo.get("ada@example.com") is None

    def test_a_create_refused_for_another_users_document_still_finds_the_address_taken(self, repo, monkeypatch):
        repo.add(make_user(first_name="Ada"))
        run_every_write_twice(repo, monkeypatch)
        with pytest.raises(UserAlreadyExists):
            repo.add(make_user(first_name="Eve"))
        assert repo.get("ada@example.com").first_name == "Ada"

    @pytest.mark.parametrize("call", ["search", "refresh"])
    @pytest.mark.parametrize("index_part", ["", "-gone"], ids=["users", "tombstones"])
    def test_an_answer_a_shard_copy_failed_is_unavailable_not_a_short_answer(self, repo, monkeypatch, index_part, call):
        """Engines answer a search with what the shards that answered found, and a refresh that
        failed on a copy leaves that copy's searches behind: a look missing a shard's changes
        would be taken as complete, a page of users as the whole page."""
        answer = getattr(repo._client, call)
        failing = f"{repo.index}{index_part}"

        def partial(index, *body):
            found = answer(index, *body)
            if index == failing:
                found = {**found, "_shards": {"total": 2, "successful": 1, "skipped": 0, "failed": 1}}
            return found

        mark = repo.changes_since(None).mark
        add_user(repo, "u@example.com")
        monkeypatch.setattr(repo._client, call, partial)
        with pytest.raises(StoreUnavailable, match="1 of 2 shard copies"):
            repo.changes_since(mark)
        if not index_part and call == "search":
            with pytest.raises(StoreUnavailable):
                repo.search((), 10)

    def test_documents_are_keyed_by_the_email_in_the_first_numbered_index_behind_the_alias(self, repo):
        repo.add(make_user())
        found = repo._client.get(repo.index, "ada@example.com")
        assert found["_source"]["email_address"] == "ada@example.com"
        assert found["_index"] == f"{repo.index}-000001"

    def test_ensure_index_is_idempotent(self, repo):
        assert repo.ensure_index() == "exists"
        assert repo.upgrade_index() == "exists"

    def test_a_lost_index_is_store_unavailable_and_never_made_again_by_a_write(self, repo, caplog):
        repo._client.delete_index(f"{repo.index}-000001")
        caplog.set_level(logging.ERROR, logger="esauth.search_engine")
        for call in (lambda: repo.add(make_user()), lambda: repo.get("ada@example.com"),
                     lambda: repo.search(("ada",), 10), lambda: repo.delete("ada@example.com")):
            with pytest.raises(StoreUnavailable, match="missing"):
                call()
        assert repo._client.index_exists(repo.index) is False  # the sign-up made no index
        lines = [record.getMessage() for record in caplog.records]
        assert len(lines) == 1 and "esauth init" in lines[0], lines  # one line, not one per request
        assert repo.upgrade_index() == "created"  # what esauth init does
        assert repo.add(make_user()).version is not None

    def test_a_writer_whose_clock_is_behind_by_less_than_the_window_is_still_listed(self, repo, monkeypatch):
        ada = repo.add(make_user())
        mark = repo.changes_since(None).mark
        real = user_repository._now_ms
        monkeypatch.setattr(user_repository, "_now_ms", lambda: real() - user_repository.CHANGE_WINDOW_MS + 1000)
        ada = repo.update(replace(ada, is_active=False))
        monkeypatch.setattr(user_repository, "_now_ms", real)
        assert repo.changes_since(mark).versions["ada@example.com"] == ada.version

    def test_a_write_stamped_before_the_window_is_not_listed(self, repo, monkeypatch):
        """The look is a range query, not a scan: what was written well before the last look is left out."""
        real = user_repository._now_ms
        monkeypatch.setattr(user_repository, "_now_ms", lambda: real() - user_repository.CHANGE_WINDOW_MS - 5000)
        repo.add(make_user())
        repo.delete(repo.add(make_user("gone@example.com")).email_address)
        monkeypatch.setattr(user_repository, "_now_ms", real)
        mark = repo.changes_since(None).mark
        fresh = repo.add(make_user("new@example.com"))
        assert repo.changes_since(mark).versions == {"new@example.com": fresh.version}

    def test_a_look_after_this_machines_clock_was_stepped_forward_is_incomplete_and_says_so(self, repo, monkeypatch, caplog):
        mark = repo.changes_since(None).mark
        assert repo.changes_since(mark).complete
        real = user_repository._now_ms
        monkeypatch.setattr(user_repository, "_now_ms", lambda: real() + 30_000)
        stepped = repo.changes_since(mark)
        assert stepped.complete is False
        assert "clock was stepped forward by 30" in caplog.text
        assert repo.changes_since(stepped.mark).complete  # once: the clock runs steadily again

    def test_clocks_parted_over_hours_without_a_look_are_not_taken_for_a_step(self, repo, monkeypatch, caplog):
        """NTP's slew alone parts them by seconds over hours; such a look is complete and quiet."""
        mark = repo.changes_since(None).mark
        real_wall, real_steady = user_repository._now_ms, user_repository._steady_ms
        monkeypatch.setattr(user_repository, "_steady_ms", lambda: real_steady() + 3 * 3_600_000)
        monkeypatch.setattr(user_repository, "_now_ms", lambda: real_wall() + 3 * 3_600_000 + 6_000)
        assert repo.changes_since(mark).complete
        assert "clock was stepped" not in caplog.text

    def test_a_step_back_of_this_machines_clock_widens_the_next_look_and_is_logged(self, repo, monkeypatch, caplog):
        """Marks follow the clock back, so the next look only reaches further; the writes this
        machine stamps after the step may be missed by other machines' looks, hence the line."""
        mark = repo.changes_since(None).mark
        ada = add_user(repo, "ada@example.com")
        real = user_repository._now_ms
        monkeypatch.setattr(user_repository, "_now_ms", lambda: real() - 30_000)
        back = repo.changes_since(mark)
        assert back.complete and back.versions == {"ada@example.com": ada.version}
        assert "clock was stepped back by 30" in caplog.text
        assert repo.changes_since(back.mark).versions == {"ada@example.com": ada.version}

    def test_more_changes_than_are_listed_is_incomplete(self, repo, monkeypatch):
        monkeypatch.setattr(user_repository, "CHANGES_LISTED", 2)
        monkeypatch.setattr(user_repository, "CHANGE_PAGES", 1)
        assert_too_many_changes_are_incomplete(repo)

    def test_a_look_pages_through_more_changes_than_one_page_holds(self, repo, monkeypatch):
        """Each look lists the whole window again, so one page (2,000 changed users) would be
        exceeded by 200 writes a second and empty every view on every look: a look reads pages,
        by email, up to CHANGE_PAGES of them."""
        monkeypatch.setattr(user_repository, "CHANGES_LISTED", 2)
        monkeypatch.setattr(user_repository, "CHANGE_PAGES", 3)
        mark = repo.changes_since(None).mark
        made = [add_user(repo, f"u{n}@example.com") for n in range(6)]
        repo.delete("u5@example.com")
        changes = repo.changes_since(mark)
        assert changes.complete
        assert changes.versions == {**{user.email_address: user.version for user in made[:5]}, "u5@example.com": None}
        add_user(repo, "u6@example.com")
        add_user(repo, "u7@example.com")
        assert repo.changes_since(mark).complete is False  # 7 users changed: more than 3 pages of 2

    def test_a_user_rewritten_while_a_look_pages_is_still_listed(self, repo, monkeypatch):
        """A write between two pages of a look, stamped behind what the first page read (a writer
        whose clock is behind, within the window) and made searchable at once: by `changed_at`
        the user would move behind the page already read and be listed by no page."""
        monkeypatch.setattr(user_repository, "CHANGES_LISTED", 2)
        real, search = user_repository._now_ms, repo._client.search
        mark = repo.changes_since(None).mark
        for n in range(6):
            add_user(repo, f"u{n}@example.com")
        rewritten = []

        def paging(index, body):
            found = search(index, body)
            if "sort" in body and not rewritten:
                monkeypatch.setattr(user_repository, "_now_ms", lambda: int(mark.partition(":")[0]) - 5000)
                rewritten.append(repo.update(replace(repo.get("u5@example.com"), first_name="Later")))
                monkeypatch.setattr(user_repository, "_now_ms", real)
                repo._client.refresh(repo.index)
            return found

        monkeypatch.setattr(repo._client, "search", paging)
        changes = repo.changes_since(mark)
        assert changes.complete and rewritten
        assert changes.versions["u5@example.com"] == rewritten[0].version
        assert {f"u{n}@example.com" for n in range(6)} <= changes.versions.keys()

    def test_a_deletion_leaves_a_tombstone_that_a_look_lists(self, repo):
        repo.add(make_user())
        mark = repo.changes_since(None).mark
        assert repo.delete("ada@example.com") is True
        assert repo._client.get(repo.tombstones.index, "ada@example.com")["_source"]["changed_at"] > int(mark.partition(":")[0]) - 1000
        assert repo.changes_since(mark).versions == {"ada@example.com": None}

    def test_search_and_delete_of_a_store_that_does_not_answer_are_store_unavailable(self, search_engine):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = connect(f"http://127.0.0.1:{port}", engine=search_engine.client, request_timeout_s=1)
        repository = SearchEngineUserRepository(client, "users")
        try:
            with pytest.raises(StoreUnavailable):
                repository.search(("ada",), 10)
            with pytest.raises(StoreUnavailable):
                repository.delete("ada@example.com")
        finally:
            client.close()


def run_every_write_twice(repo: SearchEngineUserRepository, monkeypatch) -> list[str]:
    """Each write sent again once it landed, answering the second's outcome: what a coordinating
    node does when the primary's node stops after replicating (OpenSearch PR 21456). Returns the
    ids written."""
    put, delete, sent = repo._client.put, repo._client.delete, []

    def twice(index, id, document, **options):
        put(index, id, document, **options)
        sent.extend((id, id))
        return put(index, id, document, **options)

    def delete_twice(index, id, **options):
        delete(index, id, **options)
        return delete(index, id, **options)

    monkeypatch.setattr(repo._client, "put", twice)
    monkeypatch.setattr(repo._client, "delete", delete_twice)
    return sent


def crash_after_claim(repo: SearchEngineUserRepository, user: User, new_email: str) -> dict:
    """The first three steps of a move (mark, claim, link) as a process that then died makes them;
    returns the marked old document's write answer."""
    old = repo._raw(user.email_address)
    move = {"moving_since": format_time(repo._clock()), "move_id": "crashed"}
    kept = {key: value for key, value in old["_source"].items() if key not in MOVE_MARKS}
    marked = repo._put(user.email_address, {**kept, "moving_to": new_email, **move}, **version_guard(user.version))
    claim = {**repo._document(replace(user, email_address=new_email)), "moved_from": user.email_address, **move}
    repo._put(new_email, claim, create=True)
    repo.id_links.link(user.user_id, new_email)
    return marked


class RefreshingUserRepository(SearchEngineUserRepository):
    """Searches see writes once the index refreshes (about 1 s on a real engine): the contract
    is about what they find, so the tests refresh first instead of waiting or slowing writes.
    (tests/opensearch/test_real_engine.py shows the near-real-time gap itself.)"""

    def search(self, terms, limit, cursor=None):
        try:
            self._client.refresh(self.index)
        except NotFound:  # no index: the search itself says what that means
            pass
        return super().search(terms, limit, cursor)


ISSUE_2_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "email_address": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "first_name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "last_name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "is_active": {"type": "boolean"},
        "created_at": {"type": "date"},
        "session_ids": {"type": "keyword", "index": False, "doc_values": False},
    },
}
"""The mapping the first release created, on a concrete index named like today's alias."""

OLD_DOCUMENT = {
    "email_address": "old@example.com", "password_hash": "$argon2id$x", "first_name": "Olga",
    "last_name": None, "is_active": True, "created_at": "2026-01-01T00:00:00.000Z", "session_ids": [],
}


@pytest.mark.elasticsearch
def test_an_index_made_by_an_earlier_release_is_refused_by_serving_and_upgraded_by_init(search_engine, es_index):
    client = search_engine.connect()
    try:
        client.create_index(es_index, ISSUE_2_MAPPING, {})
        for email, first_name in (("old@example.com", "Olga"), ("older@example.com", "Oksana")):
            client.put(es_index, email, {**OLD_DOCUMENT, "email_address": email, "first_name": first_name}, require_alias=False)
        repository = RefreshingUserRepository(client, es_index)

        with pytest.raises(StoreNeedsInit, match="earlier release"):
            repository.ensure_index()
        outcome = repository.upgrade_index()
        assert outcome.startswith(f"reindexed 2 documents from {es_index} into {es_index}-000001"), outcome
        assert client.aliases(es_index) == {f"{es_index}-000001": {"aliases": {es_index: {"is_write_index": True}}}}
        assert repository.ensure_index() == "exists"

        repository.add(make_user("new@example.com", first_name="Nadia", is_admin=True, login_count=2))
        old = repository.get("old@example.com")
        assert (old.failed_logins, old.last_failed_login_at) == (0, None)  # absent fields read as defaults
        failed_at = datetime(2026, 1, 2, tzinfo=timezone.utc)
        record = SessionRecord("s", failed_at, failed_at, "curl", "127.0.0.1")
        repository.update(replace(old, login_count=1, session_ids=("s",), sessions=(record,), failed_logins=3, last_failed_login_at=failed_at))  # writes new fields to an old doc
        upgraded = repository.get("old@example.com")
        assert (upgraded.login_count, upgraded.failed_logins, upgraded.last_failed_login_at) == (1, 3, failed_at)
        assert upgraded.sessions == (record,)

        assert [u.email_address for u in repository.search(("older",), 10).users] == ["older@example.com"]  # by email
        assert [u.email_address for u in repository.search(("oksana",), 10).users] == []  # not yet by name
        assert repository.backfill_search_fields() == 1
        assert [u.email_address for u in repository.search(("oksana",), 10).users] == ["older@example.com"]
        assert repository.backfill_search_fields() == 0
    finally:
        drop_indices(client, es_index)
        client.close()


@pytest.mark.elasticsearch
def test_the_previous_releases_index_is_served_with_the_write_id_field_added_in_place(search_engine, es_index):
    """The release before `write_id` made the same index without it: start-up adds the field
    (a strict mapping would refuse every write carrying it), no reindex needed."""
    client = search_engine.connect()
    try:
        previous = {**USERS, "properties": {k: v for k, v in USERS["properties"].items() if k != "write_id"}}
        assert create_first(client, es_index, previous)
        repository = RefreshingUserRepository(client, es_index)
        assert repository.ensure_index() == "fields added"
        index = concrete_name(es_index, 1)
        assert "write_id" in client.mapping(index)[index]["mappings"]["properties"]
        assert repository.ensure_index() == "exists"
        ada = repository.add(make_user())
        assert repository.update(replace(ada, last_name="King")).last_name == "King"
    finally:
        drop_indices(client, es_index)
        client.close()


@pytest.mark.elasticsearch
def test_a_dynamic_mapping_is_named_at_start_up_and_init_reindexes_it_into_a_strict_one(search_engine, es_index):
    client = search_engine.connect()
    try:
        # What a write into a missing index left behind with an earlier release: dynamic mapping.
        client.put(es_index, "old@example.com", {**OLD_DOCUMENT, "name_words": ["olga"]}, require_alias=False)
        client.refresh(es_index)
        repository = RefreshingUserRepository(client, es_index)
        with pytest.raises(StoreNeedsInit, match="earlier release"):
            repository.ensure_index()
        # behind an alias, a dynamic index is named as such
        client.create_index(f"{es_index}-dyn", {"dynamic": True}, {})
        repository_on_dynamic = RefreshingUserRepository(client, f"{es_index}-a")
        client.update_aliases([{"add": {"index": f"{es_index}-dyn", "alias": f"{es_index}-a", "is_write_index": True}}])
        with pytest.raises(StoreNeedsInit, match="dynamic"):
            repository_on_dynamic.ensure_index()
        assert repository.upgrade_index().startswith("reindexed 1 documents")
        assert repository.get("old@example.com").first_name == "Olga"
        assert client.mapping(f"{es_index}-000001")[f"{es_index}-000001"]["mappings"]["dynamic"] == "strict"
    finally:
        drop_indices(client, es_index)
        for name in (f"{es_index}-dyn",):
            if client.index_exists(name):
                client.delete_index(name)
        client.close()
