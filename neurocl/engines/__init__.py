"""Engines: simulators that run a circuit + phase process + plasticity rule (+ profile).

Engines register by name (:func:`register`) and register a runner per (circuit kind, rule)
they implement (:meth:`Engine.runner`); see :mod:`neurocl.engines.registry`.  The built-in
ones (``numpy``, ``brian2``, ``lava``) are imported on first use.
"""

from neurocl.engines.registry import ENGINES, Engine, engine_class, engine_names, get_engine, register
from neurocl.simulation import Simulation, Task, Trajectory

__all__ = ["Simulation", "Task", "Trajectory", "Engine", "register", "get_engine", "engine_class",
           "engine_names", "ENGINES"]
