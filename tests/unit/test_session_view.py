"""The session view (domain.session_view): what it trusts, when it looks, what it forgets.
Injected time only; the stores' own change feeds are in tests/contract/test_user_repository.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from domain.changes import Changes
from domain.errors import StoreUnavailable, UserNotFound
from domain.user import User
from domain.users import Users
from tests.fakes import FakeClock, InMemoryUserRepository

CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)
BOUND = timedelta(seconds=1)
LOOK = BOUND / 4


class Store(InMemoryUserRepository):
    """The fake, counting reads and looks, and failing on demand as a store that is down does."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = self.looks = 0
        self.down = False
        self.looks_down = False
        self.during_read = None
        self.during_look = None
        self.after_write = None
        self.incomplete = False

    def get(self, email_address: str) -> User | None:
        if self.down:
            raise StoreUnavailable("down")
        self.reads += 1
        user = super().get(email_address)
        if self.during_read is not None:
            hook, self.during_read = self.during_read, None
            hook()
        return user

    def changes_since(self, mark: str | None) -> Changes:
        if self.down or self.looks_down:
            raise StoreUnavailable("down")
        self.looks += 1
        if self.during_look is not None:
            hook, self.during_look = self.during_look, None
            hook()  # after the view began its look, before the store answers it
        changes = super().changes_since(mark)
        return replace(changes, versions={}, complete=False) if self.incomplete and mark is not None else changes


    def update(self, user: User) -> User:
        written = super().update(user)
        if self.after_write is not None:
            hook, self.after_write = self.after_write, None
            hook()  # written, not yet answered
        return written

    def move(self, user: User, from_email: str) -> User:
        written = super().move(user, from_email)
        if self.after_write is not None:
            hook, self.after_write = self.after_write, None
            hook()
        return written


@pytest.fixture
def store() -> Store:
    store = Store()
    for name in ("ada", "bob", "cy", "di", "ed"):
        user_id = name.ljust(26, "a")  # one of its own: a user without gets one by a write on first read
        store.add(User(email_address=f"{name}@example.com", password_hash="h", created_at=CREATED, session_ids=("s",), user_id=user_id))
    return store


def revoke(users: Users, email: str = "ada@example.com") -> None:
    users.modify(email, lambda user: replace(user, session_ids=()))


def test_a_checked_user_is_not_read_again_until_it_changes(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    for _ in range(100):
        assert here.recent("ada@example.com").session_ids == ("s",)
        clock.advance(milliseconds=50)
    assert store.reads == 1
    assert store.looks == 100 * 50 // 250  # once per quarter of the bound, however many checks
    revoke(there)
    reads = store.reads
    clock.advance(milliseconds=250)
    assert here.recent("ada@example.com").session_ids == ()
    assert store.reads == reads + 1


def test_a_write_made_here_is_seen_here_at_once_and_costs_no_read(store: Store, clock: FakeClock) -> None:
    here = Users(store, clock, BOUND)
    here.recent("ada@example.com")
    revoke(here)
    reads = store.reads
    for _ in range(8):
        assert here.recent("ada@example.com").session_ids == ()
        clock.advance(milliseconds=250)  # the look lists this very write, at the version held: kept
    assert store.reads == reads


def test_a_view_whose_looks_fail_is_not_used_once_the_bound_has_passed(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("ada@example.com")
    store.looks_down = True
    revoke(there)
    clock.advance(milliseconds=999)
    assert here.recent("ada@example.com").session_ids == ("s",)  # last answered look began 999 ms ago
    reads = store.reads
    clock.advance(milliseconds=1)
    assert here.recent("ada@example.com").session_ids == ()  # not trusted: read per check
    here.recent("ada@example.com")
    assert store.reads == reads + 2
    store.down = True
    with pytest.raises(StoreUnavailable):  # fails closed: never answered from a view nobody vouches for
        here.recent("ada@example.com")
    store.down = store.looks_down = False
    clock.advance(milliseconds=250)
    here.recent("ada@example.com")
    reads = store.reads
    assert here.recent("ada@example.com").session_ids == ()
    assert store.reads == reads  # trusted again once a look answers


def test_changes_made_while_the_store_did_not_answer_are_dropped_when_it_answers_again(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("ada@example.com")
    here.recent("bob@example.com")
    store.looks_down = True
    revoke(there, "bob@example.com")
    clock.advance(seconds=5)
    store.looks_down = False
    clock.advance(milliseconds=250)
    here.recent("ada@example.com")  # this check's look asks from the last answered mark
    reads = store.reads
    assert here.recent("bob@example.com").session_ids == ()
    assert here.recent("ada@example.com").session_ids == ("s",)
    assert store.reads == reads + 1


def test_an_incomplete_answer_empties_the_view(store: Store, clock: FakeClock) -> None:
    here = Users(store, clock, BOUND)
    here.recent("ada@example.com")
    clock.advance(milliseconds=250)
    here.recent("ada@example.com")
    assert here.view.size == 1
    store.incomplete = True
    clock.advance(milliseconds=250)
    reads = store.reads
    here.recent("ada@example.com")
    assert store.reads == reads + 1


def test_a_read_under_way_while_a_look_drops_its_user_is_not_kept(store: Store, clock: FakeClock) -> None:
    """The read got the user before a logout elsewhere; the look that lists the logout ends
    before the read is kept. Keeping it would hold the revoked session until the next change."""
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("bob@example.com")  # the first look is behind us

    def meanwhile() -> None:
        revoke(there)
        clock.advance(milliseconds=250)
        here.view.look()

    store.during_read = meanwhile
    assert here.recent("ada@example.com").session_ids == ("s",)  # what the read itself saw
    assert here.recent("ada@example.com").session_ids == ()  # not kept: read again


def test_the_view_holds_at_most_its_entries_and_forgets_the_oldest_read(store: Store, clock: FakeClock) -> None:
    here = Users(store, clock, BOUND, view_entries=3)
    for name in ("ada", "bob", "cy", "di"):
        here.recent(f"{name}@example.com")
    assert here.view.size == 3
    reads = store.reads
    here.recent("di@example.com")
    here.recent("bob@example.com")
    assert store.reads == reads
    here.recent("ada@example.com")
    assert store.reads == reads + 1


def test_a_clock_that_went_back_does_not_make_the_view_trusted(store: Store, clock: FakeClock) -> None:
    here = Users(store, clock, BOUND)
    here.recent("ada@example.com")
    clock.advance(seconds=-5)
    reads = store.reads
    here.recent("ada@example.com")
    assert store.reads == reads + 1


@pytest.mark.parametrize("bound, entries", [(timedelta(0), 50_000), (BOUND, 0)])
def test_a_view_turned_off_reads_every_time_and_never_looks(store: Store, clock: FakeClock, bound, entries) -> None:
    here = Users(store, clock, bound, view_entries=entries)
    for _ in range(3):
        here.recent("ada@example.com")
        clock.advance(milliseconds=250)
    assert (store.reads, store.looks, here.view.size) == (3, 0, 0)


# Races whose loser would keep a revoked or deactivated user for good: SQLite's change feed,
# like the fake's, lists each change once.


def looked_again(here: Users, clock: FakeClock, looks: int = 8) -> None:
    """Let `here` look `looks` times (each look on the check of another user)."""
    for _ in range(looks):
        clock.advance(milliseconds=250)
        here.recent("ed@example.com")


def test_a_read_begun_while_a_look_ran_that_missed_a_change_the_look_lists_is_not_kept(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("ed@example.com")
    clock.advance(milliseconds=250)

    def meanwhile() -> None:
        here.refresh("ada@example.com")  # another request thread, after the look began
        revoke(there)  # committed before the store answers the look

    store.during_look = meanwhile
    here.recent("ed@example.com")
    looked_again(here, clock)
    assert here.recent("ada@example.com").session_ids == ()


@pytest.mark.parametrize("read_meanwhile", [False, True], ids=["look drops it", "a read saw the later write"])
def test_a_write_here_overtaken_elsewhere_before_a_look_is_not_kept(store: Store, clock: FakeClock, read_meanwhile: bool) -> None:
    """Another process deactivates the user between this process's write and its answer; a look
    then lists that, finding the user dropped or (read by another request thread) at that version."""
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("ada@example.com")

    def overtaken() -> None:
        there.modify("ada@example.com", lambda user: replace(user, is_active=False))
        if read_meanwhile:
            here.refresh("ada@example.com")
        clock.advance(milliseconds=250)
        here.view.look()

    store.after_write = overtaken
    here.modify("ada@example.com", lambda user: replace(user, first_name="Ada"))
    looked_again(here, clock)
    assert here.recent("ada@example.com").is_active is False


def test_a_move_here_overtaken_at_the_new_address_before_a_look_is_not_kept(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("ed@example.com")

    def overtaken() -> None:
        there.modify("ada@new.example.org", lambda user: replace(user, is_active=False))
        clock.advance(milliseconds=250)
        here.view.look()

    store.after_write = overtaken
    here.move("ada@example.com", "ada@new.example.org", lambda user: user)
    looked_again(here, clock)
    assert here.recent("ada@new.example.org").is_active is False


def test_a_stale_mark_forgotten_when_the_view_is_full_does_not_let_an_older_read_land(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND, view_entries=2), Users(store, clock, BOUND)
    here.recent("ed@example.com")
    clock.advance(milliseconds=250)
    here.recent("ed@example.com")

    def meanwhile() -> None:
        revoke(there)
        clock.advance(milliseconds=250)
        here.view.look()  # marks ada stale: its read is under way
        for name in ("bob", "cy", "di"):
            here.recent(f"{name}@example.com")  # two entries: the mark is forgotten

    store.during_read = meanwhile
    here.recent("ada@example.com")  # lands after the look that dropped it
    looked_again(here, clock, 1)
    assert here.recent("ada@example.com").session_ids == ()


@pytest.mark.parametrize("step", ["written", "remember"])
def test_a_look_between_a_store_call_and_what_the_view_keeps_of_it_is_not_lost(store: Store, clock: FakeClock, step: str) -> None:
    """The thread pauses after the store answered (a write here, or a read) and before the view
    keeps the answer; meanwhile another process deactivates the user and a look lists it."""
    here, there = Users(store, clock, BOUND), Users(store, clock, BOUND)
    here.recent("ed@example.com")
    keep = getattr(here.view, step)

    def paused(email: str, user: User | None, *tick: int | None) -> None:
        if email == "ada@example.com":
            there.modify("ada@example.com", lambda current: replace(current, is_active=False))
            clock.advance(milliseconds=250)
            here.view.look()
        keep(email, user, *tick)

    setattr(here.view, step, paused)
    if step == "written":
        here.modify("ada@example.com", lambda user: replace(user, first_name="Ada"))
    else:
        here.recent("ada@example.com")
    setattr(here.view, step, keep)
    looked_again(here, clock)
    assert here.recent("ada@example.com").is_active is False


@pytest.mark.parametrize("forgotten", ["incomplete look", "view full"])
def test_a_write_here_is_not_kept_when_the_view_forgot_the_user_while_it_ran(store: Store, clock: FakeClock, forgotten: str) -> None:
    """Another process deactivates the user during this process's write, and the view forgets
    what a look learnt of it (emptied by an incomplete look, or the mark pushed out of a full
    view) before the write answers."""
    here, there = Users(store, clock, BOUND, view_entries=2 if forgotten == "view full" else 50_000), Users(store, clock, BOUND)
    here.recent("ada@example.com")

    def overtaken() -> None:
        there.modify("ada@example.com", lambda user: replace(user, is_active=False))
        store.incomplete = forgotten == "incomplete look"
        clock.advance(milliseconds=250)
        here.view.look()
        store.incomplete = False
        if forgotten == "view full":
            for name in ("bob", "cy", "di"):
                here.recent(f"{name}@example.com")

    store.after_write = overtaken
    here.modify("ada@example.com", lambda user: replace(user, first_name="Ada"))
    looked_again(here, clock)
    assert here.recent("ada@example.com").is_active is False


def test_a_revocation_here_counts_here_at_once_though_a_read_answered_before_it_landed(store: Store, clock: FakeClock) -> None:
    """Another request thread of this process reads the user while the logout-all is under way
    and keeps the old copy: the write may not replace what was learnt after it began, but this
    process must not serve the old sessions either."""
    here = Users(store, clock, BOUND)
    here.recent("ed@example.com")
    update = store.update

    def read_meanwhile(user: User) -> User:
        store.update = update
        here.refresh("ada@example.com")  # answered before the write lands
        return update(user)

    store.update = read_meanwhile
    revoke(here)
    assert here.recent("ada@example.com").session_ids == ()


def test_users_marked_stale_while_being_read_do_not_grow_the_view_past_its_entries(store: Store, clock: FakeClock) -> None:
    here, there = Users(store, clock, BOUND, view_entries=2), Users(store, clock, BOUND)
    here.recent("bob@example.com")
    here.recent("cy@example.com")
    for n in range(5):
        def meanwhile(n: int = n) -> None:
            there.modify("ada@example.com", lambda user: replace(user, first_name=str(n)))
            clock.advance(milliseconds=250)
            here.view.look()  # marks ada, being read, stale

        store.during_read = meanwhile
        here.refresh("ada@example.com")
        here.recent(f"{['bob', 'cy', 'di', 'ed', 'bob'][n]}@example.com")
    assert here.view.size <= 2


def test_a_user_found_missing_by_a_write_is_not_kept_as_gone_over_a_sign_up_listed_meanwhile(store: Store, clock: FakeClock) -> None:
    """A write here finds nobody (deleted elsewhere); before it says so, the address is signed
    up again, read here and listed by a look. "Gone" must not be kept over that for good."""
    here = Users(store, clock, BOUND)
    here.recent("ed@example.com")
    store.delete("ada@example.com")
    get = store.get

    def signed_up_meanwhile(email: str) -> User | None:
        found = get(email)
        store.get = get
        store.add(User(email_address="ada@example.com", password_hash="h", created_at=CREATED, session_ids=("t",), user_id="z" * 26))
        here.recent("ada@example.com")
        clock.advance(milliseconds=250)
        here.view.look()
        return found

    store.get = signed_up_meanwhile
    with pytest.raises(UserNotFound):
        here.modify("ada@example.com", lambda user: replace(user, first_name="Ada"))
    looked_again(here, clock)
    assert here.recent("ada@example.com").session_ids == ("t",)
