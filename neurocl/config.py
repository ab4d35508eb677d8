"""Run configs: TOML loaded once and validated into typed, frozen objects.

A run config (``circuits/*.toml``, shipped with the package: :mod:`neurocl.shipped`) names the circuit, the data, the simulation settings and
one or more learners (rule + phase process).  Every value is checked at load; an error
names the file, the table and the key, and the allowed range
(:class:`~neurocl.errors.ConfigError`).  All times are in ms.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass

from neurocl.circuits import CIRCUITS
from neurocl.data.spec import DataSpec
from neurocl.engines.registry import engine_class
from neurocl.errors import ConfigError
from neurocl.hardware.profile import load_profile
from neurocl.phases import phases_from_table, phases_to_table
from neurocl.plasticity import RULES
from neurocl.schema import as_table, build
from neurocl.shipped import resolve_spec
from neurocl.simulation import Simulation

__all__ = ["DataSpec", "LearnerSpec", "RunConfig", "load_config", "parse_config"]


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
            t = as_table(spec.rule, rule=spec.rule.name)
            if spec.phases is not None:
                t["phases"] = phases_to_table(spec.phases)
            learners[spec.label] = t
        return {
            "name": self.name,
            "engine": {"name": self.engine, **self.engine_options} if self.engine_options else self.engine,
            "profile": self.profile,
            "circuit": as_table(self.circuit, kind=self.circuit.kind),
            "data": as_table(self.data),
            "simulation": as_table(self.simulation),
            "learners": learners,
        }

    def replace(self, profile: str | None = None, engine: str | None = None,
                engine_options: dict | None = None, **simulation) -> "RunConfig":
        """A copy with the profile, the engine (its options reset to defaults), some engine
        options (merged over the current ones, after an engine switch) and/or some simulation
        settings (``seed``, ``duration``, ...) replaced; ``None`` keeps the current value.

        Engine options are validated against the engine's ``Options`` (unknown key, wrong type
        or value out of range: :class:`~neurocl.errors.ConfigError` naming the option)."""
        sim = dataclasses.replace(self.simulation, **{k: v for k, v in simulation.items() if v is not None})
        out = dataclasses.replace(self, simulation=sim)
        if engine is not None and engine != self.engine:
            _validate_engine(engine, {})
            out = dataclasses.replace(out, engine=engine, engine_options={})
        if engine_options:
            merged = {**out.engine_options, **engine_options}
            _validate_engine(out.engine, merged)
            out = dataclasses.replace(out, engine_options=merged)
        if profile is not None:
            load_profile(profile)  # validate now
            out = dataclasses.replace(out, profile=str(profile))
        return out

    def hardware(self):
        """The :class:`~neurocl.hardware.HardwareProfile` named by ``profile``."""
        return load_profile(self.profile)


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
        if rule.time == "continuous":
            if "phases" not in t:
                raise ConfigError(f"[{section}] missing key 'phases'")
            phases = phases_from_table(t["phases"], f"{section}.phases")
        elif "phases" in t:
            raise ConfigError(f"[{section}] rule '{rule_name}' is discrete-time and takes no 'phases'")
        learners.append(LearnerSpec(label, rule, phases))
    profile = raw.get("profile", "ideal")
    if not isinstance(profile, str):
        raise ConfigError(f"profile must be a shipped profile name or a TOML path, got {profile!r}")
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
    """Unknown engine names and bad options raise ConfigError (no engine is built)."""
    build(engine_class(name).Options, options, "engine")


def load_config(path: str | os.PathLike) -> RunConfig:
    """Read and validate a TOML run config; errors name the file and the field.

    Parameters
    ----------
    path : str or os.PathLike
        A TOML file, or the name of a shipped spec (``"bas3"``: see ``neurocl circuits``);
        an existing file wins over a shipped name.

    Returns
    -------
    RunConfig
        The validated, frozen config.

    Raises
    ------
    neurocl.errors.ConfigError
        Missing file (and no shipped spec of that name), unreadable or malformed TOML, an
        unknown key or a value out of range.
    """
    path = resolve_spec(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {exc.start}); expected a TOML run config") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    return parse_config(raw, str(path))
