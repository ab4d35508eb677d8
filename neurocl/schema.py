"""TOML tables <-> typed frozen dataclasses, and the explicit registries of descriptions.

The bottom of the package: it imports nothing from neurocl but the errors and validators,
so every description (circuits, phases, rules, hardware profiles, run configs) can use it
without an import cycle.  A table is validated once, at load, by the dataclass it builds;
errors name the TOML section and key (:class:`~neurocl.errors.ConfigError`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Iterator

from neurocl.errors import ConfigError
from neurocl.validate import check_table

__all__ = ["Registry", "build", "as_table", "init_fields"]


def init_fields(cls) -> list:
    """The dataclass fields of ``cls`` that its constructor takes."""
    return [f for f in dataclasses.fields(cls) if f.init]


def build(cls, table: dict, section: str, drop=()):
    """Instantiate the dataclass ``cls`` from a TOML table, naming ``section`` in every error.

    Unknown keys, missing required keys, values of the wrong type and invalid values raise
    ``ConfigError``.  Types are checked first, against the annotation of each dataclass field
    (:func:`neurocl.validate.check_table`: ``[profile] weight_bits = 8.5 must be an integer``,
    ``[profile] shared_rounding = 'no' must be true or false``), then ``cls`` checks the
    ranges.  Keys in ``drop`` (e.g. the ``kind`` that chose ``cls``) are ignored.
    """
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table, got {table!r}")
    table = {k: v for k, v in table.items() if k not in drop}
    allowed = {f.name for f in init_fields(cls)}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"[{section}] unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
    required = {f.name for f in init_fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    missing = sorted(required - set(table))
    if missing:
        raise ConfigError(f"[{section}] missing key '{missing[0]}'")
    try:
        check_table(cls, table)
        return cls(**table)
    except ConfigError as exc:
        raise ConfigError(f"[{section}] {exc}") from None


def as_table(obj, **tag) -> dict:
    """The TOML table that :func:`build` turns back into ``obj`` (defaults filled in).

    ``tag`` (e.g. ``kind="rbm"``) is put first: the key a registry chose ``type(obj)`` by.
    A field whose metadata has ``omit_if_default`` is left out while it equals its default (a
    field added later then changes no existing run's resolved config, hash or ``--resume``).
    """
    out = dict(tag)
    for f in init_fields(type(obj)):
        v = getattr(obj, f.name)
        if f.metadata.get("omit_if_default") and v == f.default:
            continue
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


class Registry(Mapping):
    """Name -> description class (or builder), filled by explicit registration.

    nengo's ``Builder.register`` pattern: a module registers what it defines with one line,
    ``@CIRCUITS.register`` (the class's own ``kind``/``name`` is the key) or
    ``REG.register("name", obj)``; nothing scans modules.  Looking up an unknown name raises
    :class:`~neurocl.errors.ConfigError` listing the registered ones.
    """

    def __init__(self, what: str, key_attr: str | None = None):
        self.what = what
        self.key_attr = key_attr
        self._items: dict = {}

    def register(self, key_or_obj=None, obj=None):
        """Register ``obj`` under ``key``; as a decorator, ``@REG.register`` uses the class's
        ``key_attr`` and ``@REG.register("key")`` an explicit key."""
        if obj is not None:
            return self._add(key_or_obj, obj)
        if isinstance(key_or_obj, str):
            return lambda o: self._add(key_or_obj, o)
        if key_or_obj is None or self.key_attr is None:
            raise TypeError(f"{self.what} registry: register(key, obj) or @register('key')")
        return self._add(getattr(key_or_obj, self.key_attr), key_or_obj)

    def _add(self, key, obj):
        if key in self._items and self._items[key] is not obj:
            raise ValueError(f"{self.what} {key!r} is already registered")
        self._items[key] = obj
        return obj

    def __getitem__(self, key):
        try:
            return self._items[key]
        except (KeyError, TypeError):
            raise ConfigError(f"{self.what} = {key!r} is not one of {sorted(self._items)}") from None

    def __contains__(self, key) -> bool:
        try:
            return key in self._items
        except TypeError:
            return False

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def key_of(self, obj) -> str:
        """The key ``type(obj)`` (or ``obj``) is registered under."""
        cls = obj if isinstance(obj, type) else type(obj)
        for k, v in self._items.items():
            if v is cls:
                return k
        raise ConfigError(f"{cls.__name__} is not a registered {self.what}")

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {sorted(self._items)})"

