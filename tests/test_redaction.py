"""The secret mask on its own: what it masks, what it leaves, and how it fails closed."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

import maidit_jupyter
from maidit_jupyter import RunStatus
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


SPECIAL = "pä\"s/w+rd&<'x é??a"


def encodings(secret: str) -> dict[str, str]:
    """Every form a secret travels in that the mask promises to catch, by name."""
    raw = secret.encode("utf-8", "surrogatepass")
    json_text, ascii_json = (
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
    )
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    return {
        "raw": secret,
        "json": json_text,
        "json ascii": ascii_json,
        "repr": repr(secret)[1:-1],
        "json in json": json.dumps(json_text, ensure_ascii=False)[1:-1],
        "ascii json in json": json.dumps(ascii_json)[1:-1],
        "html": html.escape(secret),
        "html text": html.escape(secret, quote=False),
        "url component": quote(raw, safe=""),
        "url path": quote(raw),
        "form": quote_plus(raw),
        "base64": standard,
        "base64 unpadded": standard.rstrip("="),
        "urlsafe base64": urlsafe,
        "urlsafe base64 unpadded": urlsafe.rstrip("="),
    }


@pytest.mark.parametrize("secret", [SPECIAL, "\udc80lone surrogate?", "tok+/=="])
def test_every_encoding_of_a_secret_is_masked(secret: str) -> None:
    """Each form is masked on its own, inside other text, whatever else it contains
    (a value from the environment may hold bytes that are not UTF-8: surrogates)."""
    mask = SecretMask([secret])
    forms = encodings(secret)
    for name, form in forms.items():
        assert mask.redact(f"[{form}]") == "[***]", name
        assert mask.contains(f"x{form}y"), name


def test_the_forms_of_a_secret_with_special_characters_all_differ() -> None:
    """So the test above checks each encoding, not the same text many times."""
    assert len(set(encodings(SPECIAL).values())) == len(encodings(SPECIAL))


def test_the_shortest_secret_masked_is_four_characters() -> None:
    assert SecretMask(["abcd"]).redact("abcd") == "***"
    assert SecretMask(["abc"]).redact("abc") == "abc"


def test_secrets_learned_later_are_masked_too() -> None:
    """A called flow's secrets join the running mask: old and new are both hidden."""
    mask = SecretMask(["first-secret"])
    mask.add(["second-secret", "xy"])
    assert mask.redact("first-secret second-secret xy") == "*** *** xy"
    forms = mask.forms
    mask.add(["xy", "first-secret"])  # nothing new: the mask stays as it was
    assert mask.forms is forms
    assert not mask.contains("nothing here")
    assert not SecretMask().contains("first-secret")


def test_a_secret_that_is_not_utf8_does_not_break_a_run(tmp_path: Path) -> None:
    """Environment values are decoded with surrogates for bytes that are not UTF-8;
    such a secret is masked like any other instead of crashing the run's start."""
    flow = tmp_path / "s.flow.md"
    flow.write_text(
        "---\nname: s\nversion: 1.0.0\nsecrets: [TOKEN]\n---\n<workflow>\n"
        '<transform id="t" type="template"><template>{{ length($secrets.TOKEN) }}'
        "</template></transform>\n</workflow>\n"
    )
    value = "caf\udce9-secret"  # b"caf\xe9-secret" read from a Latin-1 environment
    run = maidit_jupyter.run_sync(flow, secrets={"TOKEN": value})
    assert run.status is RunStatus.COMPLETED, run.error
    assert run.outputs.t == "11"
    assert run.mask.redact(f"x{value}x") == "x***x"
