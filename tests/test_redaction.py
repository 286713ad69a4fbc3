"""The secret mask on its own: what it masks, what it leaves, and how it fails closed."""

from __future__ import annotations

from maidit_jupyter.redaction import MIN_SECRET_LENGTH, SecretMask, as_mask, redact


def test_values_too_short_to_be_secrets_are_not_masked() -> None:
    """A three-letter "secret" would blank every word containing it: it is left out."""
    short = "x" * (MIN_SECRET_LENGTH - 1)
    mask = SecretMask([short, "hunter22"])
    assert mask.redact(f"{short} hunter22") == f"{short} ***"
    assert not SecretMask([short])  # nothing to mask


def test_the_mask_never_shows_its_values() -> None:
    mask = SecretMask(["hunter22"])
    assert "hunter22" not in repr(mask)
    assert repr(mask).startswith("<SecretMask of ")


def test_objects_are_masked_as_text_and_hostile_ones_fail_closed() -> None:
    class Holder:
        def __str__(self) -> str:
            return "token=hunter22"

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("hunter22")

    mask = SecretMask(["hunter22"])
    assert mask.redact(Holder()) == "token=***"
    assert mask.redact(Hostile()) == "<redaction-failed>"
    assert mask.redact(42) == "42"


def test_redact_takes_values_or_a_mask() -> None:
    mask = SecretMask(["hunter22"])
    assert as_mask(mask) is mask
    assert redact("pw hunter22", ["hunter22"]) == "pw ***"
    assert redact("pw hunter22", mask) == "pw ***"
