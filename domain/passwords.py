"""The password rules past length: known-bad passwords, and passwords made of the account's own words.

NIST SP 800-63B (5.1.1.2) says verifiers SHALL refuse passwords from lists of commonly used or
compromised ones and context-specific words such as the service's name and the username. The
rules are plain so that a user can predict them:

- **Matching form**: the password in Unicode NFKC, case-folded, surrounding whitespace trimmed.
  `Password`, `PASSWORD `, `ｐａｓｓｗｏｒｄ` all match the list's `password`.
- **Too common**: the matching form is on the list (the list's own spelling, nothing derived).
- **Too personal**: the matching form contains the whole address, or equals one of the context
  words, or its letters alone (digits, punctuation, symbols and spaces dropped) equal a context
  word's letters. Context words: the part before `@`, its pieces split at `.`, `_`, `-` and `+`,
  the domain and each of its labels, and the service's name `esauth`. So for
  `jane.doe@example.com`, `Example2024!`, `jane.doe!!`, `janedoe99`, `example.com/2026` and
  `esauth-123` are refused; `jane-example-7` and `doedoe12` (two words) are not.

- **Breached** (only with `ESAUTH_PWNED_PASSWORDS_URL`): the password exactly as typed was seen
  in a data breach, by a range service that never sees the password (ports/breached_passwords.py).
  Asked last, only for passwords every other rule lets through; when it cannot say, the password
  passes.

The rules are checked before any account is read, so the answer (and its time) never depends on
whether the account exists.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import ValidationError
from domain.user import check_password
from ports.breached_passwords import BreachedPasswords
from ports.password_screen import PasswordScreen

SERVICE_WORDS = ("esauth",)
TOO_COMMON = "is too common; choose another"
TOO_PERSONAL = "must not be made of your email address or the service's name; choose another"
BREACHED = "has appeared in a data breach; choose another"
_LOCAL_SEPARATORS = re.compile(r"[._+\-]")


def matching_form(password: str) -> str:
    """The spelling lists and context words are compared in (see the module docstring)."""
    return unicodedata.normalize("NFKC", password).casefold().strip()


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def context_words(email_address: str) -> frozenset[str]:
    """The words a password must not be made of, in matching form: see the module docstring."""
    local, _, domain = matching_form(email_address).partition("@")
    words = {local, *_LOCAL_SEPARATORS.split(local), domain, *domain.split("."), *SERVICE_WORDS}
    return frozenset(word for word in words if word)


def is_personal(password: str, email_address: str | None) -> bool:
    """True if the password is made of the address's words or the service's name."""
    form = matching_form(password)
    if email_address and matching_form(email_address) in form:
        return True
    words = context_words(email_address) if email_address else frozenset(SERVICE_WORDS)
    letters = _letters(form)
    return form in words or (bool(letters) and letters in {_letters(word) for word in words})


class PasswordRules:
    """Length (domain.user.check_password), then the list, the context words, and any breach service."""

    def __init__(self, screen: PasswordScreen, breached: BreachedPasswords | None = None) -> None:
        self._screen = screen
        self._breached = breached

    def check(self, value: object, field_name: str, email_address: str | None) -> str:
        """The password if every rule holds, else ValidationError naming the field and why."""
        password = self.check_here(value, field_name, email_address)
        self.check_breached(password, field_name)
        return password

    def check_here(self, value: object, field_name: str, email_address: str | None) -> str:
        """Every rule but the outside service. `email_address` None checks the service's name
        only (the address is not known yet)."""
        password = check_password(value, field_name)
        if self._screen.is_listed(matching_form(password)):
            raise ValidationError(field_name, TOO_COMMON)
        self.check_personal(password, field_name, email_address)
        return password

    @staticmethod
    def check_personal(password: str, field_name: str, email_address: str | None) -> None:
        if is_personal(password, email_address):
            raise ValidationError(field_name, TOO_PERSONAL)

    def check_breached(self, password: str, field_name: str) -> None:
        if self._breached is not None and self._breached.is_breached(password):
            raise ValidationError(field_name, BREACHED)
