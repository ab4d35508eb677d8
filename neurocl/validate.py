"""Small validators shared by every typed description (circuits, phases, rules, ...).

Each raises :class:`~neurocl.errors.ConfigError` naming the field and the allowed range.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from neurocl.errors import ConfigError

__all__ = ["positive", "positive_int", "open_unit", "non_negative", "one_of"]


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")
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
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ConfigError(f"{name} = {value} must be an integer >= 1")
    return int(value)


def open_unit(name: str, value) -> float:
    """Return ``value`` as float, or raise if it is not in the open interval (0, 1)."""
    value = _number(name, value)
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{name} = {value:g} is outside the allowed range (0, 1)")
    return value


def one_of(name: str, value, allowed) -> str:
    """Return ``value``, or raise if it is not one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not one of {sorted(allowed)}")
    return value
