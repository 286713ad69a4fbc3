"""Object built-ins: keys, dot paths, merging, copying and deep comparison.

They follow the original JavaScript functions (``Object.keys``, ``Object.assign``, the
``in`` operator, spread copies). Objects come in as mappings (keys are strings) and
arrays as lists or tuples; results are new dicts and lists, and no argument is ever
changed. Like JavaScript, an array or a string used as an object has its indices as
keys (``keys("ab")`` is ``["0", "1"]``). Recursive walks stop at
``limits.max_depth`` with ExpressionLimitError.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from maidit_jupyter.errors import ExpressionLimitError, ExpressionTypeError
from maidit_jupyter.expressions.builtins.base import CallContext, FunctionTable, arg
from maidit_jupyter.expressions.values import (
    UNDEFINED,
    Value,
    is_array,
    is_object,
    js_typeof,
    strict_equals,
    to_string,
    truthy,
)

__all__ = ["TABLE"]

TABLE = FunctionTable()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# What ``key in obj`` also finds on every object (inherited from Object.prototype).
_OBJECT_PROTOTYPE = _words(
    "constructor hasOwnProperty isPrototypeOf propertyIsEnumerable toLocaleString "
    "toString valueOf __proto__ __defineGetter__ __defineSetter__ __lookupGetter__ "
    "__lookupSetter__"
)
_ARRAY_PROTOTYPE = _words(
    "length at concat copyWithin entries every fill filter find findIndex findLast "
    "findLastIndex flat flatMap forEach includes indexOf join keys lastIndexOf map pop "
    "push reduce reduceRight reverse shift slice some sort splice toLocaleString "
    "toReversed toSorted toSpliced toString unshift values with"
)
_FUNCTION_PROTOTYPE = _words("length name apply bind call toString")


def _key(key: Value) -> str:
    """JavaScript ToPropertyKey: ``String(key)``."""
    return key if isinstance(key, str) else to_string(key)


def _index(key: str, size: int) -> int | None:
    """The array index ``key`` names (canonical decimal below ``size``), or None."""
    canonical = key == "0" or key[:1] in tuple("123456789")
    if canonical and len(key) <= 16 and key.isascii() and key.isdigit():
        position = int(key)
        return position if position < size else None
    return None


def _own(value: Value) -> Iterator[tuple[str, Value]]:
    """``Object.entries(value)``: own enumerable properties (strings give characters)."""
    if is_object(value):
        for key, item in value.items():
            yield _key(key), item
    elif is_array(value) or isinstance(value, str):
        for position, item in enumerate(value):
            yield str(position), item


def _get(value: Value, key: str) -> Value:
    """``value[key]`` for own data properties (plus ``length``); UNDEFINED otherwise."""
    if is_object(value):
        return value.get(key, UNDEFINED)
    if is_array(value) or isinstance(value, str):
        if key == "length":
            return len(value)
        position = _index(key, len(value))
        return UNDEFINED if position is None else value[position]
    return UNDEFINED


def _has(ctx: CallContext, value: Value, key: str) -> bool:
    """JavaScript ``key in value`` (inherited names included); TypeError on primitives."""
    if ctx.is_function(value):
        return key in _FUNCTION_PROTOTYPE or key in _OBJECT_PROTOTYPE
    if is_object(value):
        return key in value or key in _OBJECT_PROTOTYPE
    if is_array(value):
        return (
            _index(key, len(value)) is not None
            or key in _ARRAY_PROTOTYPE
            or key in _OBJECT_PROTOTYPE
        )
    raise ExpressionTypeError(
        f"Cannot use 'in' operator to search for '{key}' in {to_string(value)}"
    )


def _path(value: Value, name: str) -> list[str]:
    if not isinstance(value, str):
        raise ExpressionTypeError(f"{name}: the path must be a string")
    return value.split(".")


def _copy(value: Value) -> dict[str, Value]:
    """``{...value}``: a new dict of the own properties (nothing for null or numbers)."""
    return dict(_own(value))


@TABLE.register("keys")
def keys(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The own keys of an object (indices of an array or string)."""
    return [key for key, _ in _own(arg(args, 0))]


@TABLE.register("values")
def values(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The own values of an object."""
    return [item for _, item in _own(arg(args, 0))]


@TABLE.register("entries")
def entries(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The ``[key, value]`` pairs of an object."""
    return [[key, item] for key, item in _own(arg(args, 0))]


@TABLE.register("from_entries")
def from_entries(ctx: CallContext, args: Sequence[Value]) -> Value:
    """An object from ``[key, value]`` pairs (null → ``{}``); later keys win."""
    pairs = arg(args, 0)
    if pairs is None or pairs is UNDEFINED:
        return {}
    if not is_array(pairs):
        raise ExpressionTypeError(f"{to_string(pairs)} is not iterable")
    ctx.step(len(pairs))
    result: dict[str, Value] = {}
    for pair in pairs:
        if not (is_array(pair) or is_object(pair)):
            raise ExpressionTypeError(
                f"Iterator value {to_string(pair)} is not an entry"
            )
        result[_key(_get(pair, "0"))] = _get(pair, "1")
    return result


@TABLE.register("get")
def get(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The value at a dot path (``"a.b.c"``), or the default when missing or null."""
    current, path, default = arg(args, 0), arg(args, 1), arg(args, 2)
    if not truthy(current) or not truthy(path):
        return default
    for part in _path(path, "get"):
        if current is None or current is UNDEFINED:
            return default
        current = _get(current, part)
    return default if current is None or current is UNDEFINED else current


@TABLE.register("has")
def has(ctx: CallContext, args: Sequence[Value]) -> Value:
    """JavaScript ``key in obj``: false for null; ExpressionTypeError for a primitive."""
    target = arg(args, 0)
    if target is None or target is UNDEFINED:
        return False
    return _has(ctx, target, _key(arg(args, 1)))


@TABLE.register("merge")
def merge(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A shallow merge of the objects (nulls skipped); later keys win."""
    result: dict[str, Value] = {}
    for source in args:
        ctx.step(len(source) if is_array(source) or is_object(source) else 1)
        result.update(_own(source))
    return result


def _key_list(value: Value, name: str) -> list[Value]:
    if value is None or value is UNDEFINED:
        return []
    if is_array(value):
        return list(value)
    raise ExpressionTypeError(f"{name}: the keys must be an array")


@TABLE.register("pick")
def pick(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The object with only the listed keys that it has."""
    source = arg(args, 0)
    if not truthy(source):
        return {}
    wanted = [_key(name) for name in _key_list(arg(args, 1), "pick")]
    own = dict(_own(source))
    # ``k in obj`` also finds inherited names, but their values are functions: skipped.
    return {key: own[key] for key in wanted if _has(ctx, source, key) and key in own}


@TABLE.register("omit")
def omit(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The object without the listed keys."""
    source, names = arg(args, 0), arg(args, 1)
    if not truthy(source):
        return {}
    excluded = set(names) if isinstance(names, str) else _key_list(names, "omit")
    dropped = {name for name in excluded if isinstance(name, str)}
    return {key: item for key, item in _own(source) if key not in dropped}


@TABLE.register("size")
def size(ctx: CallContext, args: Sequence[Value]) -> Value:
    """The number of own keys."""
    return sum(1 for _ in _own(arg(args, 0)))


@TABLE.register("set")
def set_(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A copy with the value at a dot path; missing or non-object steps become ``{}``."""
    source, path, value = arg(args, 0), arg(args, 1), arg(args, 2)
    if not truthy(path):
        return _plain(source)
    parts = _path(path, "set")
    if len(parts) > ctx.limits.max_depth:
        raise ExpressionLimitError(f"set: a path of {len(parts)} steps is too deep")
    result = _copy(source)
    current = result
    for part in parts[:-1]:
        step = current.get(part)
        is_object_like = js_typeof(step) == "object" and not ctx.is_function(step)
        copied = _copy(step) if is_object_like else {}
        current[part] = copied
        current = copied
    current[parts[-1]] = value
    return result


def _plain(value: Value) -> Value:
    """A tuple as a list and a read-only mapping as a dict (shallow)."""
    if isinstance(value, tuple):
        return list(value)
    if is_object(value) and not isinstance(value, dict):
        return dict(value)
    return value


@TABLE.register("delete")
def delete(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A copy of the object without one key."""
    source, key = arg(args, 0), arg(args, 1)
    if not truthy(source) or not truthy(key):
        return {} if source is None or source is UNDEFINED else _plain(source)
    result = _copy(source)
    result.pop(_key(key), None)
    return result


def _equal(ctx: CallContext, a: Value, b: Value, depth: int) -> bool:
    if strict_equals(a, b):
        return True
    if ctx.is_function(a) or ctx.is_function(b) or js_typeof(a) != js_typeof(b):
        return False
    if js_typeof(a) != "object" or a is None or b is None:
        return False
    if depth >= ctx.limits.max_depth:
        raise ExpressionLimitError("equals: the values are nested too deeply")
    ctx.step()
    names = [key for key, _ in _own(a)]
    if len(names) != sum(1 for _ in _own(b)):
        return False
    return all(_equal(ctx, _get(a, key), _get(b, key), depth + 1) for key in names)


@TABLE.register("equals")
def equals(ctx: CallContext, args: Sequence[Value]) -> Value:
    """Deep structural equality (arrays and objects compare by their own keys)."""
    return _equal(ctx, arg(args, 0), arg(args, 1), 0)


def _clone(ctx: CallContext, value: Value, depth: int) -> Value:
    if not (is_array(value) or is_object(value)):
        return value
    if depth >= ctx.limits.max_depth:
        raise ExpressionLimitError("clone: the value is nested too deeply")
    ctx.step()
    if is_array(value):
        return [_clone(ctx, item, depth + 1) for item in value]
    return {key: _clone(ctx, item, depth + 1) for key, item in _own(value)}


@TABLE.register("clone")
def clone(ctx: CallContext, args: Sequence[Value]) -> Value:
    """A deep copy (functions and other values are shared, as in JavaScript)."""
    return _clone(ctx, arg(args, 0), 0)
