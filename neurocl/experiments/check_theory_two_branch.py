"""``neurocl check-theory --circuit two_branch``: online SGD of a two-branch / multi-view spec
against its high-dimensional ODE (paper 001; :mod:`neurocl.theory_two_branch`).

The spec's circuit (``N``, ``K``, ``d1``, views, noise, loss, initial overlaps) is simulated for
``t_end`` (``t = samples / N``) with ``seeds`` independent runs (frames, weights and samples
per run; one ``N``-independent initial overlap ``(M0, Q0)`` drawn from the spec's
``init_overlap``/``init_noise`` with ``seed``) and the ODE is solved from the same ``(M0, Q0)``.
At ``points`` evenly spaced times the table gives ``|M|_F`` (Frobenius norm of the overlap
matrix ``M = W^T U / sqrt(N)``, dimensionless) of the simulation (mean +- s.e. over runs) and
of the ODE, their difference, the sup-norm error ``max_ij |mean M_ij - M_ij^ODE|`` and the ODE's
own Monte Carlo error (two independent base-sample sets).  Learning rate ``tau`` per sample:
the learner's ``learning_rate`` (``rule = "sgd"``) or ``learning_rate * dt`` (``rule = "isd"``,
whose ODE has the phase-switching second-order term with the learner's ``b``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from neurocl.atomic import write_text_atomic
from neurocl.errors import ConfigError
from neurocl.validate import positive, positive_int

__all__ = ["TwoBranchTheoryRow", "check_theory_two_branch", "format_two_branch_rows"]


@dataclass(frozen=True)
class TwoBranchTheoryRow:
    t: float               # samples / N
    sim_norm: float        # |M|_F, mean over runs (dimensionless)
    sim_se: float          # its standard error over runs
    ode_norm: float        # |M|_F of the ODE
    error: float           # sim_norm - ode_norm
    sup_error: float       # max_ij |mean_runs M_ij - M_ij^ODE|
    ode_mc_error: float    # max_ij |M_ij^ODE(seed 0) - M_ij^ODE(seed 1)|

    @property
    def agrees(self) -> bool:
        """``|error|`` within 3 s.e. + the ODE's Monte Carlo error + 0.02 (O(1/N) finite-size bias
        at the spec's ``N``; dimensionless overlap units)."""
        return abs(self.error) <= 3 * self.sim_se + self.ode_mc_error + 0.02


def _learner(config, learner: str | None):
    specs = {s.label: s for s in config.learners}
    if learner is None:
        learner = next(iter(specs))
    if learner not in specs:
        raise ConfigError(f"learner = {learner!r}: the spec has {sorted(specs)}")
    from neurocl.engines.numpy.two_branch import step_rate

    spec = specs[learner]
    return (learner, *step_rate(spec.rule, spec.phases, config.simulation.dt))


def check_theory_two_branch(config, *, learner: str | None = None, t_end: float | None = None, seeds: int = 4,
                            points: int = 6, n_mc: int = 10000, dt: float = 0.05, seed: int = 0,
                            out: str | Path | None = None, echo: Callable[[str], None] | None = None) -> list:
    """Simulation vs ODE for a two-branch spec; one :class:`TwoBranchTheoryRow` per time.

    Parameters
    ----------
    config : RunConfig or str or path
        A validated run config (:func:`neurocl.config.load_config`) or a spec path/name whose
        circuit has ``kind = "two_branch"``.
    learner : str, optional
        Learner label (default: the first); its rule gives ``tau`` (and ``b`` for ``isd``).
    t_end : float, optional
        End time in ``t = samples / N`` (default: the spec's ``duration / dt / N``).
    seeds, points, n_mc : int
        Runs, table rows, ODE Monte Carlo base samples.
    dt : float
        RK4 step of the ODE (units of ``t``).
    seed : int
        Seed of the initial overlap and of the runs.
    out : path, optional
        Folder for ``check_theory_two_branch.json`` (the rows and the settings).
    echo : callable, optional
        Where the header line and the table go (the CLI passes ``print``; default: nowhere).
    """
    from neurocl.config import load_config
    from neurocl.engines.numpy.two_branch import simulate_online
    from neurocl.theory_two_branch import solve_ode

    if not hasattr(config, "circuit"):
        config = load_config(config)
    circuit = config.circuit
    if getattr(circuit, "kind", None) != "two_branch":
        raise ConfigError(f"circuit kind = {getattr(circuit, 'kind', '?')!r}: check_theory_two_branch needs "
                          f"kind = \"two_branch\"")
    seeds, points, n_mc = positive_int("seeds", seeds), positive_int("points", points), positive_int("n_mc", n_mc)
    if seeds < 2:
        raise ConfigError(f"seeds = {seeds} must be >= 2 (the standard error needs two)")
    if points < 2:
        raise ConfigError(f"points = {points} must be >= 2")
    dt = positive("dt", dt)
    label, tau, b = _learner(config, learner)
    sim_cfg = config.simulation
    t_end = positive("t_end", t_end if t_end is not None else sim_cfg.duration / sim_cfg.dt / circuit.N)
    M0, Q0 = circuit.initial_overlaps(np.random.default_rng([seed, 8]))
    t = np.linspace(0.0, t_end, points)
    sim = simulate_online(circuit, tau, t_end, replicas=seeds, seed=seed, t_eval=t, b=b, M0=M0, Q0=Q0)
    odes = [solve_ode(circuit, M0, Q0, tau, t_end, dt=dt, n_mc=n_mc, seed=s, b=b, t_eval=sim.t) for s in (0, 1)]
    norms = np.linalg.norm(sim.M, axis=(-2, -1))                             # (T, R)
    rows = []
    for i, ti in enumerate(sim.t):
        ode_norm = float(np.linalg.norm(odes[0].M[i]))
        mean = float(norms[i].mean())
        rows.append(TwoBranchTheoryRow(
            t=float(ti), sim_norm=mean, sim_se=float(norms[i].std(ddof=1) / np.sqrt(seeds)), ode_norm=ode_norm,
            error=mean - ode_norm, sup_error=float(np.abs(sim.M[i].mean(0) - odes[0].M[i]).max()),
            ode_mc_error=float(np.abs(odes[0].M[i] - odes[1].M[i]).max())))
    if echo is not None:
        echo(f"two_branch check-theory: learner {label!r} (tau = {tau:g} per sample{'' if b is None else f', ISD b = {b:g}'}), "
              f"N = {circuit.N}, K = {circuit.K}, d1 = {circuit.d1}, views = {circuit.views}, {seeds} runs, "
              f"ODE with {n_mc} Monte Carlo samples")
        echo(format_two_branch_rows(rows))
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / "check_theory_two_branch.json", json.dumps(
            {"learner": label, "tau": tau, "b": b, "N": circuit.N, "seeds": seeds, "n_mc": n_mc, "dt": dt,
             "t_end": t_end, "M0": M0.tolist(), "Q0": Q0.tolist(), "rows": [asdict(r) | {"agrees": r.agrees} for r in rows],
             "units": "t = samples / N; |M|_F and errors in overlap units (M = W^T U / sqrt(N), dimensionless)"},
            indent=1))
    return rows


def format_two_branch_rows(rows) -> str:
    """The table: ``t``, ``|M|_F`` simulation (mean +- s.e.), ODE, error, sup-norm error, ODE
    Monte Carlo error, agreement."""
    lines = [f"{'t (samples/N)':>13} {'|M|_F sim':>10} {'+- s.e.':>8} {'|M|_F ODE':>10} {'error':>8} "
             f"{'sup|dM_ij|':>10} {'ODE MC err':>10}  agrees"]
    for r in rows:
        lines.append(f"{r.t:13.3f} {r.sim_norm:10.4f} {r.sim_se:8.4f} {r.ode_norm:10.4f} {r.error:+8.4f} "
                     f"{r.sup_error:10.4f} {r.ode_mc_error:10.4f}  {'yes' if r.agrees else 'NO'}")
    return "\n".join(lines)
