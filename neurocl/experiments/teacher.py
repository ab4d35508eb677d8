"""The ``teacher`` set-up: linear student-teacher regression with MSE, where gradient and
Hessian are exact (Ghosh et al., ICLR 2023, ``papers/003_*`` Appendix B).

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
