"""Small fully connected Boltzmann machine (for exactness tests)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits.base import CIRCUITS, Params, State, check_dimension, magnitude_check
from neurocl.data.spec import Dataset
from neurocl.errors import ConfigError
from neurocl.measure.exact import all_states, boltzmann_distribution
from neurocl.simulation import Task
from neurocl.validate import check_fields, non_negative, positive, positive_int

__all__ = ["BoltzmannMachine"]


@CIRCUITS.register
@dataclass(frozen=True)
class BoltzmannMachine:
    """Fully connected binary Boltzmann machine, ``E(s) = -1/2 s.W.s - a.s``, ``s`` in {0, 1}^n.

    ``W`` is symmetric with zero diagonal.  Every unit is its own Glauber block (units are
    coupled), so one integration step visits the units in turn; each visit resamples the
    unit with probability ``1 - exp(-dt / tau_n)`` from ``p(s_i = 1 | rest) = sigmoid(W_i.s + a_i)``.
    Each visit leaves ``exp(-E)/Z`` invariant, so the stationary law is exact for any ``dt``.
    The first ``n_visible`` units are the ones clamped to data.

    Divergence: as for :class:`~neurocl.circuits.RBM`, a run has diverged when any weight or
    bias has magnitude > :attr:`DIVERGENCE_BOUND` (50) or is NaN/inf (a unit's log-odds moved
    by 50 by one parameter: probabilities within ``sigmoid(-50) = 2e-22`` of 0 or 1, beyond
    what sampled statistics resolve); checked at every checkpoint (``Task.check``).
    """

    #: magnitude of a weight or bias beyond which a run counts as diverged
    DIVERGENCE_BOUND = 50.0

    n_units: int
    n_visible: int | None = None
    tau_n: float = 1.0
    init_scale: float = 0.01

    kind = "boltzmann"
    dynamics = "glauber"
    data_layer = "s"
    layers = ("s",)
    main_metric = "kl_nats"
    summary_panel = None

    def __post_init__(self):
        check_fields(self)
        n = positive_int("n_units", self.n_units)
        object.__setattr__(self, "n_units", n)
        nv = n if self.n_visible is None else positive_int("n_visible", self.n_visible)
        if nv > n:
            raise ConfigError(f"n_visible = {nv} must be <= n_units = {n}")
        object.__setattr__(self, "n_visible", nv)
        object.__setattr__(self, "tau_n", positive("tau_n", self.tau_n))
        object.__setattr__(self, "init_scale", non_negative("init_scale", self.init_scale))

    @property
    def n_synapses(self) -> int:
        return self.n_units * (self.n_units - 1) // 2

    @property
    def clamp_units(self) -> np.ndarray:
        """The first ``n_visible`` units: what a positive phase clamps."""
        return np.arange(self.n_visible)

    def init_params(self, rng: np.random.Generator, replicas: int = 1) -> Params:
        W = self.init_scale * rng.standard_normal((replicas, self.n_units, self.n_units))
        W = np.triu(W, 1)
        return {"W": W + np.swapaxes(W, 1, 2), "a": np.zeros((replicas, self.n_units))}

    def init_state(self, rng: np.random.Generator, replicas: int = 1) -> State:
        return {"s": (rng.random((replicas, self.n_units)) < 0.5).astype(float)}

    def glauber_blocks(self):
        return tuple(("s", i) for i in range(self.n_units))

    def field(self, params: Params, state: State, layer: str, index=None) -> np.ndarray:
        """Local field of unit ``index`` (shape ``(R, 1)``), or of all units if ``None``."""
        s = state["s"]
        if index is None:
            return np.einsum("ri,rij->rj", s, params["W"]) + params["a"]
        return (np.einsum("ri,ri->r", s, params["W"][:, :, index]) + params["a"][:, index])[:, None]

    def energy(self, params: Params, state: State) -> np.ndarray:
        s = state["s"]
        return -0.5 * np.einsum("ri,rij,rj->r", s, params["W"], s) - np.sum(params["a"] * s, 1)

    def statistic(self, params: Params, state: State, mean_field: bool = True) -> Params:
        """``-dE/dtheta``: ``s s^T`` (zero diagonal) for ``W`` and ``s`` for ``a``."""
        s = state["s"]
        ss = s[:, :, None] * s[:, None, :]
        idx = np.arange(self.n_units)
        ss[:, idx, idx] = 0.0
        return {"W": ss, "a": s}

    def visible_kl(self, W: np.ndarray, a: np.ndarray, data: np.ndarray) -> float:
        """Exact ``KL(data || model)`` (nats) of the visible marginal, by enumeration."""
        nv = self.n_visible
        p = boltzmann_distribution(W, a).reshape(2**nv, -1).sum(1)
        patterns, counts = np.unique(data, axis=0, return_counts=True)
        q = counts / counts.sum()
        idx = (patterns > 0.5).astype(int) @ (2 ** np.arange(nv - 1, -1, -1))
        return float(np.sum(q * (np.log(q) - np.log(p[idx]))))

    def task(self, data: Dataset) -> Task:
        """Binarised data clamped on the first ``n_visible`` units; metric ``kl_nats`` of the
        visible marginal (exact, by enumeration of all ``2^n_units`` states)."""
        x = (data.x > 0.5).astype(float)
        check_dimension("n_visible", self.n_visible, x.shape[1])
        all_states(self.n_units)  # raises if too large to evaluate exactly

        def evaluate(p):
            return {"kl_nats": [self.visible_kl(p["W"][r], p["a"][r], x) for r in range(p["W"].shape[0])]}

        check = magnitude_check(self.DIVERGENCE_BOUND, "one parameter alone moves a unit's log-odds by more "
                                                       "than 50 (probabilities within 2e-22 of 0 or 1)")
        return Task(clamp=x, evaluate=evaluate, presentation=data.presentation, check=check)
