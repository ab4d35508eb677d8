"""Sample-contrastive learning on the numpy engine: an encoder, the global contrastive loss,
and a negative estimator from :data:`neurocl.samplers.NEGATIVE_ESTIMATORS`.

Pure functions (the step and the exact loss) come first; the runner registered with the
numpy engine (``SampleContrastive`` circuits) is at the end.

The view table of ``n`` samples is ``X_views`` ``(2n, d_in)``: rows ``0..n-1`` the first views,
``n..2n-1`` the second (the layout of :mod:`neurocl.objectives.global_contrastive`).
"""

from __future__ import annotations

import numpy as np

from neurocl.objectives.global_contrastive import (
    global_contrastive_loss,
    global_contrastive_loss_and_grad,
    normalize,
    normalize_backward,
)

__all__ = ["exact_loss", "exact_loss_and_grad", "estimate_param_grad", "embed", "LazyEmbeddings", "ContrastiveLearner",
           "run_sample_contrastive", "FixedSetting", "fixed_setting"]


def embed(enc, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Normalised encoder outputs ``z = f_w(x) / |f_w(x)|``."""
    return normalize(enc.forward(w, x)[0])[0]


def exact_loss(enc, w: np.ndarray, X_views: np.ndarray, beta: float) -> float:
    """Global contrastive loss ``L(w)`` (nats) of the whole view table."""
    n = X_views.shape[0] // 2
    z = embed(enc, w, X_views)
    return global_contrastive_loss(z[:n], z[n:], beta)


def exact_loss_and_grad(enc, w: np.ndarray, X_views: np.ndarray, beta: float):
    """``(L(w), dL/dw)`` exactly (backprop through the normalisation and the encoder)."""
    n = X_views.shape[0] // 2
    h, cache = enc.forward(w, X_views)
    z, norms = normalize(h)
    L, g1, g2 = global_contrastive_loss_and_grad(z[:n], z[n:], beta)
    gh = normalize_backward(z, norms, np.vstack([g1, g2]))
    return L, enc.backward(w, cache, gh)


class LazyEmbeddings:
    """Normalised embeddings of view-table rows, encoded on first request (``take``), with the
    forward caches kept for one backward pass (:meth:`backward`).  The table an estimator
    reads during one step."""

    def __init__(self, enc, w: np.ndarray, X_views: np.ndarray, prefetch: np.ndarray):
        self.enc, self.w, self.X = enc, w, X_views
        self.have = np.zeros(X_views.shape[0], dtype=bool)
        self.Z = None
        self.chunks = []          # (idx, z, norms, cache) per forward pass
        self._encode(np.unique(prefetch))

    def _encode(self, new):
        if new.size == 0:
            return
        full = new.size == self.X.shape[0]            # ``new`` is sorted and unique: all rows
        h, cache = self.enc.forward(self.w, self.X if full else self.X[new])
        z, norms = normalize(h)
        if full:
            self.Z = z
        else:
            if self.Z is None:
                self.Z = np.zeros((self.X.shape[0], z.shape[1]))
            self.Z[new] = z
        self.have[new] = True
        self.chunks.append((new, z, norms, cache))

    def take(self, views: np.ndarray) -> np.ndarray:
        views = np.asarray(views, dtype=np.int64)
        missing = views[~self.have[views]]
        if missing.size:
            self._encode(np.unique(missing))
        return self.Z[views]

    def backward(self, gi: np.ndarray, gz: np.ndarray) -> np.ndarray:
        """``dL/dw`` from the gradient rows ``gz`` of the views ``gi`` (all encoded already)."""
        if len(self.chunks) == 1 and gi.size == self.X.shape[0] and self.chunks[0][0].size == gi.size:
            _, z, norms, cache = self.chunks[0]         # the whole table in one pass (exact negatives)
            return self.enc.backward(self.w, cache, normalize_backward(z, norms, gz))
        G = np.zeros_like(self.Z)
        G[gi] = gz
        g = np.zeros_like(self.w)
        for idx, z, norms, cache in self.chunks:
            g += self.enc.backward(self.w, cache, normalize_backward(z, norms, G[idx]))
        return g


def estimate_param_grad(enc, w: np.ndarray, X_views: np.ndarray, batch: np.ndarray, estimator, state, beta: float,
                        rng: np.random.Generator) -> np.ndarray:
    """One estimate of ``dL/dw`` from a batch of sample indices: the estimator's rows of
    ``dL/dZ`` back-propagated through the normalisation and the encoder.  Only the views the
    estimator reads are encoded (``estimator.needs`` first, any other on request)."""
    n = X_views.shape[0] // 2
    table = LazyEmbeddings(enc, w, X_views, estimator.needs(batch, n, state))
    gi, gz = estimator.estimate(batch, n, table, beta, state, rng)
    return table.backward(gi, gz)


# ----------------------------------------------------------------------------- the runner
class ContrastiveLearner:
    """SGD of ``R`` independent encoders (replicas) with a negative estimator each.

    Replica ``r`` has its own generator ``default_rng([seed, 10, r])`` (views, batches,
    chains), its own estimator state and its own view table (redrawn at every epoch, i.e.
    every ``floor(n / batch)`` steps, with a fresh permutation of the samples for the batches;
    ``circuit.fixed_views``: the one table of
    :func:`~neurocl.circuits.sample_contrastive.fixed_view_table`, for every replica and epoch).
    ``advance(k0, K)`` runs steps ``k0 .. k0 + K - 1`` in place on ``params["w"]``.

    ``profile`` (a non-ideal :class:`~neurocl.hardware.profile.HardwareProfile`): replica ``r``'s
    weights are held by a :class:`~neurocl.hardware.device.SynapseArray` (device draws and
    update noise from ``default_rng([seed, 6, r])``), as the two-branch runner does: every step
    the gradient is estimated at the weights a read sees (read noise, drift, quantisation), the
    ideal change ``-learning_rate * g_hat`` is requested from the devices (pulses, asymmetry,
    bounds, write noise, ``t_epoch``; ``dt`` ms per step for drift) and ``params["w"]`` becomes the next read.  ``None`` or an
    ideal profile: the plain update, bit for bit.
    """

    def __init__(self, circuit, x: np.ndarray, learning_rate: float, params: dict, seed: int, profile=None,
                 dt: float = 1.0):
        from neurocl.data.augment import make_views

        self._make_views = make_views
        self.circuit = circuit
        self.x = np.asarray(x, dtype=float)
        self.n = self.x.shape[0]
        if circuit.batch > self.n:
            raise ValueError(f"circuit.batch = {circuit.batch} exceeds the {self.n} training samples")
        self.lr = float(learning_rate)
        self.params = params
        self.enc = circuit.make_encoder()
        self.est = circuit.make_estimator()
        self.views = circuit.view_spec()
        R = params["w"].shape[0]
        self.rngs = [np.random.default_rng([seed, 10, r]) for r in range(R)]
        self.states = [self.est.init_state(self.n) for _ in range(R)]
        self.steps_per_epoch = self.n // circuit.batch
        self.tables = [None] * R
        self.orders = [None] * R
        self.step_time = 0.0
        self.fixed = None
        if getattr(circuit, "fixed_views", False):
            from neurocl.circuits.sample_contrastive import fixed_view_table

            self.fixed = fixed_view_table(self.x, self.views)
        self.devices, self.dt = None, float(dt)
        if profile is not None and not profile.is_ideal:
            from neurocl.hardware.device import SynapseArray

            self.devices = [SynapseArray(profile, params["w"][r], np.random.default_rng([seed, 6, r])) for r in range(R)]
            for r, dev in enumerate(self.devices):
                params["w"][r] = dev.read()

    def _epoch(self, r):
        rng = self.rngs[r]
        if self.fixed is not None:
            self.tables[r] = self.fixed
        else:
            self.tables[r] = np.vstack([self._make_views(self.x, self.views, rng),
                                        self._make_views(self.x, self.views, rng)])
        self.orders[r] = rng.permutation(self.n)

    def advance(self, k0: int, K: int) -> None:
        import time

        b = self.circuit.batch
        t0 = time.perf_counter()
        for r, w in enumerate(self.params["w"]):
            for k in range(k0, k0 + K):
                j = k % self.steps_per_epoch
                if j == 0 or self.tables[r] is None:
                    self._epoch(r)
                batch = self.orders[r][j * b:(j + 1) * b]
                g = estimate_param_grad(self.enc, w, self.tables[r], batch, self.est, self.states[r],
                                        self.circuit.beta, self.rngs[r])
                if self.devices is not None:
                    self.devices[r].request(-self.lr * g, self.dt)
                    w[...] = self.devices[r].read()
                    continue
                w -= self.lr * g
        self.step_time += time.perf_counter() - t0


def run_sample_contrastive(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="",
                           profile=None):
    """The numpy engine's runner for ``sample_contrastive`` circuits: one SGD step per
    ``sim.dt`` ms, per-step rate ``rule.learning_rate`` (rule ``sgd``), ``sim.replicas``
    independent encoders (seeds); initial weights from ``default_rng([seed + init_seed_offset, 0])``;
    a non-ideal hardware ``profile`` holds the encoder weights in device models
    (:class:`ContrastiveLearner`)."""
    from neurocl.engines.loop import run_checkpointed

    if params is None:
        params = circuit.init_params(np.random.default_rng([sim.seed + circuit.init_seed_offset, 0]), sim.replicas)
    learner = ContrastiveLearner(circuit, task.clamp, rule.learning_rate, params, sim.seed, profile=profile,
                                 dt=sim.dt)

    def info():
        steps = max(sim.n_steps, 1)
        return {"steps": sim.n_steps, "samples_accessed_per_step": circuit.batch,
                "wall_s_per_step": learner.step_time / (steps * sim.replicas)}

    return run_checkpointed(sim, task, learner.params, learner.advance, progress=progress, desc=desc,
                            block=max(1, sim.n_steps // 200), info=info)


class FixedSetting:
    """The fixed-parameter setting of the estimator checks (paper 002's estimators compared at
    fixed encoder parameters): ``X`` (2n views of n digits), the encoder ``enc`` at its initial
    weights ``w``, the exact loss ``L0`` (nats) and gradient ``g``, the exact Hessian ``H``
    (central differences of the exact gradient, step ``1e-5``, symmetrised) and its
    eigenvalues ``lam`` (ascending)."""

    def __init__(self, X, enc, w, beta, L0, g, H):
        self.X, self.enc, self.w, self.beta, self.L0, self.g, self.H = X, enc, w, beta, L0, g, H
        self.lam = np.linalg.eigvalsh(H)

    def grad(self, v: np.ndarray) -> np.ndarray:
        """The exact gradient of the global contrastive loss at weights ``v``."""
        return exact_loss_and_grad(self.enc, v, self.X, self.beta)[1]


def fixed_setting(n: int, d_out: int, beta: float, rng: np.random.Generator) -> FixedSetting:
    """``n`` digits (scikit-learn's, training split), two views each (the digits view defaults
    of :mod:`neurocl.data.augment`), a tanh single-layer encoder 64 -> ``d_out`` at its
    initial weights, and the exact loss, gradient and Hessian there."""
    from neurocl.circuits.encoders import make_encoder
    from neurocl.data.augment import VIEW_DEFAULTS, ViewSpec, make_views
    from neurocl.data.digits import load_digits_split

    x = load_digits_split()[0][:n]
    vs = ViewSpec(**VIEW_DEFAULTS["digits"])
    X = np.vstack([make_views(x, vs, rng), make_views(x, vs, rng)])
    enc = make_encoder("single", 64, d_out, activation="tanh")
    w = enc.init(rng)
    L0, g = exact_loss_and_grad(enc, w, X, beta)
    N, eps = enc.n_params, 1e-5
    H = np.empty((N, N))
    for i in range(N):
        e = np.zeros(N)
        e[i] = eps
        H[:, i] = (exact_loss_and_grad(enc, w + e, X, beta)[1] - exact_loss_and_grad(enc, w - e, X, beta)[1]) / (2 * eps)
    return FixedSetting(X, enc, w, beta, L0, g, 0.5 * (H + H.T))
