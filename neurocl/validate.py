"""Small validators shared by every typed description (circuits, phases, rules, ...).

Each raises :class:`~neurocl.errors.ConfigError` naming the field and the allowed range.

Types are checked once, generically, from the dataclass annotations (:func:`check_type`,
:func:`check_fields`, used by :func:`neurocl.schema.build` on every TOML table and by the
``__post_init__`` of every description): ``int`` fields take integers only (not ``True``,
not ``9.0``), ``float`` fields take integers or floats (not booleans, not strings such as
``"-0.1"``), ``bool`` fields take ``true``/``false`` only, ``str`` fields strings, ``tuple``
fields lists or tuples; ``X | None`` fields also take ``None`` (the key left out).  Fields
annotated with any other type (a phase-length law, ``object``) are left to the constructor.
The range validators below then check the values.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
import types
import typing
from numbers import Integral, Real

import numpy as np

from neurocl.errors import ConfigError

__all__ = ["positive", "positive_int", "non_negative_int", "open_unit", "non_negative", "one_of",
           "check_type", "check_table", "check_fields", "field_types"]

#: annotation -> (test, what the value must be)
_TYPES = {
    int: (lambda v: isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)), "an integer"),
    float: (lambda v: isinstance(v, Real) and not isinstance(v, (bool, np.bool_)), "a number"),
    bool: (lambda v: isinstance(v, (bool, np.bool_)), "true or false"),
    str: (lambda v: isinstance(v, str), "a string"),
    tuple: (lambda v: isinstance(v, (list, tuple)), "a list"),
    list: (lambda v: isinstance(v, (list, tuple)), "a list"),
    dict: (lambda v: isinstance(v, dict), "a table"),
}


def _checker(annotation):
    """``(types, optional)`` for an annotation this module checks, or ``None`` (left to the
    constructor): ``types`` the builtin types of :data:`_TYPES` a value may have."""
    if annotation in _TYPES:
        return (annotation,), False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        optional = type(None) in args
        rest = tuple(a for a in args if a is not type(None))
        if rest and all(a in _TYPES for a in rest):
            return rest, optional
    return None


@functools.lru_cache(maxsize=None)
def field_types(cls) -> dict:
    """``{field name: (types, optional)}`` of the constructor fields of the dataclass ``cls``
    whose annotation is checked here (annotations are resolved with ``typing.get_type_hints``)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:   # some annotation does not resolve: resolve the others one by one
        hints = {}
        namespace = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
        for f in dataclasses.fields(cls):
            try:
                hints[f.name] = eval(f.type, dict(namespace)) if isinstance(f.type, str) else f.type
            except Exception:
                pass   # left to the constructor
    out = {}
    for f in dataclasses.fields(cls):
        if f.init and f.name in hints:
            c = _checker(hints[f.name])
            if c is not None:
                out[f.name] = c
    return out


def check_type(name: str, value, allowed: tuple, optional: bool = False) -> None:
    """Raise :class:`ConfigError` (``name = value must be an integer``, ...) unless ``value``
    has one of the ``allowed`` builtin types (``int``, ``float``, ``bool``, ``str``, ``tuple``)
    or is ``None`` where ``optional``."""
    if value is None and optional:
        return
    if any(_TYPES[t][0](value) for t in allowed):
        return
    what = " or ".join(_TYPES[t][1] for t in allowed)
    raise ConfigError(f"{name} = {value!r} must be {what}")


def check_table(cls, table: dict) -> None:
    """Type-check the values of ``table`` (keys of fields of the dataclass ``cls``)."""
    types_ = field_types(cls)
    for key, value in table.items():
        if key in types_:
            check_type(key, value, *types_[key])


def check_fields(obj) -> None:
    """Type-check every constructor field of the dataclass instance ``obj`` by its annotation
    (call first thing in ``__post_init__``: the range checks may then assume the types)."""
    for key, (allowed, optional) in field_types(type(obj)).items():
        check_type(key, getattr(obj, key), allowed, optional)


def _number(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise ConfigError(f"{name} = {value!r} must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name} = {value!r} must be finite")
    return value


def positive(name: str, value) -> float:
    """Return ``value`` as float, or raise if it is not a finite number > 0."""
    value = _number(name, value)
    if value <= 0:
        raise ConfigError(f"{name} = {value:g} must be > 0")
    return value


def non_negative(name: str, value) -> float:
    """Return ``value`` as float, or raise if it is not a finite number >= 0."""
    value = _number(name, value)
    if value < 0:
        raise ConfigError(f"{name} = {value:g} must be >= 0")
    return value


def positive_int(name: str, value) -> int:
    """Return ``value`` as int, or raise if it is not an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise ConfigError(f"{name} = {value!r} must be an integer >= 1")
    if value < 1:
        raise ConfigError(f"{name} = {value} must be an integer >= 1")
    return int(value)


def non_negative_int(name: str, value) -> int:
    """Return ``value`` as int, or raise if it is not an integer >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise ConfigError(f"{name} = {value!r} must be an integer >= 0")
    if value < 0:
        raise ConfigError(f"{name} = {value} must be an integer >= 0")
    return int(value)


def open_unit(name: str, value) -> float:
    """Return ``value`` as float, or raise if it is not in the open interval (0, 1)."""
    value = _number(name, value)
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{name} = {value:g} is outside the allowed range (0, 1)")
    return value


def one_of(name: str, value, allowed) -> str:
    """Return ``value``, or raise if it is not one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not one of {sorted(allowed)}")
    return value
