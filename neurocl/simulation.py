"""What a run is made of, as pure data: the simulation settings, the task, the trajectory.

Shared by every engine; nothing here imports an engine, an experiment or a config loader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurocl.errors import ConfigError
from neurocl.validate import check_fields, non_negative_int, one_of, positive, positive_int

__all__ = ["Simulation", "Task", "Trajectory"]


@dataclass(frozen=True)
class Simulation:
    """How long and how finely to simulate.  All times in ms.

    Parameters
    ----------
    dt : float
        Integration step (ms).
    duration : float
        Simulated time (ms).  It must be a whole number of integration steps: a ``duration``
        that is not an integer multiple of ``dt`` (relative tolerance ``1e-9``, for float
        round-off such as ``0.3 / 0.1``) is refused with a :class:`ConfigError` naming both
        and the nearest multiple, so the saved config always states the time actually
        simulated (``n_steps * dt``).
    replicas : int
        Independent networks (seeds) simulated side by side, each with its own initial
        weights, phase sequence and noise.
    seed : int
        Seed (an integer >= 0) of the ``numpy.random.Generator`` everything random is drawn from.
    checkpoints : int
        Number of evenly spaced evaluation points after ``t = 0``.
    dtype : {"float64", "float32"}
        Floating point type of weights and state.  ``"float32"`` (the fast path; theory checks
        and exactness tests use float64) is honoured only by the numpy engine's fused RBM
        kernels (``kernel = "fused"``, ``"event"``, or ``"auto"`` where it picks one: rules
        ``isd``/``twophase``, ideal weights).  Every other run path computes in float64 and
        therefore *refuses* ``"float32"`` with
        :class:`~neurocl.errors.UnsupportedFeatureError` before simulating (numpy reference path,
        including any hardware profile, the fused Hopfield kernel, CD-k/PCD and free running;
        Brian2), rather than run float64 under a config that says float32; the run loop
        (:class:`~neurocl.engines.loop.RunLoop`) also refuses it, with a :class:`ConfigError`,
        on any engine whose parameters are not float32 (e.g. Lava).

    Every field is type-checked (integers must be integers, ``True`` is not one; numbers may
    be integers) as well as range-checked; errors are :class:`ConfigError`.
    """

    dt: float
    duration: float
    replicas: int = 1
    seed: int = 0
    checkpoints: int = 20
    dtype: str = "float64"

    def __post_init__(self):
        object.__setattr__(self, "replicas", positive_int("replicas", self.replicas))
        object.__setattr__(self, "seed", non_negative_int("seed", self.seed))
        object.__setattr__(self, "checkpoints", positive_int("checkpoints", self.checkpoints))
        check_fields(self)
        object.__setattr__(self, "dt", positive("dt", self.dt))
        object.__setattr__(self, "duration", positive("duration", self.duration))
        one_of("dtype", self.dtype, {"float64", "float32"})
        if self.dt > self.duration:
            raise ConfigError(f"dt = {self.dt:g} ms must be <= duration = {self.duration:g} ms")
        steps = self.duration / self.dt
        n = round(steps)
        if abs(steps - n) > 1e-9 * steps:
            lo, hi = math.floor(steps) * self.dt, math.ceil(steps) * self.dt
            raise ConfigError(f"duration = {self.duration:g} ms is not an integer multiple of dt = {self.dt:g} ms "
                              f"(nearest multiples: {lo:g} and {hi:g} ms)")

    @property
    def n_steps(self) -> int:
        return int(round(self.duration / self.dt))

    def checkpoint_steps(self) -> np.ndarray:
        return np.unique(np.round(np.linspace(0, self.n_steps, self.checkpoints + 1)).astype(int))


@dataclass
class Task:
    """Data a circuit learns from.

    ``clamp`` rows are what a positive phase clamps (visible patterns for a Boltzmann
    machine, one-hot targets for a layered Hopfield net); ``inputs`` rows (optional) are
    clamped in both phases (images).  ``evaluate(params) -> {name: (R,) array}`` computes
    the metrics recorded at checkpoints (``None``: none).  ``check(params) -> str | None``
    (optional) says whether the parameters left the range where the circuit still computes
    something meaningful (the circuit's definition of *diverged*, in its docstring): ``None``
    when they are sane, else what left the range; the run loop checks it at every checkpoint and
    raises :class:`~neurocl.errors.DivergenceError`.  ``presentation`` (ms): a sample stays clamped at
    least this long; a fresh one is drawn at the first positive phase after that (0: every
    positive phase draws a fresh sample).  ``reference`` (optional): ``(value, label)`` of a
    baseline of the main metric that summaries draw as a line (e.g. the uniform model's KL).
    """

    clamp: np.ndarray
    inputs: np.ndarray | None = None
    evaluate: object = None
    presentation: float = 0.0
    reference: tuple | None = None
    check: object = None

    def __len__(self) -> int:
        return len(self.clamp)


@dataclass
class Trajectory:
    """What a run returns: checkpoint times (ms), metric values per checkpoint and replica,
    and the final parameters."""

    times: np.ndarray
    metrics: dict
    params: dict
    info: dict = field(default_factory=dict)
