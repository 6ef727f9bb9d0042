"""Stored addresses checked against the current address rule: what an upgrade leaves to the operator.

Earlier releases keyed accounts on the address trimmed and lower-cased only, so one mailbox may
be stored as several accounts (NFC and NFD `é`, `ﬀ` and `ff`, an `xn--` domain and its Unicode
form). Merging them would pick a password and a history for someone, so they are reported, never
merged; each stays reachable under the spelling it is stored as (domain.user.email_spellings).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ValidationError
from domain.user import normalize_email
from ports.repository import UserRepository

PAGE_SIZE = 100


@dataclass(frozen=True)
class AddressReport:
    checked: int
    collisions: dict[str, tuple[str, ...]]
    """Identity form -> the stored addresses (two or more) that are all that one address."""
    earlier_spellings: tuple[str, ...]
    """Stored alone, but not in the identity form: found when typed as stored."""
    refused: tuple[str, ...]
    """Stored addresses the current rule refuses: found only when typed as stored."""


def address_report(repository: UserRepository) -> AddressReport:
    """Read every stored address (the admin search without terms, page by page) and sort them out."""
    by_identity: dict[str, list[str]] = {}
    refused: list[str] = []
    checked, cursor = 0, None
    while True:
        page = repository.search((), PAGE_SIZE, cursor)
        for user in page.users:
            checked += 1
            try:
                by_identity.setdefault(normalize_email(user.email_address), []).append(user.email_address)
            except ValidationError:
                refused.append(user.email_address)
        cursor = page.next_cursor
        if cursor is None:
            break
    collisions = {identity: tuple(sorted(stored)) for identity, stored in sorted(by_identity.items()) if len(stored) > 1}
    earlier = sorted(stored[0] for identity, stored in by_identity.items() if len(stored) == 1 and stored[0] != identity)
    return AddressReport(checked, collisions, tuple(earlier), tuple(sorted(refused)))


def report_lines(report: AddressReport) -> list[str]:
    """What `esauth init` prints. Addresses are shown with escapes (ascii()), so NFC and NFD differ on screen."""
    lines = [f"stored addresses checked against the address rule: {report.checked}"]
    lines.append(f"  accounts that are one address under the rule (not merged; keep one, delete the others): {len(report.collisions)}")
    lines += [f"    {ascii(identity)}: {', '.join(map(ascii, stored))}" for identity, stored in report.collisions.items()]
    lines.append(f"  stored in an earlier spelling (found when typed as stored): {len(report.earlier_spellings)}")
    lines += [f"    {ascii(stored)}" for stored in report.earlier_spellings]
    lines.append(f"  refused by the rule now (found when typed as stored): {len(report.refused)}")
    lines += [f"    {ascii(stored)}" for stored in report.refused]
    return lines
