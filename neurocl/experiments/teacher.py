"""The ``teacher`` set-up: linear student-teacher regression with MSE, where gradient and
Hessian are exact (Ghosh et al., ICLR 2023, Appendix B).

Loss ``L(w) = (1/n) sum_i (x_i . w - y_i)^2`` (``summed=True``: no ``1/n``), gradient
``g = (2/n) X^T (X w - y)``, Hessian ``H = (2/n) X^T X``.  Being quadratic, the second-order
expansion of Lemma 2.1 is exact, so prediction and measurement differ only by Monte Carlo
error over the noise draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LinearTeacher", "random_directions", "corrupted_step_extra_loss"]


@dataclass
class LinearTeacher:
    """Inputs ``X`` (n x d), targets ``y = X w_teacher``; MSE of a linear student."""

    X: np.ndarray
    y: np.ndarray
    summed: bool = False

    @classmethod
    def uniform(cls, d: int, n: int, rng: np.random.Generator, summed: bool = False):
        """``X ~ U[0, 1]^(n x d)``, teacher weights as a default-initialised linear layer
        (``U[-1/sqrt(d), 1/sqrt(d)]``), Appendix B."""
        X = rng.uniform(0.0, 1.0, (n, d))
        w = rng.uniform(-1 / np.sqrt(d), 1 / np.sqrt(d), d)
        return cls(X, X @ w, summed)

    @classmethod
    def with_singular_values(cls, singular_values, n: int, rng: np.random.Generator, summed: bool = True):
        """Inputs whose singular values are ``singular_values`` (Fig. 7 set-up): with the summed
        loss the Hessian eigenvalues are ``2 s^2``."""
        s = np.asarray(singular_values, float)
        d = s.size
        U, _ = np.linalg.qr(rng.standard_normal((n, d)))
        V, _ = np.linalg.qr(rng.standard_normal((d, d)))
        X = U @ np.diag(s) @ V.T
        w = rng.uniform(-1 / np.sqrt(d), 1 / np.sqrt(d), d)
        return cls(X, X @ w, summed)

    @property
    def _scale(self) -> float:
        return 1.0 if self.summed else 1.0 / len(self.y)

    def loss(self, w: np.ndarray) -> np.ndarray:
        """``L(w)`` for one weight vector or a stack of them (rows)."""
        r = np.atleast_2d(w) @ self.X.T - self.y
        out = self._scale * np.sum(r**2, axis=-1)
        return out if np.ndim(w) > 1 else float(out[0])

    def grad(self, w: np.ndarray) -> np.ndarray:
        return 2 * self._scale * self.X.T @ (self.X @ w - self.y)

    def hessian(self) -> np.ndarray:
        return 2 * self._scale * self.X.T @ self.X


def random_directions(n_pairs: int, dim: int, norm: float, rng: np.random.Generator) -> np.ndarray:
    """``2 n_pairs`` isotropic vectors of fixed ``norm`` in antithetic pairs ``(e, -e)``.

    Zero-sum repeats (Appendix B.2): the draws sum to exactly 0, so the first-order noise
    term averages to 0 and only the second-order term ``1/2 e^T H e dt^2`` remains.
    """
    e = rng.standard_normal((n_pairs, dim))
    e *= norm / np.linalg.norm(e, axis=1, keepdims=True)
    return np.concatenate([e, -e])


def corrupted_step_extra_loss(task: LinearTeacher, w: np.ndarray, bias: np.ndarray, noise_norm: float,
                              dt: float, n_pairs: int, rng: np.random.Generator):
    """Measured extra loss change of a corrupted step over the true-gradient step.

    A control student takes ``w - dt g``; copies from the same weights take
    ``w + dt (-g + bias + e)`` for each noise draw ``e``.  Returns the mean over draws of
    ``L(copy) - L(control)`` and its standard error (pairs averaged first, so the antithetic
    structure is respected).
    """
    g = task.grad(w)
    control = task.loss(w - dt * g)
    E = random_directions(n_pairs, w.size, noise_norm, rng)
    copies = task.loss(w[None, :] + dt * (-g + bias)[None, :] + dt * E)
    extra = copies - control
    pair_means = 0.5 * (extra[:n_pairs] + extra[n_pairs:])
    se = pair_means.std(ddof=1) / np.sqrt(n_pairs) if n_pairs > 1 else 0.0
    return float(pair_means.mean()), float(se)


# --- multilayer students (Theorems 2.2 and 2.3) -------------------------------------------

def mlp_init(sizes, rng: np.random.Generator) -> list:
    """Bias-free weights with Xavier (Glorot) uniform initialisation, ``sizes = (d, h, ..., 1)``."""
    return [rng.uniform(-np.sqrt(6 / (a + b)), np.sqrt(6 / (a + b)), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]


def mlp_forward(ws, X, relu: bool):
    """Output of the network and the list of layer activations (input first)."""
    acts = [X]
    h = X
    for i, W in enumerate(ws):
        h = h @ W
        if relu and i < len(ws) - 1:
            h = np.maximum(h, 0.0)
        acts.append(h)
    return h, acts


def mlp_loss(ws, X, y, relu: bool) -> float:
    """Mean squared error ``mean (f(x) - y)^2``."""
    out, _ = mlp_forward(ws, X, relu)
    return float(np.mean((out[:, 0] - y) ** 2))


def mlp_grad(ws, X, y, relu: bool) -> list:
    """Exact gradient of :func:`mlp_loss` by back-propagation."""
    out, acts = mlp_forward(ws, X, relu)
    delta = (2.0 / len(y)) * (out - y[:, None])
    grads = [None] * len(ws)
    for i in range(len(ws) - 1, -1, -1):
        grads[i] = acts[i].T @ delta
        if i:
            delta = delta @ ws[i].T
            if relu:
                delta = delta * (acts[i] > 0)
    return grads


def variance_impact(ws, X, y, relu: bool, noise_norm: float, dt: float, n_pairs: int,
                    rng: np.random.Generator):
    """Measured extra loss change from update noise alone (Lemma 2.1's variance term):
    mean over antithetic noise pairs of ``L(w - dt g + dt e) - L(w - dt g)``, ``|e| = noise_norm``
    over all parameters (``sigma^2 f(N) = noise_norm^2``, the same for every network size).
    Returns ``(mean, standard error)``."""
    g = mlp_grad(ws, X, y, relu)
    base = [W - dt * G for W, G in zip(ws, g)]
    control = mlp_loss(base, X, y, relu)
    shapes = [W.shape for W in ws]
    sizes = [W.size for W in ws]
    E = random_directions(n_pairs, sum(sizes), noise_norm, rng)
    extra = []
    for e in E:
        parts = np.split(e, np.cumsum(sizes)[:-1])
        extra.append(mlp_loss([B + dt * p.reshape(s) for B, p, s in zip(base, parts, shapes)], X, y, relu) - control)
    extra = np.array(extra)
    pairs = 0.5 * (extra[:n_pairs] + extra[n_pairs:])
    return float(pairs.mean()), float(pairs.std(ddof=1) / np.sqrt(n_pairs))


__all__ += ["mlp_init", "mlp_forward", "mlp_loss", "mlp_grad", "variance_impact"]


def mlp_flat_grad(ws, X, y, relu: bool) -> np.ndarray:
    """Gradient of :func:`mlp_loss` as one flat vector."""
    return np.concatenate([G.ravel() for G in mlp_grad(ws, X, y, relu)])


def mlp_unflatten(theta, ws) -> list:
    """Weights shaped like ``ws`` from a flat vector."""
    sizes = [W.size for W in ws]
    return [p.reshape(W.shape) for p, W in zip(np.split(theta, np.cumsum(sizes)[:-1]), ws)]


def mlp_hessian(ws, X, y, relu: bool, h: float = 1e-5) -> np.ndarray:
    """Hessian of :func:`mlp_loss` by central differences of the exact gradient (one pair of
    gradients per parameter), symmetrised.  For ReLU networks this is the Hessian of the
    piecewise-quadratic loss away from activation kinks."""
    theta = np.concatenate([W.ravel() for W in ws])
    H = np.empty((theta.size, theta.size))
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        H[i] = (mlp_flat_grad(mlp_unflatten(theta + e, ws), X, y, relu)
                - mlp_flat_grad(mlp_unflatten(theta - e, ws), X, y, relu)) / (2 * h)
    return 0.5 * (H + H.T)


__all__ += ["mlp_flat_grad", "mlp_unflatten", "mlp_hessian"]


# --- Fig. 7 set-ups (Theorems 3.1 and 3.2) --------------------------------------------------

def noise_descent_probability(lam_max: float, inr: float, eta: float = 0.01, seeds: int = 20,
                              pairs: int = 5, seed: int = 3):
    """Fraction of student seeds whose mean one-step loss change under noise is <= 0.

    Linear student, summed MSE, ``d = 25``, ``n = 500``; input singular values
    ``linspace(s/2, s, 25)`` with ``2 s^2 = lam_max`` (Hessian eigenvalues ``lam_max/4 ..
    lam_max``); noise norm ``inr * |grad|`` over ``pairs`` antithetic pairs.  Returns
    ``(probability, task)``.
    """
    s = np.sqrt(lam_max / 2.0)
    task = LinearTeacher.with_singular_values(np.linspace(s / 2, s, 25), 500, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    down = 0
    for _ in range(seeds):
        w = rng.uniform(-0.2, 0.2, 25)
        g = task.grad(w)
        E = random_directions(pairs, 25, inr * np.linalg.norm(g), rng)
        down += task.loss(w[None] + eta * (-g[None] + E)).mean() <= task.loss(w)
    return down / seeds, task


def bias_descent_probability(relative_bias: float, eta: float = 1e-3, seeds: int = 20,
                             rng: np.random.Generator | None = None) -> float:
    """Fraction of seeds whose step with a bias along the gradient (``b = relative_bias |g|``)
    does not increase the loss: ``d = 1``, summed MSE with Hessian 50 (singular value 5)."""
    task = LinearTeacher.with_singular_values([5.0], 1000, np.random.default_rng(5))
    rng = rng if rng is not None else np.random.default_rng(6)
    ok = 0
    for _ in range(seeds):
        w = rng.uniform(-3, 3, 1)
        g = task.grad(w)
        ok += task.loss(w + eta * (-g + relative_bias * g)) <= task.loss(w)
    return ok / seeds


__all__ += ["noise_descent_probability", "bias_descent_probability"]
