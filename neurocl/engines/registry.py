"""Engines register by name; each engine registers a runner per (circuit kind, rule name).

The pattern is nengo's ``Builder.register`` and Lava's one ProcessModel per tag: an engine is
a class derived from :class:`Engine` that

* registers itself once: ``@register("numpy")``;
* registers what it can run: ``@NumpyEngine.runner(circuits=("rbm",), rules=("isd", "twophase"))``
  on a function ``runner(engine, circuit, rule, phases, task, sim, *, params, progress, desc,
  profile)``;
* declares the phase processes and laws it implements (``phase_kinds``, ``phase_laws``), the
  hardware-profile fields it implements (``profile_fields``: an allow-list; a profile with a
  non-default value in any other field is refused), and optional capabilities
  (``capabilities``, e.g. ``"free_run"``);
* has an ``Options`` dataclass: the ``[engine]`` table of a circuit spec.

:meth:`Engine.check` raises :class:`~neurocl.errors.UnsupportedFeatureError` naming the engine
and the feature *before* any simulation starts; :meth:`Engine.supports` is the same
information as data (the conformance suite skips by it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from neurocl.errors import ConfigError, UnsupportedFeatureError
from neurocl.phases import LAWS, PHASES
from neurocl.schema import build
from neurocl.simulation import Simulation, Task, Trajectory

__all__ = ["Engine", "ENGINES", "BUILTIN_ENGINES", "register", "get_engine", "engine_class", "engine_names"]

#: name -> engine class (filled by :func:`register`)
ENGINES: dict = {}

#: Engines shipped with neurocl, imported on first use (their optional dependencies are heavy).
BUILTIN_ENGINES = {"numpy": "neurocl.engines.numpy", "brian2": "neurocl.engines.brian2",
                   "lava": "neurocl.engines.lava"}


def register(name: str):
    """Class decorator: make an engine available as ``get_engine(name)``."""

    def deco(cls):
        if name in ENGINES and ENGINES[name] is not cls:
            raise ValueError(f"engine {name!r} is already registered")
        ENGINES[name] = cls
        cls.name = name
        return cls

    return deco


def engine_names() -> list:
    """Every engine that can be asked for: the built-in ones and any registered since."""
    return sorted(set(ENGINES) | set(BUILTIN_ENGINES))


def engine_class(name: str):
    """The engine class registered as ``name`` (built-in engines are imported on first use)."""
    if name not in ENGINES and name in BUILTIN_ENGINES:
        importlib.import_module(BUILTIN_ENGINES[name])
    if name not in ENGINES:
        raise ConfigError(f"engine = {name!r} is not one of {engine_names()}")
    return ENGINES[name]


def get_engine(name: str, **options) -> "Engine":
    """An instance of the engine registered as ``name``, with its ``options`` (the ``[engine]``
    table of a circuit spec, validated by the engine's ``Options`` dataclass)."""
    return engine_class(name)(**options)


@dataclass(frozen=True)
class NoOptions:
    """An engine without options."""


class Engine:
    """Base of every engine: the runner registry, the feature checks and ``run``.

    Subclasses set ``phase_kinds``, ``phase_laws``, ``profile_fields``, ``capabilities`` and
    ``Options``, and register runners with :meth:`runner`.
    """

    name: str = "?"
    Options = NoOptions
    #: phase processes (``neurocl.phases.PHASES`` keys) this engine implements
    phase_kinds: frozenset = frozenset(PHASES)
    #: phase-length laws (``neurocl.phases.LAWS`` keys) of stochastic phases it implements
    phase_laws: frozenset = frozenset(LAWS)
    #: hardware-profile fields it implements; any other field must keep its ideal default
    profile_fields: frozenset = frozenset()
    #: optional abilities the conformance suite tests: ``"free_run"`` (:meth:`free_run`),
    #: ``"divergence"`` (NaN/inf raise :class:`~neurocl.errors.DivergenceError` with the time),
    #: ``"float_weights"`` (weights are floating point: a negligible learning rate is
    #: representable, so the exact always-on drift can be measured)
    capabilities: frozenset = frozenset()
    #: (circuit kind, rule name) -> runner; every subclass has its own
    runners: dict = {}
    #: the (circuit kind, rule name) pairs whose runner takes no hardware profile
    ideal_only: frozenset = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.runners = dict(cls.runners)

    def __init__(self, **options):
        self.options = build(self.Options, options, "engine")

    # ------------------------------------------------------------------ registration
    @classmethod
    def runner(cls, circuits, rules, profiles: bool = True) -> Callable:
        """Decorator: register a runner for every (circuit kind, rule name) pair given
        (``profiles=False``: the runner simulates ideal weights only)."""

        def deco(fn):
            for c in circuits:
                for r in rules:
                    cls.runners[(c, r)] = fn
                    if not profiles:
                        cls.ideal_only = cls.ideal_only | {(c, r)}
            return fn

        return deco

    # ------------------------------------------------------------------ what it supports
    def supports(self) -> dict:
        """Machine-readable support: ``runs`` ((circuit kind, rule) pairs), ``phases``,
        ``phase_laws``, ``profile_fields``, ``capabilities``."""
        return {"runs": frozenset(self.runners), "phases": frozenset(self.phase_kinds),
                "phase_laws": frozenset(self.phase_laws), "profile_fields": frozenset(self.profile_fields),
                "capabilities": frozenset(self.capabilities)}

    def can_run(self, circuit_kind: str, rule_name: str) -> bool:
        return (circuit_kind, rule_name) in self.runners

    def check(self, circuit, rule, phases=None, profile=None, sim=None) -> Callable:
        """The runner for this combination, or :class:`UnsupportedFeatureError` naming what is
        missing: the (circuit, rule) pair, the phase process or law, a profile field; with
        ``sim``, also what the runner's ``preflight(engine, circuit, rule, phases, profile, sim)``
        refuses (e.g. a dtype or kernel the chosen path does not honour)."""
        key = (circuit.kind, rule.name)
        if key not in self.runners:
            kinds = sorted({r for c, r in self.runners if c == circuit.kind})
            what = (f"rule '{rule.name}' on circuit '{circuit.kind}' (it runs: {', '.join(kinds)})" if kinds
                    else f"circuit '{circuit.kind}'")
            raise UnsupportedFeatureError(self.name, what)
        if rule.time == "continuous":
            self.check_phases(phases)
        if profile is not None and not profile.is_ideal:
            if key in self.ideal_only:
                raise UnsupportedFeatureError(self.name, f"hardware profiles with rule '{rule.name}' on circuit "
                                                         f"'{circuit.kind}' (profile '{profile.name}')")
            self.check_profile(profile, circuit)
        runner = self.runners[key]
        preflight = getattr(runner, "preflight", None)
        if preflight is not None and sim is not None:
            preflight(self, circuit, rule, phases, profile, sim)
        return runner

    def check_phases(self, phases) -> None:
        """Raise unless the phase process and its length law are implemented here."""
        if phases is None:
            raise ConfigError("a continuous-time rule needs a phase process (phases = ...)")
        kind = PHASES.key_of(phases)
        if kind not in self.phase_kinds:
            raise UnsupportedFeatureError(self.name, f"phase process '{kind}' (it runs: "
                                                     f"{', '.join(sorted(self.phase_kinds))})")
        law = getattr(phases, "length", None)
        if kind == "stochastic" and LAWS.key_of(law) not in self.phase_laws:
            raise UnsupportedFeatureError(self.name, f"phase-length law '{LAWS.key_of(law)}' (it runs: "
                                                     f"{', '.join(sorted(self.phase_laws))})")

    def check_profile(self, profile, circuit=None) -> None:
        """Raise if ``profile`` sets a field this engine does not implement (allow-list)."""
        for field, value in profile.non_default().items():
            if field not in self.profile_fields:
                raise UnsupportedFeatureError(
                    self.name, f"hardware-profile field '{field}' = {value!r} (profile '{profile.name}'; "
                               f"implemented here: {', '.join(sorted(self.profile_fields)) or 'none'})")

    # ------------------------------------------------------------------ running
    @staticmethod
    def check_arguments(circuit, rule, phases, task, sim, params=None, profile=None) -> None:
        """Raise ``TypeError`` (one line naming the argument, what it must be and what it got)
        for arguments of the wrong type, and ``ConfigError`` for a continuous-time rule without
        a phase process, before anything is simulated."""
        from neurocl.hardware.profile import HardwareProfile

        def bad(name, expected, value):
            raise TypeError(f"Engine.run: {name} must be {expected}, got {type(value).__name__} {value!r:.80}")

        if not isinstance(getattr(circuit, "kind", None), str):
            bad("circuit", "a circuit (neurocl.circuits, with a 'kind')", circuit)
        if not isinstance(getattr(rule, "name", None), str) or not hasattr(rule, "time"):
            bad("rule", "a plasticity rule (neurocl.plasticity, with 'name' and 'time')", rule)
        if rule.time == "continuous":
            if phases is None:
                raise ConfigError(f"Engine.run: rule '{rule.name}' is continuous-time and needs a phase process "
                                  f"(phases = neurocl.phases.StochasticPhases(...) or Alternating(...)), got None")
            if not callable(getattr(phases, "schedule", None)):
                bad("phases", "a phase process (neurocl.phases.StochasticPhases or Alternating)", phases)
        if not isinstance(task, Task):
            bad("task", "a neurocl.simulation.Task (e.g. circuit.task(dataset))", task)
        if not isinstance(sim, Simulation):
            bad("sim", "a neurocl.simulation.Simulation (e.g. Simulation(dt=1.0, duration=1000.0))", sim)
        if params is not None and not isinstance(params, dict):
            bad("params", "None or a dict of arrays (circuit.init_params(rng, replicas))", params)
        if profile is not None and not isinstance(profile, HardwareProfile):
            bad("profile", "None or a neurocl.hardware.HardwareProfile (load_profile(name))", profile)

    def run(self, circuit, rule, phases, task: Task, sim: Simulation, params: dict | None = None,
            progress: bool = False, desc: str = "", profile=None, **kwargs) -> Trajectory:
        """Simulate ``sim.duration`` ms of learning and evaluate ``task.evaluate`` at checkpoints.

        ``params`` (optional): initial parameters (default ``circuit.init_params`` with a
        generator seeded by ``[sim.seed, 0]``, so learners with one seed start alike).
        ``profile``: a :class:`~neurocl.hardware.HardwareProfile` the weights live on.  Engine
        specific keywords go to the runner.  Raises :class:`UnsupportedFeatureError` before
        simulating anything this engine does not implement.
        """
        self.check_arguments(circuit, rule, phases, task, sim, params, profile)
        runner = self.check(circuit, rule, phases, profile, sim)
        return runner(self, circuit, rule, phases, task, sim, params=params, progress=progress, desc=desc,
                      profile=profile, **kwargs)

    def free_run(self, circuit, params: dict, sim: Simulation, burn_in: int = 500):
        """Free-running samples of the data layer, ``(n_steps, R, n_data)`` (capability
        ``"free_run"``): no clamping, no plasticity."""
        raise UnsupportedFeatureError(self.name, "free running (capability 'free_run')")
