"""The phase process: when the network is clamped to data (positive phase) and when it runs free.

Williams, Bredenberg & Lajoie, *Flexible Phase Dynamics for Bio-Plausible Contrastive
Learning* (ICML 2023; arXiv:2302.12431), Sec. "Method": a phase is positive with
probability ``b`` and its length is drawn from a law with mean ``tau``.  Phase selection
and phase lengths are independent of the network state, so a phase process is a pure
function of ``(duration, rng)``: :meth:`schedule` returns the phase start times and
which phases are positive.  All times are in milliseconds (ms), the unit of the whole
package.

Descriptions only: engines turn a schedule into clamping and plasticity weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.errors import ConfigError
from neurocl.schema import Registry, as_table, build
from neurocl.validate import check_fields, open_unit, positive

__all__ = [
    "PhaseLaw",
    "Fixed",
    "Exponential",
    "Gamma",
    "Uniform",
    "LAWS",
    "PHASES",
    "phases_from_table",
    "phases_to_table",
    "Schedule",
    "Alternating",
    "StochasticPhases",
]


class PhaseLaw:
    """A distribution of phase lengths (ms) with a stated ``mean`` and ``variance``."""

    mean: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(PhaseLaw):
    """Every phase lasts exactly ``mean`` ms (variance 0)."""

    mean: float

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "mean", positive("mean", self.mean))

    def sample(self, rng, n):
        return np.full(n, self.mean)

    @property
    def variance(self):
        return 0.0


@dataclass(frozen=True)
class Exponential(PhaseLaw):
    """Exponential lengths with mean ``mean`` ms (variance ``mean**2``): Poisson switching."""

    mean: float

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "mean", positive("mean", self.mean))

    def sample(self, rng, n):
        return rng.exponential(self.mean, size=n)

    @property
    def variance(self):
        return self.mean**2


@dataclass(frozen=True)
class Gamma(PhaseLaw):
    """Gamma lengths with mean ``mean`` ms and shape ``k`` (variance ``mean**2 / k``)."""

    mean: float
    shape: float = 4.0

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "mean", positive("mean", self.mean))
        object.__setattr__(self, "shape", positive("shape", self.shape))

    def sample(self, rng, n):
        return rng.gamma(self.shape, self.mean / self.shape, size=n)

    @property
    def variance(self):
        return self.mean**2 / self.shape


@dataclass(frozen=True)
class Uniform(PhaseLaw):
    """Uniform lengths on ``[mean (1 - width), mean (1 + width)]`` ms, ``0 < width <= 1``."""

    mean: float
    width: float = 1.0

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "mean", positive("mean", self.mean))
        width = positive("width", self.width)
        if width > 1.0:
            raise ConfigError(f"width = {width:g} must be in (0, 1] (lengths must stay >= 0)")
        object.__setattr__(self, "width", width)

    def sample(self, rng, n):
        return rng.uniform(self.mean * (1 - self.width), self.mean * (1 + self.width), size=n)

    @property
    def variance(self):
        return (2 * self.mean * self.width) ** 2 / 12.0


#: phase-length laws by the ``law`` key of a ``length = { law = ..., ... }`` table
LAWS = Registry("phase-length law")
for _key, _cls in (("fixed", Fixed), ("exponential", Exponential), ("gamma", Gamma), ("uniform", Uniform)):
    LAWS.register(_key, _cls)


@dataclass(frozen=True)
class Schedule:
    """A realised phase sequence: phase ``i`` starts at ``starts[i]`` ms (``starts[0] == 0``)
    and is positive where ``positive[i]``; the last phase ends at or after ``duration``."""

    starts: np.ndarray
    positive: np.ndarray
    duration: float

    @property
    def lengths(self) -> np.ndarray:
        """Length of each phase in ms (the last one cut at ``duration``)."""
        return np.diff(np.append(self.starts, self.duration))

    def phase_index(self, times: np.ndarray) -> np.ndarray:
        """Index of the phase active at each time (ms)."""
        return np.searchsorted(self.starts, times, side="right") - 1


def _schedule_from(lengths_fn, positive_fn, duration, rng, mean):
    """Draw phases in blocks until they cover ``duration`` ms."""
    starts, flags, t = [], [], 0.0
    block = max(16, int(duration / mean * 1.2) + 16)
    while t < duration:
        lengths = lengths_fn(rng, block)
        flags.append(positive_fn(rng, block, len(flags) * block))
        s = t + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        starts.append(s)
        t = s[-1] + lengths[-1]
    starts = np.concatenate(starts)
    flags = np.concatenate(flags)
    keep = starts < duration
    return Schedule(starts[keep], flags[keep], float(duration))


@dataclass(frozen=True)
class Alternating:
    """The classic fixed schedule: positive and negative phases of ``length`` ms alternate,
    positive first.  The fraction of time in positive phases is ``b = 0.5``."""

    length: float

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "length", positive("length", self.length))

    @property
    def b(self) -> float:
        """Fraction of phases (and of time) that are positive."""
        return 0.5

    @property
    def mean_length(self) -> float:
        return self.length

    def schedule(self, duration: float, rng: np.random.Generator | None = None) -> Schedule:
        """Phase starts and signs over ``duration`` ms (``rng`` unused: deterministic)."""
        duration = positive("duration", duration)
        n = int(np.ceil(duration / self.length))
        starts = np.arange(n) * self.length
        return Schedule(starts, np.arange(n) % 2 == 0, duration)


@dataclass(frozen=True)
class StochasticPhases:
    """Phases whose sign is positive with probability ``b`` and whose lengths follow ``length``.

    Williams et al. (ICML 2023), "Mechanism 1/2": each phase is independently
    positive with probability ``b``; lengths are i.i.d. from ``length`` (mean ``tau``), for
    either sign, so the expected fraction of *time* spent in positive phases is also ``b``.
    """

    b: float
    length: PhaseLaw

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "b", open_unit("b", self.b))
        if not isinstance(self.length, PhaseLaw):  # user input: a law object is required
            raise ConfigError(f"length must be one of {sorted(LAWS)}, got {self.length!r}")

    @property
    def mean_length(self) -> float:
        return self.length.mean

    def schedule(self, duration: float, rng: np.random.Generator) -> Schedule:
        """Draw the phase sequence covering ``duration`` ms with the generator ``rng``."""
        duration = positive("duration", duration)
        return _schedule_from(
            self.length.sample,
            lambda r, n, _: r.random(n) < self.b,
            duration,
            rng,
            self.length.mean,
        )


#: phase processes by the ``kind`` key of a ``phases = { kind = ..., ... }`` table
PHASES = Registry("phases kind")
PHASES.register("alternating", Alternating)
PHASES.register("stochastic", StochasticPhases)


def phases_to_table(phases) -> dict:
    """The TOML table of a phase process (inverse of :func:`phases_from_table`)."""
    table = as_table(phases, kind=PHASES.key_of(phases))
    if isinstance(table.get("length"), PhaseLaw):
        table["length"] = as_table(table["length"], law=LAWS.key_of(table["length"]))
    return table


def phases_from_table(table, section: str):
    """A phase process from its TOML table, e.g. ``{ kind = "stochastic", b = 0.5, length =
    { law = "exponential", mean = 10.0 } }``; errors name ``section``."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table")
    if table.get("kind") not in PHASES:
        raise ConfigError(f"[{section}] kind = {table.get('kind')!r} is not one of {sorted(PHASES)}")
    table = dict(table)
    if isinstance(table.get("length"), dict):
        length = table["length"]
        if length.get("law") not in LAWS:
            raise ConfigError(f"[{section}.length] law = {length.get('law')!r} is not one of {sorted(LAWS)}")
        table["length"] = build(LAWS[length["law"]], length, f"{section}.length", drop=("law",))
    elif PHASES[table["kind"]] is StochasticPhases:
        raise ConfigError(f"[{section}] length must be a table like {{ law = \"exponential\", mean = 50.0 }}")
    return build(PHASES[table["kind"]], table, section, drop=("kind",))
