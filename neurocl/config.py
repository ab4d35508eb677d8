"""Run configs: TOML loaded once and validated into typed, frozen objects.

A run config (``circuits/*.toml``) names the circuit, the data, the simulation settings and
one or more learners (rule + phase process).  Every value is checked at load; an error
names the file, the table and the key, and the allowed range
(:class:`~neurocl.errors.ConfigError`).  All times are in ms.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from neurocl.circuits import CIRCUITS
from neurocl.engines.base import Simulation
from neurocl.errors import ConfigError
from neurocl.phases import LAWS, Alternating, StochasticPhases
from neurocl.plasticity import RULES
from neurocl.validate import non_negative, one_of, positive, positive_int

__all__ = ["DataSpec", "LearnerSpec", "RunConfig", "load_config", "parse_config", "build"]

def _fields(cls):
    return [f for f in dataclasses.fields(cls) if f.init]


def build(cls, table: dict, section: str, drop=()):
    """Instantiate the dataclass ``cls`` from a TOML table, naming ``section`` in every error.

    Unknown keys, missing required keys and invalid values raise ``ConfigError``.
    """
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table, got {table!r}")
    table = {k: v for k, v in table.items() if k not in drop}
    allowed = {f.name for f in _fields(cls)}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"[{section}] unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
    required = {f.name for f in _fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    missing = sorted(required - set(table))
    if missing:
        raise ConfigError(f"[{section}] missing key '{missing[0]}'")
    try:
        return cls(**table)
    except ConfigError as exc:
        raise ConfigError(f"[{section}] {exc}") from None


def as_table(obj) -> dict:
    """The TOML table that :func:`build` turns back into ``obj`` (defaults filled in)."""
    out = {}
    for f in _fields(type(obj)):
        v = getattr(obj, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    if type(obj) in RULES.values():
        out = {"rule": type(obj).name, **out}
    elif type(obj) in CIRCUITS.values():
        out = {"kind": type(obj).kind, **out}
    return out


@dataclass(frozen=True)
class DataSpec:
    """Which dataset a run uses.

    ``name``: ``"bars_and_stripes"`` (needs ``size``), ``"digits"`` (scikit-learn's 8x8
    digits, ``test_fraction``, ``split_seed``) or ``"idx"`` (user's MNIST-format files:
    ``images`` and, for supervised circuits, ``labels``; ``test_images``/``test_labels``
    optional).  ``presentation`` (ms, >= 0): how long a sample stays clamped before the
    next positive phase may draw a fresh one (0: a fresh sample at every positive phase).
    """

    name: str
    size: int | None = None
    presentation: float = 0.0
    test_fraction: float = 0.2
    split_seed: int = 0
    images: str | None = None
    labels: str | None = None
    test_images: str | None = None
    test_labels: str | None = None

    def __post_init__(self):
        one_of("name", self.name, {"bars_and_stripes", "digits", "idx"})
        object.__setattr__(self, "presentation", non_negative("presentation", self.presentation))
        if self.name == "bars_and_stripes":
            if self.size is None:
                raise ConfigError("name = 'bars_and_stripes' needs size (an integer >= 2)")
            size = positive_int("size", self.size)
            if size < 2:
                raise ConfigError(f"size = {size} must be >= 2")
        if not 0.0 < positive("test_fraction", self.test_fraction) < 1.0:
            raise ConfigError(f"test_fraction = {self.test_fraction:g} is outside (0, 1)")
        if self.name == "idx" and not self.images:
            raise ConfigError("name = 'idx' needs images (path to an IDX file)")


@dataclass(frozen=True)
class LearnerSpec:
    """One learner of a run: its label, plasticity rule and phase process."""

    label: str
    rule: object
    phases: object


@dataclass(frozen=True)
class RunConfig:
    """A validated run config."""

    name: str
    engine: str
    circuit: object
    data: DataSpec
    simulation: Simulation
    learners: tuple
    profile: str = "ideal"
    engine_options: dict = dataclasses.field(default_factory=dict)

    def to_table(self) -> dict:
        """The resolved config as a TOML-ready dict (every default filled in)."""
        learners = {}
        for spec in self.learners:
            t = as_table(spec.rule)
            if spec.phases is not None:
                t["phases"] = _phases_table(spec.phases)
            learners[spec.label] = t
        return {
            "name": self.name,
            "engine": {"name": self.engine, **self.engine_options} if self.engine_options else self.engine,
            "profile": self.profile,
            "circuit": as_table(self.circuit),
            "data": as_table(self.data),
            "simulation": as_table(self.simulation),
            "learners": learners,
        }

    def replace(self, profile: str | None = None, engine: str | None = None, **simulation) -> "RunConfig":
        """A copy with the profile, the engine (its options reset to defaults) and/or some
        simulation settings (``seed``, ``duration``, ...) replaced; ``None`` keeps the current value."""
        sim = dataclasses.replace(self.simulation, **{k: v for k, v in simulation.items() if v is not None})
        out = dataclasses.replace(self, simulation=sim)
        if engine is not None and engine != self.engine:
            _validate_engine(engine, {})
            out = dataclasses.replace(out, engine=engine, engine_options={})
        if profile is not None:
            from neurocl.hardware import load_profile

            load_profile(profile)  # validate now
            out = dataclasses.replace(out, profile=str(profile))
        return out

    def hardware(self):
        """The :class:`~neurocl.hardware.HardwareProfile` named by ``profile``."""
        from neurocl.hardware import load_profile

        return load_profile(self.profile)


def _phases_table(ph) -> dict:
    if isinstance(ph, Alternating):
        return {"kind": "alternating", "length": ph.length}
    law = {"law": next(k for k, v in LAWS.items() if isinstance(ph.length, v))}
    law.update({f.name: getattr(ph.length, f.name) for f in _fields(type(ph.length))})
    return {"kind": "stochastic", "b": ph.b, "length": law}


def _build_phases(table, section):
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table")
    kind = table.get("kind")
    if kind == "alternating":
        return build(Alternating, table, section, drop=("kind",))
    if kind == "stochastic":
        length = table.get("length")
        if not isinstance(length, dict):
            raise ConfigError(f"[{section}] length must be a table like {{ law = \"exponential\", mean = 50.0 }}")
        law = length.get("law")
        if law not in LAWS:
            raise ConfigError(f"[{section}.length] law = {law!r} is not one of {sorted(LAWS)}")
        law_obj = build(LAWS[law], length, f"{section}.length", drop=("law",))
        return build(StochasticPhases, {**table, "length": law_obj}, section, drop=("kind",))
    raise ConfigError(f"[{section}] kind = {kind!r} is not one of ['alternating', 'stochastic']")


def parse_config(raw: dict, source: str = "<config>") -> RunConfig:
    """Validate a parsed TOML document into a :class:`RunConfig`."""
    try:
        return _parse(raw)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _parse(raw: dict) -> RunConfig:
    top = {"name", "engine", "profile", "circuit", "data", "simulation", "learners"}
    unknown = sorted(set(raw) - top)
    if unknown:
        raise ConfigError(f"unknown top-level key '{unknown[0]}' (allowed: {', '.join(sorted(top))})")
    for key in ("circuit", "data", "simulation", "learners"):
        if key not in raw:
            raise ConfigError(f"missing table [{key}]")
    name = raw.get("name", "run")
    engine, engine_options = _parse_engine(raw.get("engine", "numpy"))
    if not isinstance(name, str) or not name:
        raise ConfigError(f"name must be a non-empty string, got {name!r}")
    circuit_table = raw["circuit"]
    kind = circuit_table.get("kind") if isinstance(circuit_table, dict) else None
    if kind not in CIRCUITS:
        raise ConfigError(f"[circuit] kind = {kind!r} is not one of {sorted(CIRCUITS)}")
    circuit = build(CIRCUITS[kind], circuit_table, "circuit", drop=("kind",))
    data = build(DataSpec, raw["data"], "data")
    sim = build(Simulation, raw["simulation"], "simulation")
    learners_table = raw["learners"]
    if not isinstance(learners_table, dict) or not learners_table:
        raise ConfigError("[learners] must hold at least one table, e.g. [learners.isd]")
    learners = []
    for label, t in learners_table.items():
        section = f"learners.{label}"
        if not isinstance(t, dict):
            raise ConfigError(f"[{section}] must be a table")
        rule_name = t.get("rule")
        if rule_name not in RULES:
            raise ConfigError(f"[{section}] rule = {rule_name!r} is not one of {sorted(RULES)}")
        rule = build(RULES[rule_name], t, section, drop=("rule", "phases"))
        phases = None
        if rule_name in ("isd", "twophase"):
            if "phases" not in t:
                raise ConfigError(f"[{section}] missing key 'phases'")
            phases = _build_phases(t["phases"], f"{section}.phases")
        elif "phases" in t:
            raise ConfigError(f"[{section}] rule '{rule_name}' is discrete-time and takes no 'phases'")
        learners.append(LearnerSpec(label, rule, phases))
    profile = raw.get("profile", "ideal")
    if not isinstance(profile, str):
        raise ConfigError(f"profile must be a shipped profile name or a TOML path, got {profile!r}")
    from neurocl.hardware import load_profile

    load_profile(profile)
    return RunConfig(name, engine, circuit, data, sim, tuple(learners), profile, engine_options)


def _parse_engine(value):
    """``engine = "numpy"`` or an ``[engine]`` table ``{name = "brian2", units = ..., ...}``."""
    if isinstance(value, str):
        name, options = value, {}
    elif isinstance(value, dict) and isinstance(value.get("name"), str):
        name, options = value["name"], {k: v for k, v in value.items() if k != "name"}
    else:
        raise ConfigError(f"engine must be an engine name or a table with a 'name' key, got {value!r}")
    _validate_engine(name, options)
    return name, options


def _validate_engine(name, options):
    from neurocl.engines import get_engine

    get_engine(name, **options)  # unknown names and bad options raise ConfigError here


def load_config(path) -> RunConfig:
    """Read and validate a TOML run config; errors name the file and the field."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    return parse_config(raw, str(path))
