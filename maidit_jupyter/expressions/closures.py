"""Turn an expression AST into nested Python closures, once, for fast evaluation.

Each AST node becomes a function ``code(run, scope) -> value``; evaluating is calling the
root closure. Compared with walking the tree and dispatching on node types for every
record, this does the dispatch once per expression (the "closure compilation" technique),
which is what makes a map over 100,000 records cheap.

The closures implement the sandbox: member access reads mapping keys, array indexes and
string indexes or ``length`` and nothing else, blocked names raise
:class:`~maidit_jupyter.errors.SandboxViolation`, and sizes are checked through the run
before anything is built. Errors get the location of the innermost node that raised.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from maidit_jupyter.errors import (
    ExpressionError,
    ExpressionEvalError,
    ExpressionLimitError,
    ExpressionTypeError,
    SandboxViolation,
    UndefinedFunctionError,
)
from maidit_jupyter.expressions import nodes as e
from maidit_jupyter.expressions.functions import suggest_function
from maidit_jupyter.expressions.scope import Scope
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    FunctionValue,
    Value,
    add,
    is_array,
    less_than,
    loose_equals,
    number_to_string,
    strict_equals,
    to_number,
    to_string,
    truthy,
)

if TYPE_CHECKING:
    from maidit_jupyter.expressions.evaluator import Run

__all__ = ["BLOCKED_NAMES", "Code", "Function", "compile_code", "read_property"]

Code = Callable[["Run", Scope], Value]

#: property names an expression may never read or write.
BLOCKED_NAMES = frozenset({"__proto__", "constructor", "prototype"})
_MAX_SAFE = 2**53


class Function(FunctionValue):
    """An arrow function value: callable only by built-in functions."""

    __slots__ = ("arrow", "body", "scope")

    def __init__(self, arrow: e.Arrow, body: Code, scope: Scope) -> None:
        self.arrow = arrow
        self.body = body
        self.scope = scope

    def __repr__(self) -> str:
        return f"<function ({', '.join(self.arrow.params)}) => ...>"


def check_name(name: str) -> None:
    """Raise SandboxViolation for a blocked property name."""
    if name in BLOCKED_NAMES or name.startswith("__"):
        raise SandboxViolation(
            f"Access to '{name}' is not allowed for security reasons"
        )


def read_property(target: Value, key: Value) -> Value:
    """``target[key]`` with JavaScript property semantics over plain data."""
    name = key if isinstance(key, str) else to_string(key)
    check_name(name)
    if target is None or target is UNDEFINED:
        return UNDEFINED
    if isinstance(target, Mapping):
        return target.get(name, UNDEFINED)
    if isinstance(target, list | tuple):
        if name == "length":
            return len(target)
        index = _index(name)
        return target[index] if index is not None and index < len(target) else UNDEFINED
    if isinstance(target, str):
        if name == "length":
            return len(target.encode("utf-16-le", "surrogatepass")) // 2
        index = _index(name)
        return target[index] if index is not None and index < len(target) else UNDEFINED
    return UNDEFINED


def _index(name: str) -> int | None:
    """The array index a property name denotes (canonical non-negative integers only)."""
    if name.isdigit() and name.isascii() and (name == "0" or name[0] != "0"):
        return int(name)
    return None


def compile_code(expr: e.Expr, source: str) -> Code:
    """Compile ``expr`` (whose text is ``source``) into a closure."""
    return _Compiler(source).compile(expr)


def _number(value: Any) -> Value:
    """Keep integral numbers as ints while they are exact, as JavaScript prints them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -_MAX_SAFE <= value <= _MAX_SAFE else float(value)
    return value


def _divide(a: Any, b: Any) -> Value:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        negative = (a < 0) != (math.copysign(1.0, b) < 0)
        return -math.inf if negative else math.inf
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return _number(a // b)
    return a / b


def _remainder(a: Any, b: Any) -> Value:
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    if math.isinf(b):
        return a
    if isinstance(a, int) and isinstance(b, int):
        return int(math.copysign(abs(a) % abs(b), a))
    return math.fmod(a, b)


def _power(a: Any, b: Any) -> Value:
    try:
        result = math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or b % 2 == 0 else -math.inf
    except ValueError:
        return math.nan
    if result.is_integer() and abs(result) <= _MAX_SAFE:
        return int(result)
    return result


_ARITHMETIC: dict[str, Callable[[Any, Any], Value]] = {
    "-": lambda a, b: _number(a - b),
    "*": lambda a, b: _number(a * b),
    "/": _divide,
    "%": _remainder,
    "**": _power,
}
_COMPARE: dict[str, Callable[[Value, Value], bool]] = {
    "<": lambda a, b: less_than(a, b) is True,
    ">": lambda a, b: less_than(b, a) is True,
    "<=": lambda a, b: less_than(b, a) is False,
    ">=": lambda a, b: less_than(a, b) is False,
    "==": loose_equals,
    "!=": lambda a, b: not loose_equals(a, b),
    "===": strict_equals,
    "!==": lambda a, b: not strict_equals(a, b),
}


class _Compiler:
    """Builds the closures of one expression."""

    def __init__(self, source: str) -> None:
        self.source = source

    def compile(self, expr: e.Expr) -> Code:
        method = _METHODS.get(type(expr))
        if method is None:  # pragma: no cover - every parsed node type has a method
            raise SandboxViolation(f"{type(expr).__name__} cannot be evaluated")
        return method(self, expr)

    def located(self, code: Code, expr: e.Expr | e.Spread | e.Property) -> Code:
        """Wrap ``code`` so that errors it raises are located at ``expr``."""
        source, start, end = self.source, expr.start, expr.end

        def run(run: Run, scope: Scope) -> Value:
            try:
                return code(run, scope)
            except ExpressionError as exc:
                raise exc.locate(source, start, end) from None

        return run

    def literal(self, expr: e.Literal) -> Code:
        value = expr.value
        return lambda run, scope: value

    def identifier(self, expr: e.Identifier) -> Code:
        name = expr.name
        if name == "this":

            def this(run: Run, scope: Scope) -> Value:
                raise SandboxViolation("'this' is not allowed in expressions")

            return self.located(this, expr)
        return lambda run, scope: scope.lookup(name)

    def member(self, expr: e.Member) -> Code:
        target = self.compile(expr.object)
        if expr.property is not None:
            key = expr.property
            if key in BLOCKED_NAMES or key.startswith("__"):
                return self.located(_blocked(key), expr)

            def dotted(run: Run, scope: Scope) -> Value:
                value = target(run, scope)
                if isinstance(value, Mapping):
                    return value.get(key, UNDEFINED)
                return read_property(value, key)

            return dotted
        assert expr.computed is not None
        computed = self.compile(expr.computed)
        return self.located(
            lambda run, scope: read_property(target(run, scope), computed(run, scope)),
            expr,
        )

    def call(self, expr: e.Call) -> Code:
        name = expr.callee
        arguments = self.elements(expr.args)
        source, start, end = self.source, expr.callee_start, expr.callee_end

        def call(run: Run, scope: Scope) -> Value:
            function = run.functions.get(name)
            if function is None:
                close = suggest_function(name)
                hint = f"; did you mean {close}()?" if close else ""
                raise UndefinedFunctionError(
                    f"Function '{name}' is not defined or not allowed{hint}"
                ).locate(source, start, end)
            args = arguments(run, scope)
            try:
                return function(run, args)
            except ExpressionError:
                raise
            except RecursionError as exc:
                raise ExpressionLimitError("the values nest too deeply") from exc
            except Exception as exc:  # a built-in's bug becomes a located error
                raise ExpressionEvalError(
                    f"Evaluation failed in {name}(): {exc}"
                ) from exc

        return self.located(call, expr)

    def elements(
        self, items: Sequence[e.Expr | e.Spread | None]
    ) -> Callable[[Run, Scope], list[Value]]:
        """A closure building the list of ``items`` (holes, spreads and values)."""
        parts: list[tuple[e.Spread | None, Code | None]] = []
        for item in items:
            if item is None:
                parts.append((None, None))
            elif isinstance(item, e.Spread):
                parts.append((item, self.compile(item.argument)))
            else:
                parts.append((None, self.compile(item)))
        if all(spread is None and code is not None for spread, code in parts):
            codes = [code for _, code in parts if code is not None]
            return lambda run, scope: [code(run, scope) for code in codes]
        source = self.source

        def build(run: Run, scope: Scope) -> list[Value]:
            values: list[Value] = []
            for spread, code in parts:
                if code is None:
                    values.append(UNDEFINED)
                elif spread is None:
                    values.append(code(run, scope))
                else:
                    items = code(run, scope)
                    if isinstance(items, str):
                        items = list(items)
                    try:
                        if not is_array(items):
                            raise ExpressionTypeError(
                                f"{to_string(items)} is not iterable and cannot be spread"
                            )
                        run.check_items(len(values) + len(items), "spreading")
                    except ExpressionError as exc:
                        raise exc.locate(source, spread.start, spread.end) from None
                    values.extend(items)
            return values

        return build

    def array(self, expr: e.ArrayLiteral) -> Code:
        return self.located(self.elements(expr.elements), expr)

    def object(self, expr: e.ObjectLiteral) -> Code:
        parts: list[tuple[str | Code | None, Code]] = []
        for part in expr.properties:
            if isinstance(part, e.Spread):
                parts.append((None, self.compile(part.argument)))
            elif part.computed is not None:
                parts.append((self.compile(part.computed), self.compile(part.value)))
            else:
                assert part.key is not None
                if part.key in BLOCKED_NAMES or part.key.startswith("__"):
                    return self.located(_blocked(part.key), expr)
                parts.append((part.key, self.compile(part.value)))

        def build(run: Run, scope: Scope) -> Value:
            result: dict[str, Value] = {}
            for key, value in parts:
                if key is None:
                    _spread_into(run, result, value(run, scope))
                elif isinstance(key, str):
                    result[key] = value(run, scope)
                else:
                    name = to_string(key(run, scope))
                    check_name(name)
                    result[name] = value(run, scope)
            return result

        return self.located(build, expr)

    def unary(self, expr: e.Unary) -> Code:
        operand = self.compile(expr.operand)
        op = expr.op
        if op == "!":
            return lambda run, scope: not truthy(operand(run, scope))
        if op == "-":
            return lambda run, scope: _number(-to_number(operand(run, scope)))
        if op == "+":
            return lambda run, scope: to_number(operand(run, scope))

        def unsupported(run: Run, scope: Scope) -> Value:
            raise ExpressionEvalError(f"Unsupported unary operator: {op}")

        return self.located(unsupported, expr)

    def binary(self, expr: e.Binary) -> Code:
        left, right, op = self.compile(expr.left), self.compile(expr.right), expr.op
        if op == "+":

            def plus(run: Run, scope: Scope) -> Value:
                result = add(left(run, scope), right(run, scope))
                if isinstance(result, str):
                    run.check_string(len(result), "joining strings with '+'")
                    return result
                return _number(result)

            return self.located(plus, expr)
        compare = _COMPARE.get(op)
        if compare is not None:
            return lambda run, scope: compare(left(run, scope), right(run, scope))
        arithmetic = _ARITHMETIC[op]
        return lambda run, scope: arithmetic(
            to_number(left(run, scope)), to_number(right(run, scope))
        )

    def logical(self, expr: e.Logical) -> Code:
        left, right = self.compile(expr.left), self.compile(expr.right)
        if expr.op == "&&":

            def both(run: Run, scope: Scope) -> Value:
                value = left(run, scope)
                return right(run, scope) if truthy(value) else value

            return both
        if expr.op == "||":

            def either(run: Run, scope: Scope) -> Value:
                value = left(run, scope)
                return value if truthy(value) else right(run, scope)

            return either

        def nullish(run: Run, scope: Scope) -> Value:
            value = left(run, scope)
            return right(run, scope) if value is None or value is UNDEFINED else value

        return nullish

    def conditional(self, expr: e.Conditional) -> Code:
        test, yes, no = (
            self.compile(expr.test),
            self.compile(expr.consequent),
            self.compile(expr.alternate),
        )
        return lambda run, scope: (
            yes(run, scope) if truthy(test(run, scope)) else no(run, scope)
        )

    def arrow(self, expr: e.Arrow) -> Code:
        body = self.compile(expr.body)
        return lambda run, scope: Function(expr, body, scope)

    def sequence(self, expr: e.Sequence) -> Code:
        codes = [self.compile(item) for item in expr.expressions]

        def sequence(run: Run, scope: Scope) -> Value:
            result: Value = UNDEFINED
            for code in codes:
                result = code(run, scope)
            return result

        return sequence


def _blocked(name: str) -> Code:
    """Code that raises SandboxViolation for ``name`` (known blocked at compile time)."""

    def blocked(run: Run, scope: Scope) -> Value:
        check_name(name)
        return UNDEFINED  # pragma: no cover - check_name raised

    return blocked


def _spread_into(run: Run, result: dict[str, Value], value: Value) -> None:
    """``{...value}``: copy a mapping's entries, or an array's/string's by index."""
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list | tuple | str):
        items = ((number_to_string(i), item) for i, item in enumerate(value))
    else:
        return  # null, undefined, numbers and booleans spread to nothing
    run.check_items(len(result) + len(value), "spreading")
    for key, item in items:
        name = str(key)
        check_name(name)
        result[name] = item


_METHODS: dict[type, Callable[[_Compiler, Any], Code]] = {
    e.Literal: _Compiler.literal,
    e.Identifier: _Compiler.identifier,
    e.Member: _Compiler.member,
    e.Call: _Compiler.call,
    e.ArrayLiteral: _Compiler.array,
    e.ObjectLiteral: _Compiler.object,
    e.Unary: _Compiler.unary,
    e.Binary: _Compiler.binary,
    e.Logical: _Compiler.logical,
    e.Conditional: _Compiler.conditional,
    e.Arrow: _Compiler.arrow,
    e.Sequence: _Compiler.sequence,
}
