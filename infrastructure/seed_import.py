"""Import the users of a seed-era Elasticsearch index (the 2014 Flask tutorial) into esauth.

A seed document is keyed by email and looks like
`{"email_address": ..., "password": "pbkdf2:sha1:1000$salt$hex", "first_name": ..., "last_name": ...,
"is_active": true, "created_at": 1417912435.2168, "_type": "user"}`. Each valid one becomes a
User whose `password_hash` is the werkzeug hash as it is: `UpgradingHasher` verifies it and the
first successful login replaces it with argon2.

Paging: the scroll API sorted by `_doc`, over plain HTTP (search_engine.seed_source). It reads
every document of a snapshot of the index whatever its mapping (a seed index has no keyword
field we can count on: dynamic mapping makes `email_address` a text field, and sorting on `_id`
is refused by Elasticsearch 8+), it is served by Elasticsearch 1.x to 9.x and by OpenSearch and
osmem-server alike, and the context is cleared at the end. (Point-in-time has different APIs
on Elasticsearch and OpenSearch and osmem-server has neither.) The documents read are checked
against the index's `_count`, which every version answers exactly.

Running the import again is safe: users already present count as duplicates and are left alone.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from domain.errors import StoreUnavailable, UserAlreadyExists, ValidationError
from domain.user import User, check_name, new_user_id, normalize_email
from infrastructure.search_engine.client import NotFound
from infrastructure.search_engine.seed_source import SeedSource
from infrastructure.hashing.legacy_hashes import is_werkzeug_pbkdf2
from ports.clock import Clock
from ports.repository import UserRepository

log = logging.getLogger("esauth.seed_import")

PAGE_SIZE = 500
SCROLL_KEEP_ALIVE = "2m"
"""How long the server keeps the scroll between two pages; a page is stored well within it."""

MISSING_IS_ACTIVE = False
"""A seed document without `is_active` is imported inactive: the seed's own `User.is_active()`
read `values.get('is_active', False)`, so Flask-Login never let such a user in. An operator can
activate them with `esauth set-active`."""

DUPLICATE = "duplicate"


class SeedIndexNotFound(LookupError):
    """The seed index does not exist on the source cluster."""

    def __init__(self, index: str) -> None:
        super().__init__(f"no index {index!r} on the source cluster")
        self.index = index


class InvalidSeedDocument(ValueError):
    """A seed document that cannot become a user; `reason` is a short key for the report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ImportReport:
    """Counts only: never an email, a password or a hash.

    `reasons` counts every skipped document by reason ("duplicate", "invalid_email", ...), so
    its values add up to `skipped_duplicate + skipped_invalid`.
    """

    imported: int
    skipped_duplicate: int
    skipped_invalid: int
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return self.skipped_duplicate + self.skipped_invalid


def import_seed_users(
    source: SeedSource,
    index: str,
    users: UserRepository,
    clock: Clock,
    *,
    page_size: int = PAGE_SIZE,
) -> ImportReport:
    """Add every valid user of the seed index `index` on `source` to `users`.

    Raises SeedIndexNotFound if the index is missing, and StoreUnavailable if either store
    fails or the source answers only in part (failed shards, fewer documents than it counted);
    users added before the failure stay, and a second run skips them as duplicates.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    now = clock()
    imported = 0
    reasons: Counter[str] = Counter()
    seen = 0
    scroll_id: str | None = None
    try:
        try:
            total = source.count(index)
            page = source.search(
                index, {"query": {"match_all": {}}, "sort": ["_doc"], "size": page_size}, SCROLL_KEEP_ALIVE
            )
        except NotFound:
            raise SeedIndexNotFound(index) from None
        while True:
            scroll_id = page.get("_scroll_id") or scroll_id
            _check_shards(page)
            hits = page["hits"]["hits"]
            if not hits:
                break
            seen += len(hits)
            for hit in hits:
                try:
                    user = user_from_seed(hit, now)
                except InvalidSeedDocument as invalid:
                    reasons[invalid.reason] += 1
                    continue
                try:
                    users.add(user)
                except UserAlreadyExists:
                    reasons[DUPLICATE] += 1
                    continue
                imported += 1
            if scroll_id is None:
                raise StoreUnavailable("elasticsearch: the seed search returned no scroll id")
            try:
                page = source.scroll(scroll_id, SCROLL_KEEP_ALIVE)
            except NotFound:
                raise StoreUnavailable("elasticsearch: the scroll over the seed index expired") from None
        if seen != total:
            raise StoreUnavailable(f"elasticsearch: read {seen} of the {total} seed documents")
    finally:
        if scroll_id is not None:
            _clear_scroll(source, scroll_id)
    duplicates = reasons[DUPLICATE]
    report = ImportReport(
        imported=imported,
        skipped_duplicate=duplicates,
        skipped_invalid=sum(reasons.values()) - duplicates,
        reasons=dict(sorted((reason, count) for reason, count in reasons.items() if count)),
    )
    log.info(
        "seed import from %s: %d imported, %d duplicates, %d invalid %s",
        index,
        report.imported,
        report.skipped_duplicate,
        report.skipped_invalid,
        report.reasons,
    )
    return report


def user_from_seed(hit: Mapping[str, Any], now: datetime) -> User:
    """The esauth user for one seed search hit, or InvalidSeedDocument naming why not.

    Invalid names are refused rather than truncated or cleaned: the import does not silently
    change what a user wrote; the report counts them and a fixed document imports on a re-run.
    A missing or unreadable `created_at` becomes `now`.
    """
    source = hit.get("_source")
    if not isinstance(source, Mapping):
        raise InvalidSeedDocument("no_source")
    if source.get("_type", "user") != "user":
        raise InvalidSeedDocument("not_a_user")
    try:
        email = normalize_email(source.get("email_address", hit.get("_id")))
    except ValidationError:
        raise InvalidSeedDocument("invalid_email") from None
    password_hash = source.get("password")
    if password_hash is None or password_hash == "":
        raise InvalidSeedDocument("missing_password")
    if not is_werkzeug_pbkdf2(password_hash):
        raise InvalidSeedDocument("unsupported_password_hash")
    names = {}
    for name in ("first_name", "last_name"):
        try:
            names[name] = check_name(source.get(name), name)
        except ValidationError:
            raise InvalidSeedDocument(f"invalid_{name}") from None
    is_active = source.get("is_active", MISSING_IS_ACTIVE)
    if is_active is None:
        is_active = MISSING_IS_ACTIVE
    if not isinstance(is_active, bool):
        raise InvalidSeedDocument("invalid_is_active")
    return User(
        email_address=email,
        password_hash=password_hash,
        created_at=_created_at(source.get("created_at"), now),
        is_active=is_active,
        session_ids=(),
        user_id=new_user_id(),
        **names,
    )


def _created_at(value: object, now: datetime) -> datetime:
    """Epoch seconds (the seed's `time.time()`) or an ISO 8601 string (naive means UTC), as an
    aware UTC datetime to the millisecond, the precision every store keeps."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value) or value < 0:
                return now
            parsed = datetime.fromtimestamp(value, tz=timezone.utc)
        elif isinstance(value, str) and value.strip():
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            parsed = parsed.astimezone(timezone.utc)
        else:
            return now
    except (ValueError, OverflowError, OSError):
        return now
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _check_shards(page: Mapping[str, Any]) -> None:
    shards = page.get("_shards") or {}
    if shards.get("failed"):
        raise StoreUnavailable(f"elasticsearch: {shards['failed']} shards of the seed index failed")
    if page.get("timed_out"):
        raise StoreUnavailable("elasticsearch: the seed search timed out")


def _clear_scroll(source: SeedSource, scroll_id: str) -> None:
    """Free the server's scroll context; it expires on its own anyway, so failures only log."""
    try:
        source.clear_scroll(scroll_id)
    except Exception as error:  # noqa: BLE001 - never mask the import's own outcome
        log.warning("could not clear the seed scroll: %s", type(error).__name__)
