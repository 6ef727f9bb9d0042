"""The password rules past length: the list, the context words, and where the services apply them."""

from datetime import timedelta

import pytest

from domain.accounts import AccountService
from domain.auth import AuthService
from domain.errors import InvalidToken, ValidationError
from domain.passwords import BREACHED, TOO_COMMON, TOO_PERSONAL, PasswordRules, context_words, is_personal, matching_form
from domain.throttle import FailureCounter
from domain.users import Users
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from tests.fakes import CountingUserRepository, FakeBreachedPasswords, FakeHasher, FakePasswordScreen, InMemoryLoginFailureRepository, RecordingNotifier

EMAIL = "jane.doe@example.com"
PASSWORD = "violet kettle on the roof"


@pytest.fixture
def rules():
    return PasswordRules(FakePasswordScreen())


@pytest.mark.parametrize("spelling", ["password", "PassWord", " password\t", "ｐａｓｓｗｏｒｄ", "QWERTYUIOP"])
def test_a_listed_password_is_refused_in_any_case_width_or_padding(rules, spelling):
    with pytest.raises(ValidationError) as refused:
        rules.check(spelling, "password", EMAIL)
    assert (refused.value.field, refused.value.reason) == ("password", TOO_COMMON)


def test_matching_form_is_nfkc_case_folded_and_trimmed():
    assert matching_form(" Ｐａｓｓ\u00dfWORD ") == "passssword"


def test_only_the_lists_own_spelling_is_listed(rules):
    """Nothing derived: the list itself holds `password1`, but not every variant of `password`."""
    assert rules.check("password!x", "password", EMAIL) == "password!x"


def test_length_is_checked_before_the_list(rules):
    with pytest.raises(ValidationError, match="at least 8 characters"):
        rules.check("1234567", "password", EMAIL)


def test_context_words_are_the_local_part_its_pieces_the_domain_labels_and_the_service():
    assert context_words("Jane.Doe+news@Example.com") == {
        "jane.doe+news", "jane", "doe", "news", "example.com", "example", "com", "esauth",
    }


@pytest.mark.parametrize(
    "password",
    ["jane.doe@example.com", "my jane.doe@example.com!", "Example2024!", "jane.doe!!", "JaneDoe99",
     "esauth-123", "ESAUTH 2026", "1234 doe 5678", "exAmple..", "example.com/2026"],
)
def test_passwords_made_of_the_address_or_the_service_are_refused(rules, password):
    assert is_personal(password, EMAIL)
    with pytest.raises(ValidationError) as refused:
        rules.check(password, "password", EMAIL)
    assert refused.value.reason == TOO_PERSONAL


@pytest.mark.parametrize("password", ["jane-example-7", "doe and friends", "examples!", "12345678@x", "doedoe12"])
def test_passwords_with_more_than_one_context_word_are_not_personal(rules, password):
    assert not is_personal(password, EMAIL)
    assert rules.check(password, "password", EMAIL) == password


def test_a_local_part_of_digits_is_refused_as_it_is(rules):
    with pytest.raises(ValidationError, match="email address"):
        rules.check("20260101", "password", "20260101@example.com")
    assert rules.check("2026-01-01", "password", "20260101@example.com") == "2026-01-01"


def test_without_an_address_only_the_service_name_is_a_context_word(rules):
    with pytest.raises(ValidationError):
        rules.check("esauth!!2026", "password", None)
    assert rules.check("jane.doe!!", "password", None) == "jane.doe!!"


@pytest.fixture
def repo():
    return CountingUserRepository()


@pytest.fixture
def notifier():
    return RecordingNotifier()


@pytest.fixture
def services(repo, clock, notifier):
    users = Users(repo, clock, timedelta(0))
    failures = FailureCounter(InMemoryLoginFailureRepository(), clock)
    hasher = FakeHasher()
    auth = AuthService(users, hasher, clock, failures, screen=FakePasswordScreen())
    tokens = ItsdangerousTokenSigner(["k" * 32], salt="esauth.password-reset")
    accounts = AccountService(users, hasher, clock, failures, tokens, notifier, screen=FakePasswordScreen())
    return auth, accounts


@pytest.mark.parametrize("password, reason", [("Password", TOO_COMMON), ("JaneDoe2026", TOO_PERSONAL)])
def test_register_refuses_before_reading_any_account(services, repo, password, reason):
    """So a taken and a free address get the same 400, in the same time: nothing is read."""
    auth, _ = services
    auth.register(EMAIL, PASSWORD)
    reads = repo.gets
    for email in (EMAIL, "someone.else@example.com"):
        with pytest.raises(ValidationError) as refused:
            auth.register(email, password if email == EMAIL else password.replace("JaneDoe", "SomeoneElse"))
        assert refused.value.reason == reason
    assert repo.gets == reads


def test_a_password_change_to_a_listed_or_personal_password_is_refused_and_changes_nothing(services, repo):
    auth, accounts = services
    auth.register(EMAIL, PASSWORD)
    _, session = auth.login(EMAIL, PASSWORD)
    stored = repo.get(EMAIL)
    for new, reason in (("iloveyou", TOO_COMMON), ("jane.doe.2026", TOO_PERSONAL)):
        with pytest.raises(ValidationError) as refused:
            accounts.change_password(session, PASSWORD, new)
        assert (refused.value.field, refused.value.reason) == ("new_password", reason)
    assert repo.get(EMAIL) == stored
    assert stored.failed_logins == 0


def test_a_reset_to_a_listed_or_personal_password_is_refused_and_the_token_still_works(services, repo, notifier):
    auth, accounts = services
    auth.register(EMAIL, PASSWORD)
    accounts.request_password_reset(EMAIL)
    token = notifier.sent[-1][1]
    for new, reason in (("12345678", TOO_COMMON), ("Example!2026", TOO_PERSONAL)):
        with pytest.raises(ValidationError) as refused:
            accounts.confirm_password_reset(token, new)
        assert (refused.value.field, refused.value.reason) == ("new_password", reason)
    accounts.confirm_password_reset(token, "a brand new passphrase")
    auth.login(EMAIL, "a brand new passphrase")


class CountingBreached(FakeBreachedPasswords):
    def __init__(self, breached: frozenset[str]) -> None:
        super().__init__(breached)
        self.asked: list[str] = []

    def is_breached(self, password: str) -> bool:
        self.asked.append(password)
        return super().is_breached(password)


def test_a_breached_password_is_refused_as_typed_and_only_after_every_other_rule():
    breached = CountingBreached(frozenset({"Tr0ub4dor&3", "password"}))
    rules = PasswordRules(FakePasswordScreen(), breached)
    with pytest.raises(ValidationError) as refused:
        rules.check("Tr0ub4dor&3", "password", EMAIL)
    assert refused.value.reason == BREACHED
    assert rules.check("tr0ub4dor&3", "password", EMAIL) == "tr0ub4dor&3"
    for known in ("password", "jane.doe!!"):  # refused by the list or the address: never sent out
        with pytest.raises(ValidationError):
            rules.check(known, "password", EMAIL)
    assert breached.asked == ["Tr0ub4dor&3", "tr0ub4dor&3"]


def test_a_reset_asks_the_breach_service_only_once_the_token_is_valid(repo, clock, notifier):
    users = Users(repo, clock, timedelta(0))
    failures = FailureCounter(InMemoryLoginFailureRepository(), clock)
    breached = CountingBreached(frozenset({"Tr0ub4dor&3"}))
    auth = AuthService(users, FakeHasher(), clock, failures, screen=FakePasswordScreen(), breached=breached)
    tokens = ItsdangerousTokenSigner(["k" * 32], salt="esauth.password-reset")
    accounts = AccountService(users, FakeHasher(), clock, failures, tokens, notifier, screen=FakePasswordScreen(), breached=breached)
    auth.register(EMAIL, PASSWORD)
    asked = len(breached.asked)
    with pytest.raises(InvalidToken):
        accounts.confirm_password_reset("forged.token", "Tr0ub4dor&3")
    assert len(breached.asked) == asked
    accounts.request_password_reset(EMAIL)
    with pytest.raises(ValidationError, match="data breach"):
        accounts.confirm_password_reset(notifier.sent[-1][1], "Tr0ub4dor&3")
    assert breached.asked[asked:] == ["Tr0ub4dor&3"]
