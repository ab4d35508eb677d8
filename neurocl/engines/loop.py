"""The one checkpointed-run loop every engine uses: checkpoints, progress bar, divergence.

An engine supplies ``advance(k0, K)``, which simulates integration steps ``k0 .. k0+K-1``
(and raises :class:`~neurocl.errors.DivergenceError` at the first non-finite step); the loop
calls it in blocks between the simulation's checkpoints, evaluates the task's metrics at each
checkpoint, and shows one progress bar in simulated ms.  At every checkpoint it first asks
the task whether the parameters are still in the circuit's sane range (``task.check``, each
circuit's definition of *diverged*) and raises :class:`~neurocl.errors.DivergenceError` with
the checkpoint's time when they are not: finite but absurd parameters (a learning rate of
1e6) do not pass as a result.  An engine that cannot be driven step
by step from here (the Lava engine runs in a child process) drives a :class:`RunLoop` itself
through :meth:`RunLoop.advanced` and :meth:`RunLoop.record`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from neurocl.errors import ConfigError, DivergenceError
from neurocl.simulation import Simulation, Task, Trajectory

__all__ = ["RunLoop", "run_checkpointed", "progress_bar", "check_finite"]


def progress_bar(total_ms: float, desc: str = "", enabled: bool = True):
    """A tqdm bar over ``total_ms`` simulated ms (on a terminal only: none in logs and CI)."""
    from tqdm.auto import tqdm

    return tqdm(total=total_ms, desc=desc, unit="ms", disable=None if enabled else True, leave=False,
                mininterval=0.5, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} ms simulated [{elapsed}<{remaining}]")


def check_finite(arrays, t: float, step: int) -> None:
    """Raise :class:`DivergenceError` naming the first of ``(name, array)`` that holds NaN/inf."""
    for name, arr in arrays:
        if not np.isfinite(np.sum(arr)):
            raise DivergenceError(name, t, step)


def _check_dtype(sim: Simulation, params: dict) -> None:
    """Last line of defence for ``sim.dtype``: a run path that honours ``"float32"`` holds its
    parameters in float32; any other refuses before simulating (engines refuse earlier, with
    their name, where they know their paths)."""
    if sim.dtype == "float64":
        return
    dtypes = sorted({str(np.asarray(v).dtype) for v in params.values()} - {sim.dtype})
    if dtypes:
        raise ConfigError(f"simulation.dtype = '{sim.dtype}' is not honoured on this engine's run path (its "
                          f"parameters are {', '.join(dtypes)}); use dtype = 'float64'")


class RunLoop:
    """Checkpoints and progress of one run (thin state).

    ``steps``: the checkpoint step indices (``sim.checkpoint_steps()``, starting at 0).
    :meth:`record` evaluates ``task.evaluate(params)`` after ``k`` steps; the ``params`` dict
    is the one the engine keeps current (or refreshes through ``sync`` before each record).
    """

    def __init__(self, sim: Simulation, task: Task, params: dict, progress: bool = False, desc: str = "",
                 sync: Callable[[], None] | None = None):
        self.sim, self.task, self.params, self.sync = sim, task, params, sync
        _check_dtype(sim, params)
        self.steps = sim.checkpoint_steps()
        self.times: list = []
        self.metrics: dict = {}
        self._bar = progress_bar(sim.duration, desc, progress)

    def __enter__(self) -> "RunLoop":
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()

    def advanced(self, n_steps: int) -> None:
        """Move the progress bar by ``n_steps`` integration steps."""
        self._bar.update(n_steps * self.sim.dt)

    def record(self, k: int) -> None:
        """Evaluate the metrics after ``k`` integration steps.

        First ``task.check(params)``: a reason (parameters out of the circuit's sane range)
        raises :class:`DivergenceError` at time ``k * dt`` (at ``k = 0``, a
        :class:`~neurocl.errors.ConfigError`: the initial parameters are already out of range).
        """
        if self.sync is not None:
            self.sync()
        check = getattr(self.task, "check", None)
        why = check(self.params) if check is not None else None
        if why:
            if k == 0:
                raise ConfigError(f"the initial parameters are already outside the circuit's sane range: {why} "
                                  "(lower circuit.init_scale)")
            raise DivergenceError("the parameters", k * self.sim.dt, k,
                                  f"left the circuit's sane range ({why}), detected at the checkpoint")
        self.times.append(k * self.sim.dt)
        if self.task.evaluate is None:   # no metrics asked for: parameters only
            return
        for name, val in self.task.evaluate(self.params).items():
            self.metrics.setdefault(name, []).append(np.asarray(val, dtype=float))

    def trajectory(self, info: dict | None = None) -> Trajectory:
        return Trajectory(np.array(self.times), {n: np.array(v) for n, v in self.metrics.items()},
                          self.params, info or {})


def run_checkpointed(sim: Simulation, task: Task, params: dict, advance: Callable[[int, int], None], *,
                     progress: bool = False, desc: str = "", block: int = 4096,
                     sync: Callable[[], None] | None = None, info: Callable[[], dict] | dict | None = None
                     ) -> Trajectory:
    """Run ``advance(k0, K)`` in blocks of at most ``block`` steps from step 0 to
    ``sim.n_steps``, recording the metrics at every checkpoint; return the trajectory.

    ``info``: a dict, or a function returning one after the run, stored in ``Trajectory.info``.
    """
    with RunLoop(sim, task, params, progress, desc, sync) as loop:
        loop.record(0)
        for k_lo, k_hi in zip(loop.steps[:-1], loop.steps[1:]):
            for k0 in range(int(k_lo), int(k_hi), block):
                K = min(block, int(k_hi) - k0)
                advance(k0, K)
                loop.advanced(K)
            loop.record(int(k_hi))
    return loop.trajectory(info() if callable(info) else info)
