"""Sandbox escape corpus: the public record of expression-sandbox escapes, in our syntax.

The payloads translate simpleeval's ``test_security.py``, the asteval, Jinja2,
RestrictedPython, smolagents, Jexl, expr-eval and safe-eval advisories (reliability.md
§1.8, fault table rows C1-C2) into the JavaScript-like dialect: dunder walks by dot,
bracket and run-time-built keys, ``constructor``/``__proto__``/``prototype``, ``this``,
attribute access on strings, numbers and functions, format strings, arrows that capture
the scope or are passed to themselves, and exceptions raised inside built-ins.

Every payload runs as a bare expression and as two templates, against a shared
evaluator, and must satisfy every oracle:

* the outcome is a JSON-domain value (or an arrow Function) or an ``ExpressionError``
  whose code starts with ``EXPR_``; any other exception fails the test;
* an audit hook sees no import, open, exec, compile, process, socket or frame event
  while the payload runs;
* no string in the result looks like a Python object's repr;
* the built-in table, the blocked names and the other shared tables are unchanged, and
  so are the config, secrets, env, outputs, input and variables passed in;
* afterwards no object (fresh or passed in) has grown a ``polluted`` property.
"""

from __future__ import annotations

import copy
import math
import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from maidit_jupyter.errors import ErrorCode, ExpressionError, SandboxViolation
from maidit_jupyter.expressions import ALL_FUNCTION_NAMES, closures
from maidit_jupyter.expressions.builtins import BUILTINS
from maidit_jupyter.expressions.compiled import ExpressionCompiler
from maidit_jupyter.expressions.cursor import KEYWORD_VALUES
from maidit_jupyter.expressions.evaluator import Evaluator, Function
from maidit_jupyter.expressions.limits import EvaluationLimits
from maidit_jupyter.expressions.scope import NodeOutputs, RootScope
from maidit_jupyter.expressions.values import UNDEFINED, Value
from tests import figures

# -- the audit hook ----------------------------------------------------------------------

#: audit events no expression may ever cause (exact names, then prefixes).
WATCHED_EVENTS = frozenset(
    {
        "import",
        "open",
        "exec",
        "compile",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.putenv",
        "os.unsetenv",
        "os.remove",
        "os.rename",
        "os.chdir",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "marshal.loads",
        "pickle.find_class",
        "builtins.input",
        "code.__new__",
        "function.__new__",
        "sys._getframe",
        "sys.settrace",
        "sys.setprofile",
        "object.__getattr__",
        "object.__setattr__",
        "object.__delattr__",
    }
)
WATCHED_PREFIXES = ("socket.", "subprocess.", "shutil.", "urllib.", "http.", "ftplib.")


@dataclass
class AuditLog:
    """Audit events seen while :attr:`active` (only during a payload's evaluation)."""

    active: bool = False
    events: list[tuple[str, str]] = field(default_factory=list)

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        """The ``sys.addaudithook`` callback: cheap when inactive."""
        if not self.active:
            return
        if event in WATCHED_EVENTS or event.startswith(WATCHED_PREFIXES):
            self.events.append((event, repr(args)[:200]))


AUDIT = AuditLog()
sys.addaudithook(AUDIT.hook)  # once, at import; a hook cannot be removed

# -- the values every payload sees -------------------------------------------------------

NODE_IDS = frozenset({"fetch", "fetch-data"})
FIXED_NOW = datetime(2026, 2, 7, 15, 47, 17, 900000, tzinfo=UTC)
EVALUATOR = Evaluator(clock=lambda: FIXED_NOW, rng=random.Random(7))

#: Python reprs that would mean a live object leaked into a string.
LEAK_MARKERS = (
    "<class ",
    "<function ",
    "<module ",
    "<built-in ",
    "<bound method ",
    "<method-wrapper ",
    "<slot wrapper ",
    "<frame at ",
    "<code object ",
    "<generator object ",
    "<cell at ",
    " object at 0x",
    "mappingproxy(",
)

POLLUTION_PROBE = (
    "[{}.polluted, {}.isAdmin, [].polluted, ''.polluted, (x => x).polluted,"
    " $config.polluted, $config.api.polluted, $secrets.polluted, $env.polluted,"
    " input.polluted, $vars.polluted, fetch.output.polluted, $context.polluted,"
    " json_decode('{}').polluted]"
)


def make_inputs() -> dict[str, Any]:
    """Fresh host data for one payload: config, secrets, env, outputs, input, vars."""
    return {
        "config": {
            "api": {"url": "https://api.example.test", "retries": 3},
            "list": [3, 1, 2],
            "flags": {"debug": False, "ratio": 0.5},
            "name": "demo",
        },
        "secrets": {"TOKEN": "s3cr3t-token", "DB_PASSWORD": "hunter2"},
        "env": {"HOME": "/home/flow", "LANG": "C.UTF-8"},
        "outputs": {
            "fetch": {
                "items": [{"n": 2, "tags": ["b", "a"]}, {"n": 1, "tags": []}],
                "meta": {"count": 2},
            },
            "fetch-data": [1, 2, 3],
        },
        "workflow_input": {
            "items": [{"n": 3}, {"n": 1}, {"n": 2}],
            "text": "hello",
            "nested": {"a": {"b": [1, {"c": None}]}},
        },
        "variables": {"threshold": 10, "names": ["x", "y"]},
    }


def make_scope(inputs: Mapping[str, Any]) -> RootScope:
    """The root scope over ``inputs`` (which it references, never copies)."""
    return RootScope(
        outputs=inputs["outputs"],
        config=inputs["config"],
        secrets=inputs["secrets"],
        env=inputs["env"],
        workflow_input=inputs["workflow_input"],
        variables=inputs["variables"],
    )


# -- oracles ------------------------------------------------------------------------------

VIEW_TYPES: tuple[type, ...] = (NodeOutputs, type(RootScope().lookup("$context")))


def domain_violations(value: Value) -> list[str]:
    """What in ``value`` is not JSON-domain data (walked iteratively: values may nest
    deeper than Python's recursion limit)."""
    problems: list[str] = []
    stack: list[tuple[Value, str]] = [(value, "$")]
    seen: set[int] = set()
    while stack and len(problems) < 5:
        item, path = stack.pop()
        kind = type(item)
        if item is None or item is UNDEFINED or kind is bool or kind is float:
            continue
        if kind is int:
            try:
                float(item)  # a JavaScript number is a double
            except OverflowError:
                problems.append(f"{path}: int of {item.bit_length()} bits")
            continue
        if kind is str:
            leaks = [marker for marker in LEAK_MARKERS if marker in item]
            if leaks:
                problems.append(f"{path}: string with a Python repr {leaks}")
            continue
        if kind is Function:
            continue  # an arrow: a value only built-ins can call
        if id(item) in seen:
            continue
        if kind is list or kind is tuple:
            seen.add(id(item))
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
        elif kind is dict or kind in VIEW_TYPES:
            seen.add(id(item))
            for key in item:
                if type(key) is not str:
                    problems.append(f"{path}: key {key!r} is not a str")
                    continue
                stack.append((item[key], f"{path}.{key}"))
        else:
            problems.append(f"{path}: {kind.__module__}.{kind.__qualname__}")
    return problems


def table_state() -> dict[str, Any]:
    """Everything the evaluator shares between evaluations, in comparable form."""
    return {
        "builtin_names": list(BUILTINS),
        "builtin_functions": dict(BUILTINS),
        "builtin_defaults": {
            name: repr(
                (
                    getattr(function, "__defaults__", None),
                    getattr(function, "__kwdefaults__", None),
                )
            )
            for name, function in BUILTINS.items()
        },
        "blocked_names": (
            type(closures.BLOCKED_NAMES),
            sorted(closures.BLOCKED_NAMES),
        ),
        "keyword_values": repr(KEYWORD_VALUES),
        "function_names": sorted(ALL_FUNCTION_NAMES),
        "limits": EVALUATOR.limits,
        "default_limits": EvaluationLimits(),
        "evaluator_functions": EVALUATOR.functions,
        "undefined": (repr(UNDEFINED), type(UNDEFINED).__slots__),
    }


def assert_tables_unchanged(before: dict[str, Any]) -> None:
    """The shared tables are what they were, function objects included."""
    after = table_state()
    assert after["builtin_names"] == before["builtin_names"]
    for name, function in before["builtin_functions"].items():
        assert after["builtin_functions"][name] is function, name
    for key in ("builtin_defaults", "blocked_names", "keyword_values"):
        assert after[key] == before[key], key
    assert after["function_names"] == before["function_names"]
    assert after["limits"] == before["limits"] == EvaluationLimits()
    assert after["default_limits"] == before["default_limits"]
    assert after["evaluator_functions"] is before["evaluator_functions"] is BUILTINS
    assert after["undefined"] == before["undefined"]
    assert BUILTINS.get("__class__") is None
    assert BUILTINS.get("__import__") is None


def evaluate_payload(payload: str, mode: str, inputs: dict[str, Any]) -> Value:
    """Compile and evaluate ``payload`` in ``mode``; the audit hook watches only this."""
    compiler = ExpressionCompiler(NODE_IDS)
    scope = make_scope(inputs)
    run: Callable[[], Value]
    if mode == "expression":
        compiled = compiler.expression(payload)
        run = lambda: compiled.evaluate(scope, EVALUATOR)
    elif mode == "template-value":
        template = compiler.template("{{ " + payload + " }}")
        run = lambda: template.value(scope, EVALUATOR)
    else:
        template = compiler.template("<{{ " + payload + " }}>")
        run = lambda: template.render(scope, EVALUATOR)
    AUDIT.events.clear()
    AUDIT.active = True
    try:
        return run()
    finally:
        AUDIT.active = False


def outcome_of(run: Callable[[], Value], what: str) -> Value | ExpressionError:
    """The value ``run`` returns or the ExpressionError it raises; anything else fails."""
    try:
        return run()
    except ExpressionError as exc:
        return exc
    except BaseException as exc:  # noqa: BLE001 - anything else is an escape or a crash
        pytest.fail(
            f"{what} raised {type(exc).__name__}: {str(exc)[:300]}", pytrace=False
        )


def assert_expression_error(exc: ExpressionError) -> None:
    """An ExpressionError with an ``EXPR_`` ErrorCode and a printable message."""
    assert isinstance(exc.code, ErrorCode), f"{exc.code!r} is not an ErrorCode"
    assert str(exc.code).startswith("EXPR_"), f"{type(exc).__name__}: {exc.code}"
    assert isinstance(str(exc), str)


def check_payload(payload: str, mode: str) -> Value | ExpressionError:
    """Run every oracle on one payload; return its value or the ExpressionError."""
    inputs = make_inputs()
    inputs_copy = copy.deepcopy(inputs)
    inputs_repr = repr(inputs)
    tables = table_state()
    shown = payload if len(payload) <= 120 else f"{payload[:100]}... ({len(payload)})"
    outcome = outcome_of(
        lambda: evaluate_payload(payload, mode, inputs), f"{mode} {shown!r}"
    )
    assert AUDIT.events == [], f"audit events while evaluating: {AUDIT.events}"
    if isinstance(outcome, ExpressionError):
        assert_expression_error(outcome)
    else:
        problems = domain_violations(outcome)
        assert problems == [], f"not JSON-domain data: {problems}"
        if mode == "template-render":
            assert type(outcome) is str
    assert_tables_unchanged(tables)
    assert inputs == inputs_copy, "the payload changed the data passed in"
    assert repr(inputs) == inputs_repr, "the payload changed the data passed in"
    pollution = ExpressionCompiler(NODE_IDS).expression(POLLUTION_PROBE)
    assert pollution.evaluate(make_scope(make_inputs()), EVALUATOR) == [UNDEFINED] * 14
    assert pollution.evaluate(make_scope(inputs), EVALUATOR) == [UNDEFINED] * 14
    return outcome


# -- the corpus ---------------------------------------------------------------------------

_JSON_PROTO = """'{"__proto__": {"polluted": true, "isAdmin": true}}'"""
_JSON_CTOR = """'{"constructor": {"prototype": {"polluted": true}}}'"""
_DEEP = "reduce(range(0, 5000), (acc, i) => [acc], [])"
_HUGE_HEX = '"0x' + "f" * 300 + '"'
_HUGE_BIN = '"0b' + "1" * 1100 + '"'
_HUGE_OCT = '"0o' + "7" * 400 + '"'


def repeat_text(char: str, count: int) -> str:
    """A string literal of ``count`` copies of ``char`` (kept short in the source)."""
    return '"' + char * count + '"'


def _p(text: str, name: str) -> Any:
    return pytest.param(text, id=name)


PAYLOADS = [
    # Dunder walks by dot (simpleeval #15, smolagents CVE-2025-9959).
    _p("$config.__class__", "dot-class"),
    _p('"".__class__', "str-class"),
    _p('"".__class__.__mro__', "str-mro"),
    _p('"".__class__.__mro__[1].__subclasses__', "str-mro-subclasses"),
    _p("[].__class__.__base__.__subclasses__", "list-base-subclasses"),
    _p("true.__class__.__class__.__base__.__subclasses__", "bool-subclasses-walk"),
    _p("(1).__class__", "number-class"),
    _p("{}.__class__.__init__.__globals__", "object-init-globals"),
    _p("input.__dict__", "input-dict"),
    _p("$nodes.__init__.__globals__", "nodes-init-globals"),
    _p("$config.__reduce__", "reduce"),
    _p("$config.__reduce_ex__", "reduce-ex"),
    _p("$config.__getattribute__", "getattribute"),
    _p("$vars.__getitem__", "getitem"),
    _p("$context.__module__", "module"),
    _p("$config.__class__.mro", "class-mro"),
    _p('"".__format__', "dunder-format"),
    _p("input?.__class__", "optional-dot-class"),
    _p('input?.["__class__"]', "optional-bracket-class"),
    _p("fetch.output.__class__", "node-output-class"),
    _p("fetch-data.__len__", "dashed-node-len"),
    # Bare names from Python's builtins.
    _p("__builtins__", "builtins-name"),
    _p("__import__", "import-name"),
    _p("__builtins__.__import__", "builtins-import"),
    _p('__builtins__["eval"]', "builtins-eval-key"),
    _p("[__builtins__, __import__, __loader__, __spec__, __file__]", "dunder-names"),
    _p("[eval, exec, open, getattr, globals, locals, vars, dir]", "python-names"),
    _p('__import__("os")', "call-import"),
    _p('eval("1 + 1")', "call-eval"),
    _p('exec("import os")', "call-exec"),
    _p('open("/etc/passwd")', "call-open"),
    _p('getattr("", "__class__")', "call-getattr"),
    _p("globals()", "call-globals"),
    _p('compile("1", "x", "eval")', "call-compile"),
    _p("breakpoint()", "call-breakpoint"),
    _p('format("{0.__class__}", 1)', "call-format"),
    _p('format_map("{x.__class__}", {x: 1})', "call-format-map"),
    _p("type(1)", "call-type"),
    _p("exit(1)", "call-exit"),
    # Keys built at run time (Jexl #142: bracket access bypassed a dot-only check).
    _p('$config["__class__"]', "bracket-class"),
    _p('$config["__cla" + "ss__"]', "concat-class"),
    _p('$config[concat("__", "class", "__")]', "concat-fn-class"),
    _p('$config[join(["_", "_", "globals", "_", "_"], "")]', "join-globals"),
    _p('$config[lower("__CLASS__")]', "lower-class"),
    _p('$config[replace("xxclassxx", "x", "_")]', "replace-class"),
    _p('$config[repeat("_", 2) + "dict" + repeat("_", 2)]', "repeat-dict"),
    _p('$config[join(reverse(split("__ssalc__", "")), "")]', "reversed-class"),
    _p('$config[base64_decode("X19jbGFzc19f")]', "base64-class"),
    _p('$config[url_decode("%5F%5Fclass%5F%5F")]', "url-decode-class"),
    _p("""$config[json_decode('"__class__"')]""", "json-decode-class"),
    _p(r'$config["\u005f\u005fclass\u005f\u005f"]', "unicode-escape-class"),
    _p(r'$config["\x5f\x5fclass\x5f\x5f"]', "hex-escape-class"),
    _p(r'$config["\u{5f}\u{5f}class\u{5f}\u{5f}"]', "braced-escape-class"),
    _p('$config[["__class__"]]', "array-key-class"),
    _p('$config[["__cla", "ss__"]]', "array-join-key"),
    _p('"abc"[["__class__"]]', "string-array-key"),
    _p('$config[to_string("__class__")]', "to-string-key"),
    _p('$config[substring("x__class__x", 1, 10)]', "substring-key"),
    _p('$config[slice("x__init__", 1)]', "slice-key"),
    _p('$config[char_at("_", 0) + "_globals__"]', "char-at-key"),
    _p('map(["__class__", "__globals__"], k => $config[k])', "map-keys"),
    _p('reduce(["__cla", "ss__"], (acc, p) => acc + p, "")', "reduce-build-name"),
    _p('map(["__class__"], k => ({[k]: 1}))', "map-computed-key"),
    # constructor, __proto__ and prototype (safe-eval, expr-eval CVE-2025-12735).
    _p("$config.constructor", "constructor"),
    _p("$config.constructor.constructor", "constructor-constructor"),
    _p('$config["constructor"]["constructor"]', "constructor-bracket"),
    _p('$config["const" + "ructor"]', "constructor-concat"),
    _p("[].constructor", "array-constructor"),
    _p('"".constructor', "string-constructor"),
    _p("(x => x).constructor", "arrow-constructor"),
    _p("{}.__proto__", "proto-read"),
    _p('{}["__proto__"]', "proto-bracket"),
    _p('{}["__pro" + "to__"]', "proto-concat"),
    _p("$config.prototype", "prototype"),
    _p("Object.prototype", "object-prototype"),
    _p("prototype", "prototype-name"),
    _p("{__proto__: {polluted: 1}}", "proto-literal-key"),
    _p('{"__proto__": {polluted: 1}}', "proto-string-key"),
    _p('{["__proto__"]: {polluted: 1}}', "proto-computed-key"),
    _p('{["__pro" + "to__"]: {polluted: 1}}', "proto-concat-key"),
    _p("{constructor: {prototype: {polluted: 1}}}", "constructor-prototype-literal"),
    _p("{__proto__}", "proto-shorthand"),
    _p("{...{a: 1}, __proto__: {polluted: 1}}", "proto-after-spread"),
    _p(f"json_decode({_JSON_PROTO})", "json-proto"),
    _p(f"json_decode({_JSON_CTOR})", "json-constructor"),
    _p(f"{{...json_decode({_JSON_PROTO})}}", "spread-json-proto"),
    _p(f"[...values(json_decode({_JSON_PROTO}))]", "values-json-proto"),
    _p(f'get(json_decode({_JSON_PROTO}), "__proto__.polluted")', "get-json-proto"),
    _p(f"keys(json_decode({_JSON_PROTO}))", "keys-json-proto"),
    _p(f"json_encode(json_decode({_JSON_PROTO}))", "roundtrip-json-proto"),
    _p(f"clone(json_decode({_JSON_PROTO}))", "clone-json-proto"),
    _p('set({}, "__proto__.polluted", 1)', "set-proto"),
    _p('set($config, "__proto__.polluted", 1)', "set-config-proto"),
    _p('set({}, "constructor.prototype.polluted", 1)', "set-constructor-prototype"),
    _p('set([], "__proto__.polluted", 1)', "set-array-proto"),
    _p(f"merge({{}}, json_decode({_JSON_PROTO}))", "merge-json-proto"),
    _p(f"merge($config, json_decode({_JSON_PROTO}))", "merge-config-proto"),
    _p('from_entries([["__proto__", {polluted: 1}]])', "from-entries-proto"),
    _p(
        'from_entries([["constructor", {prototype: {polluted: 1}}]])',
        "from-entries-ctor",
    ),
    _p('from_entries([["__class__", 1], ["__globals__", 2]])', "from-entries-dunders"),
    _p('from_entries(map([1], x => ["__proto__", {polluted: 1}]))', "from-entries-map"),
    _p('group_by([1, 2], x => "__proto__")', "group-by-proto"),
    _p('group_by([1], x => "constructor")', "group-by-constructor"),
    _p('omit({}, ["__proto__"])', "omit-proto"),
    _p('pick($config, ["__class__", "__dict__", "api"])', "pick-dunders"),
    _p('delete({}, "__proto__")', "delete-proto"),
    _p('has({}, "constructor")', "has-constructor"),
    _p('has("", "__class__")', "has-string-class"),
    _p('has($config, "__class__")', "has-config-class"),
    _p('switch("__proto__", {a: 1}, "d")', "switch-proto"),
    _p('switch("constructor", {a: 1})', "switch-constructor"),
    _p('switch("__class__", {a: 1}, 0)', "switch-class"),
    _p('get($config, "__class__")', "get-class"),
    _p('get("", "__class__.__mro__")', "get-string-mro"),
    _p('get([], "__class__.__base__.__subclasses__")', "get-list-subclasses"),
    _p('get($config, "constructor.constructor")', "get-constructor"),
    _p('get($nodes, "_outputs")', "get-nodes-private"),
    _p('get($context, "_variables")', "get-context-private"),
    _p('get(1, "real")', "get-number-attribute"),
    _p('get("abc", "upper")', "get-string-method"),
    # this (safe-eval, safer-eval CVE-2019-10759, veval).
    _p("this", "this"),
    _p('this.constructor.constructor("return process")()', "this-constructor-call"),
    _p('this["constructor"]', "this-bracket"),
    _p("map([1], x => this)", "this-in-arrow"),
    _p("x => this", "arrow-returning-this"),
    # Attributes of strings, numbers and functions; method calls are syntax errors.
    _p('"".format', "str-format-attribute"),
    _p('"{0.__class__}".format', "format-string-attribute"),
    _p('"abc".upper', "str-upper-attribute"),
    _p("(1).real", "number-real"),
    _p("(1.5).hex", "float-hex"),
    _p("true.real", "bool-real"),
    _p('"abc"["length"]', "str-length"),
    _p('"abc"["-1"]', "str-negative-index"),
    _p('"abc"["01"]', "str-padded-index"),
    _p('[1, 2]["1"]', "array-string-index"),
    _p('"abc"["\u0661"]', "arabic-digit-index"),
    _p('"abc"["99999999999999999999999"]', "huge-index"),
    _p("[1, 2][1e400]", "infinite-index"),
    _p("$config[x => x]", "arrow-as-key"),
    _p("{[x => x]: 1, [0 / 0]: 2, 1e400: 3, [-0]: 4}", "odd-keys"),
    _p("upper", "function-name-as-value"),
    _p("upper.name", "function-name-attribute"),
    _p("upper.__call__", "function-call-attribute"),
    _p('map(["a"], upper)', "function-name-as-argument"),
    _p('"abc".upper()', "method-call"),
    _p("$config.keys()", "dict-method-call"),
    _p('"".join(["a"])', "str-join-call"),
    _p("[1].pop()", "list-pop-call"),
    _p('$config["get"]("api")', "bracket-method-call"),
    _p("(x => x)(1)", "arrow-direct-call"),
    _p("(x => x).call(1)", "arrow-call-method"),
    _p("upper?.(1)", "optional-call"),
    # Arrows: their attributes, their scope, arrows returned as values.
    _p("(x => x).__code__", "arrow-code"),
    _p("(x => x).__globals__", "arrow-globals"),
    _p("(x => x).__closure__", "arrow-closure"),
    _p("(x => x).func_globals", "arrow-func-globals"),
    _p("(x => x).func_code", "arrow-func-code"),
    _p("(x => x).im_func", "arrow-im-func"),
    _p("(x => x).__self__", "arrow-self"),
    _p("(x => x).scope", "arrow-scope"),
    _p('(x => x)["sco" + "pe"]', "arrow-scope-concat"),
    _p("(x => x).arrow.body", "arrow-ast"),
    _p("(x => x).body", "arrow-body"),
    _p('get(x => x, "scope._variables")', "get-arrow-scope"),
    _p('get(x => x, "arrow.params")', "get-arrow-ast"),
    _p('get(x => x, "__globals__")', "get-arrow-globals"),
    _p("keys(x => x)", "keys-arrow"),
    _p("values(x => x)", "values-arrow"),
    _p("entries(x => x)", "entries-arrow"),
    _p("size(x => x)", "size-arrow"),
    _p('pick(x => x, ["scope", "arrow", "body"])', "pick-arrow"),
    _p('has(x => x, "scope")', "has-arrow-scope"),
    _p("clone(x => $secrets)", "clone-arrow"),
    _p("json_encode(x => $secrets)", "json-encode-arrow"),
    _p("to_string(x => $secrets)", "to-string-arrow"),
    _p('pretty({f: x => x, s: "a"})', "pretty-arrow"),
    _p("typeof(x => x)", "typeof-arrow"),
    _p('"" + (x => x)', "concat-arrow"),
    _p("{...(x => x)}", "spread-arrow-object"),
    _p("[...(x => x)]", "spread-arrow-array"),
    _p("map([1], x => $secrets)", "arrow-captures-secrets"),
    _p("map([1], x => y => $secrets)", "arrow-returns-arrow"),
    _p("find([x => x], f => f)", "find-returns-arrow"),
    _p("reduce([1, 2], (acc, x) => acc, x => x)", "reduce-returns-arrow"),
    _p("map([1], x => map([2], y => x + y))", "nested-closure"),
    _p("map([1], (__class__) => __class__)", "dunder-parameter"),
    _p("map([1], __proto__ => __proto__)", "proto-parameter"),
    _p("map([1], (this) => 1)", "this-parameter"),
    _p("sort_by([2, 1], x => $config.list)", "sort-by-config"),
    # Generator and coroutine frames (simpleeval #138).
    _p('map([1], x => x).gi_frame.f_globals["__builtins__"]', "gi-frame-globals"),
    _p("(x => x).gi_frame", "arrow-gi-frame"),
    _p("map([1], x => x).gi_frame", "result-gi-frame"),
    _p("$config.gi_frame.f_back.f_globals", "frame-walk"),
    _p("$config.f_locals", "f-locals"),
    _p("$config.cr_frame", "cr-frame"),
    _p("$config.tb_frame", "tb-frame"),
    _p('$config["gi_" + "frame"]', "gi-frame-concat"),
    # Format strings that look attributes up (Jinja2, RestrictedPython, asteval).
    _p('"{0.__class__}" + ""', "format-literal"),
    _p('replace("{0.__class__.__init__.__globals__}", "x", "y")', "replace-format"),
    _p('concat("{", "0.__class__", "}")', "concat-format"),
    _p('to_string("{0.__globals__}")', "to-string-format"),
    _p('format_date(now(), "{0.__class__}")', "format-date-braces"),
    _p('format_date(now(), "%s {.__class__} %(x)s")', "format-date-percent"),
    _p('date("{0.__init__.__globals__}")', "date-format"),
    _p('time("{0.__class__}")', "time-format"),
    _p('parse_date("{0.__class__}", "{0.__class__}")', "parse-date-format"),
    _p('pretty({a: 1}, "{0.__class__}")', "pretty-format-indent"),
    _p('truncate("{0.__class__}", 5, "{0}")', "truncate-format"),
    _p('pad_start("x", 20, "{0.__class__}")', "pad-format"),
    _p('hash("x", "{0.__class__}")', "hash-format-algorithm"),
    _p('hash("x", "__import__")', "hash-import-algorithm"),
    _p('hash("x", "shake_128")', "hash-shake"),
    _p('duration("{0.__class__}")', "duration-format"),
    _p('get_part(now(), "__class__")', "get-part-class"),
    _p('get_part(now(), "tzinfo")', "get-part-tzinfo"),
    _p('start_of(now(), "__class__")', "start-of-class"),
    _p("add_time(now(), {__class__: 1})", "add-time-class"),
    # Exceptions raised inside built-ins become EXPR_ errors.
    _p('base64_encode("€")', "btoa-non-latin1"),
    _p('base64_decode("%%%")', "base64-garbage"),
    _p('json_decode("{")', "json-truncated"),
    _p('json_decode("NaN")', "json-nan"),
    _p('json_decode("1e99999")', "json-overflow"),
    _p(f"json_decode({repeat_text('9', 400)})", "json-huge-int"),
    _p(f"json_decode({repeat_text('9', 5000)})", "json-int-digit-limit"),
    _p('json_decode(repeat("[", 100000) + repeat("]", 100000))', "json-deep"),
    _p('has(1, "a")', "has-primitive"),
    _p('match("a", "(")', "regex-unbalanced"),
    _p('test("ab", "(?<=a+)b")', "regex-variable-lookbehind"),
    _p('match("a", "(?P<x>a)(?P=x)")', "regex-python-syntax"),
    _p('match_all("aaa", "")', "regex-empty-match-all"),
    _p('match_all("abc", "(?=)")', "regex-lookahead-empty"),
    _p('test("a", "a{99999999999}")', "regex-huge-repeat"),
    _p('url_decode("%")', "url-decode-bad"),
    _p("from_timestamp(1e300)", "timestamp-overflow"),
    _p("from_timestamp(0 / 0)", "timestamp-nan"),
    _p('format_date("not a date", "yyyy")', "format-bad-date"),
    _p('add_time(now(), "P99999999999Y")', "add-time-overflow"),
    _p("add_time(now(), {years: 1e308})", "add-time-object-overflow"),
    _p("round(1e308, 400)", "round-huge"),
    _p("random_int(0, 1 / 0)", "random-int-infinite"),
    _p("sqrt(-1)", "sqrt-negative"),
    _p("trunc(1 / 0)", "trunc-infinite"),
    _p("floor(0 / 0)", "floor-nan"),
    _p('substring("abc", 1e308, -1e308)', "substring-huge"),
    _p("slice([1, 2, 3], -1e308, 1 / 0)", "slice-infinite"),
    _p("at([1], 1e300)", "at-huge"),
    _p('char_at("abc", 0 / 0)', "char-at-nan"),
    _p('repeat("x", -1)', "repeat-negative"),
    _p('repeat("x", 1 / 0)', "repeat-infinite"),
    _p("range(0, 1 / 0)", "range-infinite"),
    _p("range(0 / 0, 1)", "range-nan"),
    _p("hash(x => x)", "hash-arrow"),
    _p("sum([x => x])", "sum-arrow"),
    _p("sort([x => x, 1, {}, [], null])", "sort-mixed"),
    _p("equals(x => x, x => x)", "equals-arrows"),
    # Recursion through arrows passed to themselves.
    _p("map([f => map([f], f)], f => map([f], f))", "self-application"),
    _p("reduce([1], (acc, x) => map([acc], acc), f => map([f], f))", "reduce-self"),
    _p("sort_by([1, 2], x => map([x], y => y))", "sort-by-nested"),
    _p("every([g => every([g], g)], g => every([g], g))", "every-self"),
    _p("filter([f => filter([f], f)], f => filter([f], f))", "filter-self"),
    # Numbers no double can hold: hex, binary and octal strings coerce to huge ints.
    _p(f"-{_HUGE_HEX}", "negate-huge-hex"),
    _p(f"+{_HUGE_HEX}", "plus-huge-hex"),
    _p(f"{_HUGE_HEX} - 1", "subtract-huge-hex"),
    _p(f"{_HUGE_HEX} * 1", "multiply-huge-hex"),
    _p(f"{_HUGE_HEX} / 3", "divide-huge-hex"),
    _p(f"{_HUGE_HEX} % 7", "remainder-huge-hex"),
    _p(f"{_HUGE_BIN} - 0", "huge-binary"),
    _p(f"{_HUGE_OCT} * 2", "huge-octal"),
    _p(f"to_number({_HUGE_HEX})", "to-number-huge-hex"),
    _p(f"abs({_HUGE_HEX})", "abs-huge-hex"),
    _p(f"sum([{_HUGE_HEX}])", "sum-huge-hex"),
    # Values nested deeper than Python's recursion limit, built by the expression.
    _p(f'"" + {_DEEP}', "deep-concat"),
    _p(f"{_DEEP} == 1", "deep-loose-equals"),
    _p(f"{_DEEP} < 1", "deep-less-than"),
    _p(f"-{_DEEP}", "deep-negate"),
    _p(f"{{}}[{_DEEP}]", "deep-key"),
    _p(_DEEP, "deep-value"),
    _p(f"json_encode({_DEEP})", "deep-json-encode"),
    _p(f"equals({_DEEP}, {_DEEP})", "deep-equals"),
    _p(f"clone({_DEEP})", "deep-clone"),
    # Mutating the data passed in (it must stay untouched).
    _p("sort($config.list)", "sort-config"),
    _p("reverse($config.list)", "reverse-config"),
    _p('sort(input.items, "n", "desc")', "sort-input-by-key"),
    _p("sort_by(input.items, x => -x.n)", "sort-by-input"),
    _p('set($config, "api.url", "https://evil.test")', "set-config"),
    _p('set($config.api, "url", "https://evil.test")', "set-config-api"),
    _p('set($secrets, "TOKEN", "stolen")', "set-secrets"),
    _p('delete($config.api, "url")', "delete-config"),
    _p('delete($secrets, "TOKEN")', "delete-secrets"),
    _p('merge($config.api, {url: "https://evil.test"})', "merge-config"),
    _p('omit($config, ["api"])', "omit-config"),
    _p("array_concat($config.list, [4])", "array-concat-config"),
    _p("unique(array_concat($config.list, $config.list))", "unique-config"),
    _p("map($config.list, x => set($config, 'name', x))", "map-set-config"),
    _p(
        'reduce(input.items, (acc, x) => set(acc, "n", x.n), input.items[0])',
        "reduce-set-input",
    ),
    _p('map(fetch.output.items, x => set(x, "n", 0))', "map-set-outputs"),
    _p("group_by(fetch.output.items, x => x.n)", "group-by-outputs"),
    _p("from_entries(entries($secrets))", "secrets-roundtrip"),
    _p("json_decode(json_encode($config))", "config-json-roundtrip"),
    _p("{...$config, api: null}", "spread-config"),
    _p("{...$nodes, ...$context, ...$vars}", "spread-views"),
    _p("[...$config]", "spread-object-into-array"),
    _p("flatten([$config.list, $config.list])", "flatten-config"),
    _p('reverse(split($secrets.TOKEN, ""))', "reverse-secret"),
]


#: expressions that load what the evaluator and the built-ins load lazily on first use
#: (codecs for UTF-16 lengths and comparisons, time zone data, hash constructors ...),
#: run before the corpus so that the audit hook sees only what a payload causes.
WARM_UP_ARGUMENTS = [
    "",
    '"a"',
    "1",
    '"a", "a"',
    "[2, 1], x => x",
    '[{a: 1}], "a"',
    '"2026-02-07T15:47:17.900Z", "yyyy-MM-dd HH:mm"',
    '"2026-02-07T15:47:17.900Z", "P1D"',
    '"x", "sha256"',
    '{a: 1}, "a"',
]


def load_lazy_modules() -> None:
    """Call every built-in a few ways, and the string operations, outside the audit."""
    compiler = ExpressionCompiler(NODE_IDS)
    texts = ['"abc".length', '"a" < "b"', "[1, {a: 1}]", "1 / 3 + ''"]
    texts += [f"{name}({args})" for name in BUILTINS for args in WARM_UP_ARGUMENTS]
    for text in texts:
        try:
            compiler.template("<{{ " + text + " }}>").render(RootScope(), EVALUATOR)
        except Exception:  # noqa: BLE001 - only loading modules matters here
            continue


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """Load lazily imported modules before any payload runs."""
    load_lazy_modules()


MODES = ["expression", "template-value", "template-render"]


@pytest.mark.reliability
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_stays_in_the_sandbox(payload: str, mode: str) -> None:
    """The payload yields plain data or an EXPR_ error, touching nothing shared
    (figure 8 counts each payload once, and every mode in which it got out)."""
    first = mode == MODES[0]
    try:
        check_payload(payload, mode)
    except BaseException:
        figures.count("sandbox escapes", payloads=first, escaped=1)
        raise
    figures.count("sandbox escapes", payloads=first, escaped=0)


def test_corpus_is_large_and_distinct() -> None:
    """There are at least 100 payloads, with distinct texts and ids."""
    texts = [param.values[0] for param in PAYLOADS]
    ids = [param.id for param in PAYLOADS]
    assert len(PAYLOADS) >= 100
    assert len(set(texts)) == len(texts)
    assert len(set(ids)) == len(ids)


# -- blocked names: always EXPR_BLOCKED_ACCESS, whichever way they are reached ------------

BLOCKED = sorted(closures.BLOCKED_NAMES | {"__class__", "__globals__", "__x", "__"})
ROUTES = [
    pytest.param("$config.{name}", id="dot"),
    pytest.param('$config["{name}"]', id="bracket"),
    pytest.param('$config["{head}" + "{tail}"]', id="concat"),
    pytest.param("input?.{name}", id="optional-dot"),
    pytest.param('input?.["{name}"]', id="optional-bracket"),
    pytest.param("[1].{name}", id="array-dot"),
    pytest.param('"s"["{name}"]', id="string-bracket"),
    pytest.param("null.{name}", id="null-dot"),
    pytest.param("{{{name}: 1}}", id="object-key"),
    pytest.param('{{"{name}": 1}}', id="object-string-key"),
    pytest.param('{{["{head}" + "{tail}"]: 1}}', id="object-computed-key"),
    pytest.param('map(["{name}"], k => ({{[k]: 1}}))', id="arrow-computed-key"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", BLOCKED)
def test_blocked_name_is_refused(name: str, route: str) -> None:
    """Every route to a blocked property name raises SandboxViolation."""
    half = len(name) // 2
    text = route.format(name=name, head=name[:half], tail=name[half:])
    outcome = check_payload(text, "expression")
    assert isinstance(outcome, SandboxViolation), f"{text} gave {outcome!r}"
    assert outcome.code == ErrorCode.EXPR_BLOCKED_ACCESS


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{{...json_decode({_JSON_PROTO})}}", id="spread-decoded-proto"),
        pytest.param(f"json_decode({_JSON_PROTO})['__proto__']", id="read-decoded"),
        pytest.param("{...{a: 1}, __proto__: 1}", id="literal-after-spread"),
    ],
)
def test_proto_from_data_is_refused_when_spread_or_read(text: str) -> None:
    """``__proto__`` arriving as data cannot be spread into or read from an object."""
    assert isinstance(check_payload(text, "expression"), SandboxViolation)


def test_decoded_proto_is_inert_data() -> None:
    """A decoded ``__proto__`` key is an ordinary key: nothing inherits from it."""
    text = f"[json_decode({_JSON_PROTO}).polluted, {{}}.isAdmin]"
    assert check_payload(text, "expression") == [UNDEFINED, UNDEFINED]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("{{ $secrets.TOKEN }}", id="secret"),
        pytest.param("{{ __import__('os').system('id') }}", id="python"),
        pytest.param("{{ {{ $secrets.TOKEN }} }}", id="nested"),
        pytest.param("\\{{ $secrets.TOKEN }}", id="escaped"),
    ],
)
def test_template_data_is_never_evaluated_again(data: str) -> None:
    """A value that contains ``{{ }}`` renders as text: templates are evaluated once."""
    scope = RootScope(secrets={"TOKEN": "s3cr3t"}, variables={"t": data})
    compiler = ExpressionCompiler()
    rendered = compiler.template("<{{ t }}>").render(scope, EVALUATOR)
    assert rendered == f"<{data}>"
    assert compiler.template("{{ [t] }}").value(scope, EVALUATOR) == [data]


# -- hostile data handed in by the host ---------------------------------------------------


def _deep_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('"" + $vars.deep', id="concat"),
        pytest.param("-$vars.deep", id="negate"),
        pytest.param("$vars.deep == 'x'", id="loose-equals"),
        pytest.param("$vars.deep < 1", id="less-than"),
        pytest.param("{}[$vars.deep]", id="key"),
        pytest.param("json_encode($vars.deep)", id="json-encode"),
    ],
)
@pytest.mark.parametrize("mode", ["expression", "template-render"])
def test_deeply_nested_input_gives_an_expression_error(text: str, mode: str) -> None:
    """Data nested 5,000 deep (a parsed HTTP body, say) never crashes the evaluator."""
    scope = RootScope(variables={"deep": _deep_list(5000)})
    compiler = ExpressionCompiler()
    run: Callable[[], Value]
    if mode == "expression":
        compiled = compiler.expression(text)
        run = lambda: compiled.evaluate(scope, EVALUATOR)
    else:
        template = compiler.template("<{{ " + text + " }}>")
        run = lambda: template.render(scope, EVALUATOR)
    outcome = outcome_of(run, f"{mode} {text!r}")
    if isinstance(outcome, ExpressionError):
        assert_expression_error(outcome)
    else:
        assert domain_violations(outcome) == []


# -- the oracles themselves ---------------------------------------------------------------


def test_audit_hook_records_watched_events() -> None:
    """The audit hook is live: an ``open`` while active is recorded."""
    AUDIT.events.clear()
    AUDIT.active = True
    try:
        with open(__file__, "rb"):
            pass
    finally:
        AUDIT.active = False
    assert [event for event, _ in AUDIT.events] == ["open"]
    AUDIT.events.clear()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        pytest.param(
            [None, UNDEFINED, True, 1, 1.5, math.nan, "s"], True, id="scalars"
        ),
        pytest.param({"a": [{"b": {}}], "c": ()}, True, id="containers"),
        pytest.param(object(), False, id="object"),
        pytest.param(16**300, False, id="huge-int"),
        pytest.param({"a": [str.upper]}, False, id="nested-function"),
        pytest.param({1: "a"}, False, id="int-key"),
        pytest.param(ErrorCode.EXPR_EVAL_ERROR, False, id="str-subclass"),
        pytest.param("<class 'str'>", False, id="leaked-repr"),
        pytest.param(b"bytes", False, id="bytes"),
    ],
)
def test_domain_oracle(value: Any, ok: bool) -> None:
    """The JSON-domain check accepts plain data only."""
    assert (domain_violations(value) == []) is ok
