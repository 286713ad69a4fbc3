"""The utility built-ins, checked against the JavaScript functions they stand for."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.builtins.utility import translate_regex
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.values import UNDEFINED
from tests.expressions.builtins.context import (
    Arrow,
    TestContext,
    call,
    expect as check,
)

FUNCTION = Arrow(lambda: 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(({"a": [1, 2.0, None]},), '{"a":[1,2,null]}', id="compact"),
        pytest.param(([math.nan, math.inf],), "[null,null]", id="non-finite"),
        pytest.param(({"u": UNDEFINED, "f": FUNCTION, "k": 1},), '{"k":1}', id="skips"),
        pytest.param(([UNDEFINED, FUNCTION],), "[null,null]", id="null-in-arrays"),
        pytest.param(((1, "é\n"),), '[1,"é\\n"]', id="tuple-and-escapes"),
        pytest.param(
            ([2.0**60, 1e-7, 1e21, 0.1 + 0.2, -0.0],),
            "[1152921504606847000,1e-7,1e+21,0.30000000000000004,0]",
            id="numbers-as-javascript-prints-them",
        ),
        pytest.param(("\ud800\x01\u2028",), '"\\ud800\\u0001\u2028"', id="escapes"),
        pytest.param(({1: "a"},), '{"1":"a"}', id="keys-are-strings"),
        pytest.param(("x",), '"x"', id="string"),
        pytest.param((None,), "null", id="null"),
        pytest.param((True,), "true", id="boolean"),
        pytest.param((UNDEFINED,), UNDEFINED, id="undefined"),
        pytest.param((FUNCTION,), UNDEFINED, id="function"),
        pytest.param((), UNDEFINED, id="missing"),
    ],
)
def test_json_encode(args: tuple[Any, ...], expected: Any) -> None:
    check("json_encode", args, expected)


def test_json_encode_respects_limits() -> None:
    small = TestContext(EvaluationLimits(max_string_length=5))
    with pytest.raises(ExpressionLimitError):
        call("json_encode", ["abcdef"], context=small)
    shallow = TestContext(EvaluationLimits(max_depth=2))
    with pytest.raises(ExpressionLimitError):
        call("json_encode", [[[1]]], context=shallow)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ('{"a":1,"b":[true,null]}',), {"a": 1, "b": [True, None]}, id="object"
        ),
        pytest.param(("[1.0, 2.5, 1e2, -0]",), [1, 2.5, 100, 0], id="integral-are-int"),
        pytest.param(("12345678901234567890",), 1.2345678901234567e19, id="big"),
        pytest.param(("1e999",), math.inf, id="overflow"),
        pytest.param((' \t\n"x" ',), "x", id="whitespace"),
        pytest.param((5,), 5, id="number-coerced"),
        pytest.param((None,), None, id="null-is-json-null"),
        pytest.param(("NaN",), None, id="nan-is-not-json"),
        pytest.param(("{a:1}",), None, id="bare-key"),
        pytest.param(("[1,]",), None, id="trailing-comma"),
        pytest.param(("'x'",), None, id="single-quotes"),
        pytest.param(("",), None, id="empty"),
        pytest.param((UNDEFINED,), None, id="undefined"),
        pytest.param(("[" * 100_000,), ExpressionLimitError, id="too-deep"),
    ],
)
def test_json_decode(args: tuple[Any, ...], expected: Any) -> None:
    check("json_decode", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello",), "aGVsbG8=", id="ascii"),
        pytest.param(("héllo",), "aOlsbG8=", id="latin-1"),
        pytest.param(("",), "", id="empty"),
        pytest.param((None,), "", id="null"),
        pytest.param((123,), "MTIz", id="number"),
        pytest.param(("€",), ExpressionTypeError, id="outside-latin-1"),
    ],
)
def test_base64_encode(args: tuple[Any, ...], expected: Any) -> None:
    check("base64_encode", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("aGVsbG8=",), "hello", id="padded"),
        pytest.param(("aGVsbG8",), "hello", id="unpadded"),
        pytest.param((" aG Vs\nbG8= ",), "hello", id="whitespace"),
        pytest.param(("w6k=",), "Ã©", id="bytes-as-latin-1"),
        pytest.param(("QR==",), "A", id="extra-bits"),
        pytest.param(("",), "", id="empty"),
        pytest.param(("a",), None, id="one-character"),
        pytest.param(("aGVsbA=",), None, id="bad-padding"),
        pytest.param(("aGVs*G8=",), None, id="bad-character"),
        pytest.param(("====",), None, id="only-padding"),
        pytest.param((None,), "", id="null"),
    ],
)
def test_base64_decode(args: tuple[Any, ...], expected: Any) -> None:
    check("base64_decode", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a b&c=d/e?",), "a%20b%26c%3Dd%2Fe%3F", id="reserved"),
        pytest.param(("-_.!~*'()",), "-_.!~*'()", id="unreserved"),
        pytest.param(("é€😀",), "%C3%A9%E2%82%AC%F0%9F%98%80", id="utf-8"),
        pytest.param((None,), "", id="null"),
        pytest.param((1.5,), "1.5", id="number"),
        pytest.param(("\ud800",), ExpressionTypeError, id="lone-surrogate"),
    ],
)
def test_url_encode(args: tuple[Any, ...], expected: Any) -> None:
    check("url_encode", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a%20b%2F%3F",), "a b/?", id="decodes-reserved"),
        pytest.param(("%e2%82%ac",), "€", id="lowercase-hex"),
        pytest.param(("a+b",), "a+b", id="plus-kept"),
        pytest.param(("%E2%82",), "%E2%82", id="truncated-utf-8"),
        pytest.param(("%zz",), "%zz", id="bad-escape"),
        pytest.param(("100%",), "100%", id="lone-percent"),
        pytest.param(("%C0%AF",), "%C0%AF", id="overlong"),
        pytest.param((None,), "", id="null"),
        pytest.param((5,), "5", id="number"),
    ],
)
def test_url_decode(args: tuple[Any, ...], expected: Any) -> None:
    check("url_decode", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), "6513270e-269e-4d37-b2a7-4de452e6b438", id="seeded"),
        pytest.param(("ignored",), "6513270e-269e-4d37-b2a7-4de452e6b438", id="args"),
    ],
)
def test_uuid(args: tuple[Any, ...], expected: Any) -> None:
    check("uuid", args, expected)


def test_uuid_is_version_4_and_varies() -> None:
    context = TestContext()
    first, second = call("uuid", context=context), call("uuid", context=context)
    assert first != second
    for value in (first, second):
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
            value,
        )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("abc123def45", r"\d+"), "123", id="whole-match"),
        pytest.param(
            ("abc", r"(?<first>a)(b)?(x)?"),
            "ab",
            id="groups-named-and-unmatched",
        ),
        pytest.param(("aa", r"(?<n>a)\k<n>"), "aa", id="named-backreference"),
        pytest.param(("ab\n", r"b$"), None, id="dollar-is-end-of-input"),
        pytest.param(("a\nb", r"a.b"), None, id="dot-skips-newline"),
        pytest.param(("a\u00a0b", r"a\sb"), "a\u00a0b", id="js-whitespace"),
        pytest.param(("é", r"\w"), None, id="ascii-word"),
        pytest.param(("x\ny", r"[^]+"), "x\ny", id="any-class"),
        pytest.param(("x", r"[]"), None, id="empty-class"),
        pytest.param(("a[b", r"a[[]b"), "a[b", id="bracket-in-class"),
        pytest.param(("a/b", r"a\/b"), "a/b", id="escaped-slash"),
        pytest.param(("e", r"\e"), "e", id="identity-escape"),
        pytest.param(("\u0001", r"\cA"), "\u0001", id="control-escape"),
        pytest.param((12345, "3"), "3", id="number-text"),
        pytest.param(("x null", None), "null", id="null-pattern"),
        pytest.param(("foo", UNDEFINED), "", id="undefined-pattern"),
        pytest.param(("abc", "(?i)B"), ExpressionTypeError, id="python-flags"),
        pytest.param(("abc", "(?P<x>a)"), ExpressionTypeError, id="python-group"),
        pytest.param(("abc", "("), ExpressionTypeError, id="unbalanced"),
        pytest.param(("abc", "\\"), ExpressionTypeError, id="trailing-backslash"),
    ],
)
def test_match(args: tuple[Any, ...], expected: Any) -> None:
    """match() gives the text of the first match (as the original), or null."""
    check("match", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("hello", "^h.*o$"), True, id="anchored"),
        pytest.param(("hello", "z"), False, id="no-match"),
        pytest.param(("", "^$"), True, id="empty"),
        pytest.param((None, "^$"), True, id="null-is-empty"),
        pytest.param(("abc", "(?<=b)c"), True, id="lookbehind"),
        pytest.param(("abc", "["), ExpressionTypeError, id="invalid"),
    ],
)
def test_test(args: tuple[Any, ...], expected: Any) -> None:
    check("test", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("a1b22c333", r"\d+"), ["1", "22", "333"], id="all"),
        pytest.param(("aaa", "a*"), ["aaa", ""], id="empty-match-at-end"),
        pytest.param(("ab", ""), ["", "", ""], id="empty-pattern"),
        pytest.param(("abc", r"(\w)"), ["a", "b", "c"], id="whole-matches-only"),
        pytest.param(("abc", "z"), [], id="none"),
        pytest.param(("abc", "a{"), [], id="literal-brace"),
        pytest.param(("abc", "a)"), ExpressionTypeError, id="invalid"),
    ],
)
def test_match_all(args: tuple[Any, ...], expected: Any) -> None:
    check("match_all", args, expected)


@pytest.mark.parametrize("name", ["match", "test", "match_all"])
def test_regex_input_is_limited(name: str) -> None:
    context = TestContext(EvaluationLimits(max_regex_input=5))
    assert call(name, "abcde", "e", context=context) in ("e", ["e"], True)
    with pytest.raises(ExpressionLimitError):
        call(name, "abcdef", "e", context=context)


def test_match_all_respects_the_item_limit() -> None:
    with pytest.raises(ExpressionLimitError):
        call(
            "match_all", "aaaa", "a", context=TestContext(EvaluationLimits(max_items=3))
        )


def test_translate_regex_keeps_classes_safe() -> None:
    assert translate_regex("[a-z&&~|]") == r"[a-z\&\&\~\|]"
    assert translate_regex("[+--]") == r"[+-\-]"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("x",), 177629, id="djb2-x"),
        pytest.param(("",), 5381, id="djb2-empty"),
        pytest.param(("hello",), 178056679, id="djb2-hello"),
        pytest.param(("hello world",), 4173747013, id="djb2-unsigned"),
        pytest.param(("😀",), 5308056, id="djb2-utf-16-units"),
        pytest.param((None,), 5381, id="djb2-null"),
        pytest.param(("hello", "md5"), "5d41402abc4b2a76b9719d911017c592", id="md5"),
        pytest.param(
            ("hello", "SHA256"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            id="sha256-any-case",
        ),
        pytest.param(
            ("hello", "sha1"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", id="sha1"
        ),
        pytest.param(
            ("é", "md5"), "66ddcd97cfdeabb2f6fb8a999b4bc76f", id="utf-8-bytes"
        ),
        pytest.param(
            ("hello", "sha3-256"),
            "3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392",
            id="sha3",
        ),
        pytest.param(("hello", "nope"), 0, id="unknown-algorithm"),
        pytest.param(("x", ""), 177629, id="empty-algorithm-is-djb2"),
    ],
)
def test_hash(args: tuple[Any, ...], expected: Any) -> None:
    check("hash", args, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ({"a": [1, {}], "b": []},),
            '{\n  "a": [\n    1,\n    {}\n  ],\n  "b": []\n}',
            id="default-two-spaces",
        ),
        pytest.param(([1], 4), "[\n    1\n]", id="four"),
        pytest.param(([1], 2.9), "[\n  1\n]", id="fraction-truncated"),
        pytest.param(([1], 11), "[\n" + " " * 10 + "1\n]", id="at-most-ten"),
        pytest.param(([1], "\t"), "[\n\t1\n]", id="string-indent"),
        pytest.param(
            ([1], "abcdefghijklmn"), "[\nabcdefghij1\n]", id="string-cut-to-ten"
        ),
        pytest.param(([1, 2], 0), "[1,2]", id="zero-is-compact"),
        pytest.param(([1, 2], None), "[1,2]", id="null-is-compact"),
        pytest.param(({"a": 1}, True), '{"a":1}', id="boolean-is-compact"),
        pytest.param(("s",), '"s"', id="string"),
        pytest.param((UNDEFINED,), UNDEFINED, id="undefined"),
    ],
)
def test_pretty(args: tuple[Any, ...], expected: Any) -> None:
    check("pretty", args, expected)
