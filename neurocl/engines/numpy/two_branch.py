"""Online SGD (and its always-on phase-switching version) of the two-branch / multi-view
network on the sphere model, vectorised over replicas (numpy engine).

The model, loss and update are those of :mod:`neurocl.circuits.two_branch`; one fresh sample
per step; ``t = steps / N``.  :class:`OnlineLearner` holds the state and advances it (the
engine's runner drives it through the shared checkpoint loop); :func:`simulate_online`
records the overlaps ``M = W^T U / sqrt(N)`` and ``Q = W^T W / N`` at given times for
comparison with :mod:`neurocl.theory_two_branch`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits.two_branch import frame, output_errors, overlaps, sample_features, view_noise_factor
from neurocl.engines.loop import run_checkpointed
from neurocl.engines.numpy.schedule import phase_table
from neurocl.errors import ConfigError, DivergenceError, UnsupportedFeatureError

__all__ = ["OnlineLearner", "OverlapTrajectory", "simulate_online", "run_two_branch"]


class OnlineLearner:
    """Weights ``W`` (R, N, K) and frames ``U`` (R, N, d1) of ``R`` independent runs, advanced
    one fresh sample per step with per-step rate ``tau``.

    Random numbers: frames and initial weights from ``rng_init``; the samples of steps
    ``j block .. (j+1) block - 1`` from ``default_rng([seed, 3, j])``, so a trajectory does not
    depend on how the run is cut into ``advance`` calls (checkpoints).  ``positive`` (optional,
    ``(R, n_steps)`` bool): the phase of every step; then a positive step follows the attraction
    term weighted ``1/b`` and a negative one the decorrelation term weighted ``1/(1-b)`` (ISD,
    ``papers/000_*``); ``None``: the full gradient every step.  ``dt``: ms per step (for the
    time a divergence is reported at).
    """

    def __init__(self, model, tau: float, replicas: int, rng_init: np.random.Generator, seed: int, M0, Q0,
                 positive: np.ndarray | None = None, b: float | None = None, block: int = 64, dt: float = 1.0):
        if positive is not None and not (b is not None and 0.0 < b < 1.0):
            raise ConfigError(f"b = {b!r} must be in (0, 1) with a phase table")
        N, d1 = model.N, model.d1
        self.model, self.tau, self.seed, self.positive, self.b, self.block, self.dt = (
            model, tau, seed, positive, b, block, dt)
        self.U = np.stack([frame(N, d1, rng_init) for _ in range(replicas)])            # (R, N, d1)
        self.W = np.stack([model.init_weights(self.U[r], M0, Q0, rng_init) for r in range(replicas)])
        self.Lr = view_noise_factor(model.views, model.rho)                           # (A, A)
        self._block_index, self._X = -1, None

    @property
    def params(self) -> dict:
        return {"W": self.W, "U": self.U}

    def _samples(self, j: int) -> np.ndarray:
        """The views of block ``j``'s samples, ``(R, block, A, N)`` (batched matmuls)."""
        m, U = self.model, self.U
        rng = np.random.default_rng([self.seed, 3, j])
        R, N = U.shape[0], m.N
        c = sample_features(m.feature_law, rng, (R, self.block, m.d1), m.c_var)
        g = rng.standard_normal((R, self.block, N))
        x = g + (c - g @ U) @ np.swapaxes(U, 1, 2)                                 # x = U c + (I - U U^T) g
        return x[:, :, None, :] + m.s * (self.Lr @ rng.standard_normal((R, self.block, m.views, N)))

    def _errors(self, h, k):
        m = self.model
        if self.positive is None:
            return output_errors(h, m.activation, m.lam)
        pos = self.positive[:, k]
        return np.where(pos[:, None, None], output_errors(h, m.activation, m.lam, "attract") / self.b,
                        output_errors(h, m.activation, m.lam, "decorrelate") / (1.0 - self.b))

    def advance(self, k0: int, K: int) -> None:
        """Steps ``k0 .. k0+K-1``:
        ``W <- (1 - tau mu / N) W - tau / sqrt(N) sum_k x^(k) e^(k)T``."""
        m, W = self.model, self.W
        N = m.N
        scale, decay = self.tau / np.sqrt(N), 1.0 - self.tau * m.mu / N
        for k in range(k0, k0 + K):
            j, i = divmod(k, self.block)
            if j != self._block_index:
                self._X, self._block_index = self._samples(j), j
            Xi = self._X[:, i]                                                      # (R, A, N)
            e = self._errors(Xi @ W / np.sqrt(N), k)
            W *= decay
            W -= scale * (np.swapaxes(Xi, 1, 2) @ e)
            if i == self.block - 1 or k == k0 + K - 1:
                if not np.isfinite(W).all():
                    raise DivergenceError("W (two-branch weights)", (k + 1) * self.dt, k + 1)


@dataclass(frozen=True)
class OverlapTrajectory:
    """``t`` (T,), ``M`` (T, R, K, d1), ``Q`` (T, R, K, K) of ``R`` replicas, and the
    final weights ``W`` (R, N, K) with the frames ``U``."""

    t: np.ndarray
    M: np.ndarray
    Q: np.ndarray
    W: np.ndarray
    U: np.ndarray


def simulate_online(model, tau: float, t_end: float, *, replicas: int = 1, seed: int = 0, t_eval=None,
                    b: float | None = None, M0=None, Q0=None, block: int = 64) -> OverlapTrajectory:
    """Online SGD for ``t_end * N`` steps on ``replicas`` runs (one frame ``U`` per run,
    initial overlaps ``(M0, Q0)`` for all; default ``model.initial_overlaps`` with the seed).
    ``b`` set: each step is independently positive with probability ``b`` (phases of one step)."""
    N = model.N
    if M0 is None or Q0 is None:
        M0, Q0 = model.initial_overlaps(np.random.default_rng([seed, 8]))
    n_steps = int(round(t_end * N))
    positive = None
    if b is not None:
        if not 0.0 < b < 1.0:
            raise ConfigError(f"b = {b:g} is outside (0, 1)")
        positive = np.random.default_rng([seed, 9]).random((replicas, n_steps)) < b
    learner = OnlineLearner(model, tau, replicas, np.random.default_rng([seed, 7]), seed, M0, Q0, positive, b, block)
    t_eval = np.linspace(0.0, t_end, 11) if t_eval is None else np.asarray(t_eval, float)
    k_eval = np.unique(np.clip(np.round(t_eval * N).astype(int), 0, n_steps))
    ts, Ms, Qs = [], [], []
    k = 0
    for target in k_eval:
        if target > k:
            learner.advance(k, int(target - k))
            k = int(target)
        M, Q = overlaps(learner.W, learner.U)
        ts.append(k / N), Ms.append(M), Qs.append(Q)
    return OverlapTrajectory(np.array(ts), np.array(Ms), np.array(Qs), learner.W, learner.U)


def run_two_branch(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    """The numpy engine's runner for ``two_branch`` circuits: one sample per ``sim.dt`` ms.

    Discrete-time online SGD (rule ``time = "discrete"``): ``tau = learning_rate`` per step.
    Continuous-time always-on learning (ISD): ``tau = learning_rate * dt`` per step, the phase
    of each step from ``phases`` (positive: attraction weighted ``1/b``; negative:
    decorrelation weighted ``1/(1-b)``).  The ODE time is ``t = steps / N``.
    """
    if params is not None:
        raise UnsupportedFeatureError(engine.name, "initial params for a two_branch circuit (its frame and "
                                                   "weights are drawn from the seed and init_overlap/init_norm)")
    rng_init = np.random.default_rng([sim.seed, 0])
    M0, Q0 = circuit.initial_overlaps(rng_init)
    learner_rng = np.random.default_rng([sim.seed, 2])       # frames and weights: the same for every rule
    positive, b, tau = None, None, rule.learning_rate
    if rule.time == "continuous":
        positive = phase_table(phases, sim, np.random.default_rng([sim.seed, 1]))[0]
        b, tau = phases.b, rule.learning_rate * sim.dt
    learner = OnlineLearner(circuit, tau, sim.replicas, learner_rng, sim.seed, M0, Q0, positive, b, dt=sim.dt)
    return run_checkpointed(sim, task, learner.params, learner.advance, progress=progress, desc=desc,
                            block=max(1, sim.n_steps // 200), info={"tau_per_step": tau, "t_end": sim.n_steps / circuit.N})
