"""Engines: simulators that run a circuit + phase process + plasticity rule.

Engines register by name in an explicit registry (nengo's ``Builder.register`` style); no
module scanning.  Every engine has ``run(circuit, rule, phases, task, sim, ...)`` returning
a :class:`~neurocl.engines.base.Trajectory`, and raises
:class:`~neurocl.errors.UnsupportedFeatureError` naming itself and the feature it lacks.
"""

from __future__ import annotations

from neurocl.engines.base import Simulation, Task, Trajectory
from neurocl.errors import ConfigError

__all__ = ["Simulation", "Task", "Trajectory", "register", "get_engine", "ENGINES"]

ENGINES: dict = {}


def register(name: str):
    """Class decorator: make an engine available as ``get_engine(name)``."""

    def deco(cls):
        ENGINES[name] = cls
        cls.name = name
        return cls

    return deco


def get_engine(name: str, **options):
    """An instance of the engine registered as ``name``, built with its ``options`` (the
    ``[engine]`` table of a circuit spec; each engine validates its own).

    Engines with optional heavy dependencies are imported here on first use only.
    """
    if name not in ENGINES:
        _import_builtin(name)
    if name not in ENGINES:
        raise ConfigError(f"engine = {name!r} is not one of {sorted(set(ENGINES) | set(_BUILTIN))}")
    try:
        return ENGINES[name](**options)
    except TypeError as exc:
        raise ConfigError(f"[engine] options for '{name}': {exc}") from None


_BUILTIN = {"numpy": "neurocl.engines.numpy", "brian2": "neurocl.engines.brian2", "lava": "neurocl.engines.lava"}


def _import_builtin(name: str) -> None:
    import importlib

    module = _BUILTIN.get(name)
    if module is not None:
        importlib.import_module(module)
