"""Restricted Boltzmann machine with binary {0, 1} units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits.base import CIRCUITS, Params, State, check_dimension, magnitude_check
from neurocl.data.spec import Dataset
from neurocl.measure.exact import rbm_kl, rbm_nll
from neurocl.measure.representation import (RecordsRepresentationMetrics, check_metric_names, metrics_field,
                                             with_representation_metrics)
from neurocl.numerics import batched_vecmat, sigmoid
from neurocl.simulation import Task
from neurocl.validate import check_fields, non_negative, positive, positive_int

__all__ = ["RBM"]


@CIRCUITS.register
@dataclass(frozen=True)
class RBM(RecordsRepresentationMetrics):
    """Binary RBM with energy ``E(v, h) = -v.W.h - a.v - c.h``, ``v, h`` in {0, 1}.

    Units follow continuous-time Glauber dynamics (Glauber, J. Math. Phys. 4, 294, 1963): each
    unit resamples from its conditional ``p(h_j = 1 | v) = sigmoid(c_j + v.W[:, j])`` at rate
    ``1 / tau_n``, so the free-running stationary law is ``exp(-E) / Z``.  Hidden units are
    conditionally independent given the visible ones and vice versa, so each layer is one
    Glauber block.

    Parameters
    ----------
    n_visible, n_hidden : int
        Layer sizes.
    tau_n : float
        Neural time constant in ms (mean time between resamplings of one unit).
    init_scale : float
        Standard deviation of the initial weights (biases start at 0).
    metrics : list of str
        Opt-in representation metrics (:mod:`neurocl.measure.representation`, e.g.
        ``["alpha_req"]``) of the hidden means ``p(h = 1 | v)`` of the data, per checkpoint.

    Notes
    -----
    Divergence: a run has *diverged* when any weight or bias has magnitude > :attr:`DIVERGENCE_BOUND`
    (50) or is NaN/inf; the run loop checks it at every checkpoint (``Task.check``) and raises
    :class:`~neurocl.errors.DivergenceError` with the checkpoint's time.  One parameter of
    magnitude 50 alone moves a unit's log-odds by 50: the probabilities it decides are within
    ``sigmoid(-50) = 2e-22`` of 0 or 1, far below anything sampled statistics resolve (a run
    draws fewer than 1e13 samples), so contrastive learning from samples only gets there by
    runaway (a learning rate of 1e6 moves the weights by ~1e6 in one update; its KL of 1e8
    nats is no result).  Trained RBMs of the shipped specs stay far below it: after the full
    16,000 s runs (5 replicas, ISD and TwoPhase) max ``|theta|`` is 5.6 on bas3 and 4.7 on bas4.
    """

    #: magnitude of a weight or bias beyond which a run counts as diverged (see "Divergence")
    DIVERGENCE_BOUND = 50.0

    n_visible: int
    n_hidden: int
    tau_n: float = 1.0
    init_scale: float = 0.01
    metrics: tuple = metrics_field()

    kind = "rbm"
    dynamics = "glauber"
    data_layer = "v"
    clamp_units = None
    layers = ("v", "h")
    main_metric = "kl_nats"
    summary_panel = "model_samples"

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "n_visible", positive_int("n_visible", self.n_visible))
        object.__setattr__(self, "n_hidden", positive_int("n_hidden", self.n_hidden))
        object.__setattr__(self, "tau_n", positive("tau_n", self.tau_n))
        object.__setattr__(self, "init_scale", non_negative("init_scale", self.init_scale))
        object.__setattr__(self, "metrics", check_metric_names(self.metrics))

    @property
    def n_synapses(self) -> int:
        return self.n_visible * self.n_hidden

    def representation(self, params: Params, replica: int, x: np.ndarray) -> np.ndarray:
        """Hidden means ``p(h = 1 | v) = sigmoid(c + v W)`` of the rows ``v`` of ``x``, ``(m, n_hidden)``."""
        return sigmoid(np.asarray(x, dtype=float) @ params["W"][replica] + params["c"][replica])

    def init_params(self, rng: np.random.Generator, replicas: int = 1) -> Params:
        """Weights ``W ~ N(0, init_scale^2)`` of shape ``(R, n_visible, n_hidden)``, zero biases."""
        return {
            "W": self.init_scale * rng.standard_normal((replicas, self.n_visible, self.n_hidden)),
            "a": np.zeros((replicas, self.n_visible)),
            "c": np.zeros((replicas, self.n_hidden)),
        }

    def init_state(self, rng: np.random.Generator, replicas: int = 1) -> State:
        """Independent fair coin flips for every unit."""
        return {
            "v": (rng.random((replicas, self.n_visible)) < 0.5).astype(float),
            "h": (rng.random((replicas, self.n_hidden)) < 0.5).astype(float),
        }

    def glauber_blocks(self):
        """Layers in update order; units inside one block are conditionally independent."""
        return (("h", None), ("v", None))

    def field(self, params: Params, state: State, layer: str, index=None) -> np.ndarray:
        """Local field ``u`` with ``p(unit = 1 | rest) = sigmoid(u)`` for a whole layer."""
        if layer == "h":
            return batched_vecmat(state["v"], params["W"]) + params["c"]
        return batched_vecmat(state["h"], np.swapaxes(params["W"], 1, 2)) + params["a"]

    def energy(self, params: Params, state: State) -> np.ndarray:
        """``E(v, h)`` per replica, shape ``(R,)``."""
        v, h = state["v"], state["h"]
        vWh = np.einsum("ri,rij,rj->r", v, params["W"], h)
        return -vWh - np.sum(params["a"] * v, 1) - np.sum(params["c"] * h, 1)

    def statistic(self, params: Params, state: State, mean_field: bool = True) -> Params:
        """``-dE/dtheta`` at the current state: ``(v h^T, v, h)`` for ``(W, a, c)``.

        Its positive-phase mean minus its negative-phase mean is the log-likelihood gradient
        (Ackley, Hinton & Sejnowski 1985).  With ``mean_field`` the hidden sample ``h`` is
        replaced by ``E[h | v] = sigmoid(c + v W)`` (Rao-Blackwellisation: same expectation in
        either phase, lower variance; the quantity is local to the hidden neuron).
        """
        v = state["v"]
        h = sigmoid(self.field(params, state, "h")) if mean_field else state["h"]
        return {"W": v[:, :, None] * h[:, None, :], "a": v, "c": h}

    def task(self, data: Dataset) -> Task:
        """Binarised data (threshold 0.5) clamped on the visible layer; metrics per replica:
        ``kl_nats`` (exact KL(data || model), by enumeration) and ``nll_nats`` (exact mean
        negative log-likelihood); reference: the uniform model's KL ``ln(2^n_visible / patterns)``;
        check: the divergence bound of the class docstring."""
        x = (data.x > 0.5).astype(float)
        check_dimension("n_visible", self.n_visible, x.shape[1])
        n_patterns = len(np.unique(x, axis=0))
        uniform = float(np.log(2.0**self.n_visible / n_patterns))

        def evaluate(p):
            R = p["W"].shape[0]
            return {
                "kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], x) for r in range(R)],
                "nll_nats": [rbm_nll(p["W"][r], p["a"][r], p["c"][r], x) for r in range(R)],
            }

        task = Task(clamp=x, evaluate=evaluate, presentation=data.presentation,
                    reference=(uniform, f"uniform model ({uniform:.2f} nats)"), check=self.divergence_check())
        return with_representation_metrics(task, self.metrics, lambda p, r: self.representation(p, r, x))

    def divergence_check(self):
        """``Task.check``: a reason when a weight or bias left ``|theta| <= 50`` (class docstring)."""
        return magnitude_check(self.DIVERGENCE_BOUND, "one parameter alone moves a unit's log-odds by more "
                                                       "than 50 (probabilities within 2e-22 of 0 or 1)")
