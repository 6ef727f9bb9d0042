"""The SecretBox contract (ports.secret_box), run against FernetSecretBox."""

from __future__ import annotations

import pytest

from infrastructure.second_factor.fernet_box import FernetSecretBox

OLD = "secret-box-contract-old-key-0123456789abcdef"
NEW = "secret-box-contract-new-key-0123456789abcdef"


class SecretBoxContract:
    """Subclasses provide `make_box(keys)`."""

    def test_a_sealed_secret_opens_and_does_not_show_it(self):
        box = self.make_box((NEW,))
        sealed = box.seal("JBSWY3DPEHPK3PXP")
        assert "JBSWY3DPEHPK3PXP" not in sealed and box.open(sealed) == "JBSWY3DPEHPK3PXP"
        assert box.seal("JBSWY3DPEHPK3PXP") != sealed  # randomised: equal secrets do not show as equal

    def test_every_listed_key_opens_and_only_the_first_seals(self):
        old_sealed = self.make_box((OLD,)).seal("s")
        rotated = self.make_box((NEW, OLD))
        assert rotated.open(old_sealed) == "s" and not rotated.is_current(old_sealed)
        assert rotated.is_current(rotated.seal("s"))

    def test_a_tampered_or_foreign_value_does_not_open(self):
        box = self.make_box((NEW,))
        sealed = box.seal("s")
        assert box.open(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")) is None
        assert box.open(self.make_box((OLD,)).seal("s")) is None
        assert box.open("not a sealed value ☃") is None and not box.is_current("junk")


class TestFernetSecretBox(SecretBoxContract):
    def make_box(self, keys):
        return FernetSecretBox(keys)

    def test_a_box_needs_a_key(self):
        with pytest.raises(ValueError):
            FernetSecretBox(())

    def test_a_key_derivation_cannot_use_is_refused_when_the_box_is_made(self):
        # An environment variable's undecodable bytes reach Python as lone surrogates; the keys
        # are derived only at the first use, so this is what start-up checks in their place.
        with pytest.raises(UnicodeEncodeError):
            FernetSecretBox(("good key", "bad \udcff key"))
