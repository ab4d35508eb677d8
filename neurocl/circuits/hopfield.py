"""Layered Hopfield network: continuous units, hard-sigmoid activation, symmetric weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits.base import CIRCUITS, Params, State, check_dimension, magnitude_check
from neurocl.data.digits import one_hot
from neurocl.data.spec import Dataset
from neurocl.errors import ConfigError
from neurocl.measure.representation import (RecordsRepresentationMetrics, check_metric_names, metrics_field,
                                             with_representation_metrics)
from neurocl.numerics import batched_vecmat
from neurocl.simulation import Task
from neurocl.validate import check_fields, non_negative, one_of, positive, positive_int

__all__ = ["LayeredHopfield", "hard_sigmoid"]


def hard_sigmoid(s: np.ndarray) -> np.ndarray:
    """Bounded activation ``rho(s) = clip(s, 0, 1)``."""
    return np.clip(s, 0.0, 1.0)


@CIRCUITS.register
@dataclass(frozen=True)
class LayeredHopfield(RecordsRepresentationMetrics):
    """Layered Hopfield network for supervised contrastive learning (CHL / EP).

    Energy (Scellier & Bengio 2017, Eq. 1, with a chain of layers ``x -> h -> y``)::

        E = 1/2 sum_i s_i^2 - sum_l rho(s_l) . W_l . rho(s_{l+1}) - sum_l b_l . rho(s_l)

    Units relax by projected gradient flow on the box ``[0, 1]^n``: ``tau_n ds/dt = -dE/ds``
    integrated by Euler steps followed by projection ``s <- clip(s, 0, 1)`` (as in Scellier &
    Bengio's implementation; without the projection the discontinuous ``rho'`` makes saturated
    units oscillate under Euler steps).  Inside the box ``rho(s) = s``.  The input layer is always
    clamped to the image.  Positive phase: ``positive = "clamp"`` clamps the output layer
    to the one-hot target (contrastive Hebbian learning, Movellan 1991); ``"nudge"`` adds
    the force ``beta (target - y)`` to the output (equilibrium propagation); the learning rate
    then absorbs the factor ``1/beta``.  Negative phase: the output runs free
    (``negative = "free"``), or, with ``negative = "antinudge"`` (only with ``"nudge"``), feels
    ``-beta (target - y)``: symmetric nudging, whose contrast ``f(+beta) - f(-beta)`` cancels
    the first-order bias of one-sided EP that otherwise makes training collapse after a few
    epochs (Laborieux et al. 2021, *Scaling EP to deep ConvNets*, Eq. 5).  The plasticity
    statistic is ``-dE/dtheta = (rho(s_l) rho(s_{l+1})^T, rho(s_l))``.

    Parameters
    ----------
    sizes : tuple of int
        Layer sizes, input first, output last (e.g. ``(64, 256, 10)``).
    tau_n : float
        Neural time constant in ms.
    positive : {"clamp", "nudge"}
        How the positive phase imposes the target.
    negative : {"free", "antinudge"}
        What the negative phase does with the output.
    beta : float
        Nudging strength (only with ``positive = "nudge"``).
    eval_time : float
        Free relaxation time (ms) from rest used to read out a prediction.
    metrics : list of str
        Opt-in representation metrics (:mod:`neurocl.measure.representation`, e.g.
        ``["alpha_req"]``) of the first hidden layer ``s1`` after the read-out relaxation on the
        test images, per checkpoint.
    rest_on_new_sample : bool
        When a new sample is clamped, hidden and output units restart from rest (0), as
        between stimulus presentations and as in the read-out.  Without it the positive
        phase begins with the previous sample's activity, whose Hebbian transient
        (new input x previous hidden pattern) biases learning by O(settling time / phase
        length) (Williams et al. 2023, bias O(eta s / tau)).

    Notes
    -----
    Divergence: a run has *diverged* when any weight or bias has magnitude > :attr:`DIVERGENCE_BOUND`
    (100) or is NaN/inf; the run loop checks it at every checkpoint (``Task.check``) and
    raises :class:`~neurocl.errors.DivergenceError` with the checkpoint's time.  Units live in
    ``[0, 1]`` and respond (``rho' = 1``) only while their drive stays inside that box; one
    synapse or bias of magnitude 100 moves the drive by 100 times the unit's whole range, so the
    unit it reaches is pinned at 0 or 1 whatever its other inputs do (``rho' = 0``: it stops
    computing and stops learning), and learning at a sane rate never builds such a weight (a
    learning rate of 1e6 does in one update).  Trained networks of the shipped spec stay far
    below it (digits: max ``|theta|`` 0.44 after the full 6,000 s run).
    """

    #: magnitude of a weight or bias beyond which a run counts as diverged (see "Divergence")
    DIVERGENCE_BOUND = 100.0

    sizes: tuple
    tau_n: float = 1.0
    positive: str = "clamp"
    negative: str = "free"
    beta: float = 0.5
    eval_time: float = 20.0
    init_scale: float = 1.0
    rest_on_new_sample: bool = False
    metrics: tuple = metrics_field()

    kind = "hopfield"
    dynamics = "gradient_flow"
    clamp_units = None
    main_metric = "test_accuracy_pct"
    summary_panel = "input_weights"

    def __post_init__(self):
        check_fields(self)
        sizes = tuple(self.sizes) if isinstance(self.sizes, (list, tuple)) else None
        if sizes is None or len(sizes) < 2:
            raise ConfigError(f"sizes must be a list of at least 2 layer sizes, got {self.sizes!r}")
        sizes = tuple(positive_int(f"sizes[{i}]", n) for i, n in enumerate(sizes))
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "tau_n", positive("tau_n", self.tau_n))
        one_of("positive", self.positive, {"clamp", "nudge"})
        one_of("negative", self.negative, {"free", "antinudge"})
        if self.negative == "antinudge" and self.positive != "nudge":
            raise ConfigError("negative = 'antinudge' needs positive = 'nudge'")
        object.__setattr__(self, "beta", positive("beta", self.beta))
        object.__setattr__(self, "eval_time", positive("eval_time", self.eval_time))
        object.__setattr__(self, "init_scale", non_negative("init_scale", self.init_scale))
        object.__setattr__(self, "metrics", check_metric_names(self.metrics))

    @property
    def layers(self):
        return tuple(f"s{i}" for i in range(len(self.sizes)))

    @property
    def data_layer(self) -> str:
        """The output layer ``s{L}``: what a positive phase clamps (or nudges) to the target."""
        return self.layers[-1]

    @property
    def n_synapses(self) -> int:
        return sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def init_params(self, rng: np.random.Generator, replicas: int = 1) -> Params:
        """Glorot-uniform weights scaled by ``init_scale``; zero biases."""
        params = {}
        for i, (n, m) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            lim = self.init_scale * np.sqrt(6.0 / (n + m))
            params[f"W{i}"] = rng.uniform(-lim, lim, (replicas, n, m))
            params[f"b{i + 1}"] = np.zeros((replicas, m))
        return params

    def init_state(self, rng=None, replicas: int = 1) -> State:
        """All units at rest (0)."""
        return {f"s{i}": np.zeros((replicas, n)) for i, n in enumerate(self.sizes)}

    def drive(self, params: Params, state: State, layer: int) -> np.ndarray:
        """Total input ``sum W rho(neighbours) + b`` to layer ``layer`` (>= 1)."""
        u = params[f"b{layer}"] + batched_vecmat(hard_sigmoid(state[f"s{layer - 1}"]), params[f"W{layer - 1}"])
        if layer + 1 < len(self.sizes):
            u = u + batched_vecmat(hard_sigmoid(state[f"s{layer + 1}"]), np.swapaxes(params[f"W{layer}"], 1, 2))
        return u

    def drift(self, params: Params, state: State, target=None, nudge=0.0) -> State:
        """``-dE/ds`` for every free layer (the input layer is clamped and has none).

        ``-dE/ds_l = rho'(s_l) * drive_l - s_l``; with a ``target`` the output also feels
        ``nudge * (target - rho(y))`` (``nudge`` a float or an ``(R, 1)`` array), the gradient
        of the EP cost term ``beta/2 |target - y|^2`` (Scellier & Bengio 2017, Eq. 4).
        """
        out = {}
        for layer in range(1, len(self.sizes)):
            s = state[f"s{layer}"]
            inside = (s >= 0.0) & (s <= 1.0)
            out[f"s{layer}"] = np.where(inside, self.drive(params, state, layer), 0.0) - s
        if target is not None:
            y = f"s{len(self.sizes) - 1}"
            out[y] = out[y] + nudge * (target - hard_sigmoid(state[y]))
        return out

    def euler_step(self, state: State, drift: State, k: float) -> None:
        """In place: ``s <- clip(s + k * drift, 0, 1)`` for every free layer (``k = dt / tau_n``)."""
        for name, d in drift.items():
            s = state[name]
            s += k * d
            np.clip(s, 0.0, 1.0, out=s)

    def energy(self, params: Params, state: State) -> np.ndarray:
        """``E`` per replica, shape ``(R,)``."""
        e = sum(0.5 * np.sum(state[k] ** 2, 1) for k in self.layers[1:])
        for i in range(len(self.sizes) - 1):
            r0, r1 = hard_sigmoid(state[f"s{i}"]), hard_sigmoid(state[f"s{i + 1}"])
            e = e - np.einsum("ri,rij,rj->r", r0, params[f"W{i}"], r1) - np.sum(params[f"b{i + 1}"] * r1, 1)
        return e

    def statistic(self, params: Params, state: State, mean_field: bool = True) -> Params:
        """``-dE/dtheta``: ``rho(s_l) rho(s_{l+1})^T`` for ``W_l`` and ``rho(s_l)`` for ``b_l``."""
        rho = [hard_sigmoid(state[k]) for k in self.layers]
        out = {}
        for i in range(len(self.sizes) - 1):
            out[f"W{i}"] = rho[i][:, :, None] * rho[i + 1][:, None, :]
            out[f"b{i + 1}"] = rho[i + 1]
        return out

    def predict(self, params: Params, x: np.ndarray, dt: float, replica: int = 0) -> np.ndarray:
        """Class scores after relaxing freely for ``eval_time`` ms from rest with ``x`` clamped
        (Euler steps of ``dt`` ms): the total input ``drive`` of each output unit, which orders
        the classes even where the bounded activation saturates.  ``x`` has shape ``(N, sizes[0])``."""
        p = {k: v[replica : replica + 1] for k, v in params.items()}
        return self.drive(p, self.relax(p, x, dt), len(self.sizes) - 1)

    def relax(self, p: Params, x: np.ndarray, dt: float) -> State:
        """The state after relaxing freely for ``eval_time`` ms from rest with ``x`` clamped
        (Euler steps of ``dt`` ms), for the one-replica parameters ``p``."""
        state = {f"s{i}": np.zeros((len(x), n)) for i, n in enumerate(self.sizes)}
        state["s0"] = np.asarray(x, dtype=float)
        for _ in range(int(round(self.eval_time / dt))):
            self.euler_step(state, self.drift(p, state), dt / self.tau_n)
        return state

    def representation(self, params: Params, replica: int, x: np.ndarray, dt: float) -> np.ndarray:
        """The first hidden layer ``s1`` ``(m, sizes[1])`` after the read-out relaxation of :meth:`predict`."""
        p = {k: v[replica : replica + 1] for k, v in params.items()}
        return np.array(self.relax(p, x, dt)["s1"])

    def task(self, data: Dataset) -> Task:
        """Images clamped on the input layer in both phases, one-hot targets on the output;
        metrics ``test_accuracy_pct`` and ``train_accuracy_pct`` (first 500 training images),
        read out after ``eval_time`` ms of free relaxation (:meth:`predict`); check: the
        divergence bound of the class docstring."""
        if data.y is None:
            raise ConfigError("a layered Hopfield circuit needs labelled data (data.labels)")
        check_dimension("sizes[0]", self.sizes[0], data.x.shape[1])
        n_classes = self.sizes[-1]
        top = max(data.y.max(), data.y_test.max())
        if top >= n_classes:
            raise ConfigError(f"labels go up to {top} but circuit.sizes[-1] = {n_classes}")
        dt_eval = min(0.5, self.tau_n / 2)
        xs, ys = data.x[:500], data.y[:500]

        def accuracy(p, r, xx, yy):
            return 100.0 * float(np.mean(self.predict(p, xx, dt_eval, r).argmax(1) == yy))

        def evaluate(p):
            R = next(iter(p.values())).shape[0]
            return {
                "test_accuracy_pct": [accuracy(p, r, data.x_test, data.y_test) for r in range(R)],
                "train_accuracy_pct": [accuracy(p, r, xs, ys) for r in range(R)],
            }

        check = magnitude_check(self.DIVERGENCE_BOUND, "every unit it reaches is pinned at 0 or 1 whatever its "
                                                       "other inputs (drive 100 times the unit's range)")
        task = Task(clamp=one_hot(data.y, n_classes), inputs=data.x, evaluate=evaluate,
                    presentation=data.presentation, check=check)
        return with_representation_metrics(task, self.metrics,
                                           lambda p, r: self.representation(p, r, data.x_test, dt_eval))
