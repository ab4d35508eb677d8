"""Closed-form predictions of how gradient-estimator bias and variance change the loss.

Ghosh et al., *How gradient estimator variance and bias impact learning in neural networks*
(ICLR 2023; also Part IV of A. Ghosh's PhD thesis, McGill 2025).  The corrupted update (Eq. 1) is

    dw = dt * (-grad L + b*beta + sigma*sqrt(f(N))*n),

with ``n`` a unit-norm random direction with zero-mean i.i.d. elements, so that
``E[n n^T] = I / N`` and the total variance of the update direction is ``sigma^2 f(N)``.
Here the bias enters as the vector ``bias = b*beta`` and the noise as its total variance
``noise_var = sigma^2 f(N)``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "predict_delta_loss",
    "predict_delta_loss_cov",
    "predict_delta_loss_multistep",
    "hessian_trace",
    "noise_prevents_descent",
    "bias_allows_descent",
    "bias_descent_limit",
]


def _hvp(hessian_or_hvp):
    if callable(hessian_or_hvp):
        return hessian_or_hvp
    H = np.asarray(hessian_or_hvp, dtype=float)
    return lambda v: H @ v


def hessian_trace(hessian_or_hvp, n: int | None = None, rng=None, samples: int = 100) -> float:
    """``Tr H``: exact for a matrix; Hutchinson's estimator ``E[z^T H z]`` with Rademacher
    ``z`` (``samples`` draws from ``rng``) for a Hessian-vector-product callable of size ``n``."""
    if not callable(hessian_or_hvp):
        return float(np.trace(np.asarray(hessian_or_hvp, dtype=float)))
    if n is None or rng is None:
        raise ValueError("Hutchinson's estimator needs the dimension n and an rng")
    z = rng.choice([-1.0, 1.0], size=(samples, n))
    return float(np.mean([zi @ hessian_or_hvp(zi) for zi in z]))


def predict_delta_loss(grad, hessian_or_hvp, bias, noise_var: float, dt: float, N: int | None = None,
                       trace: float | None = None) -> float:
    """Expected extra loss change of one corrupted step over a true-gradient step (Lemma 2.1, Eq. 3).

    ``E[dL(b, sigma^2)] = <g, bias> dt + 1/2 bias^T H bias dt^2 - 1/2 g^T (H + H^T) bias dt^2
    + 1/2 (noise_var / N) Tr(H) dt^2``, with ``g`` the gradient and ``H`` the Hessian of the
    loss at the current weights; exact when the loss is quadratic.

    Parameters
    ----------
    grad : (N,) array
    hessian_or_hvp : (N, N) array, or a callable ``v -> H v``
    bias : (N,) array, the bias vector ``b*beta`` (zeros for none)
    noise_var : float, total noise variance ``sigma^2 f(N)`` of the update direction
    dt : float, step size
    N : int, number of parameters (default ``len(grad)``)
    trace : float, ``Tr H`` if already known (needed with a callable unless ``noise_var == 0``)
    """
    g = np.asarray(grad, dtype=float)
    bias = np.broadcast_to(np.asarray(bias, dtype=float), g.shape)
    N = g.size if N is None else N
    hvp = _hvp(hessian_or_hvp)
    Hb = hvp(bias)
    Hg = hvp(g)
    first = float(g @ bias) * dt
    second = 0.5 * float(bias @ Hb) - 0.5 * (float(g @ Hb) + float(bias @ Hg))
    if noise_var:
        tr = hessian_trace(hessian_or_hvp) if trace is None else trace
        second += 0.5 * noise_var / N * tr
    return first + second * dt**2


def predict_delta_loss_cov(grad, hessian, bias, cov, dt: float) -> float:
    """Lemma A.1 with a general noise covariance instead of isotropic noise.

    ``<g, bias> dt + 1/2 bias^T H bias dt^2 - 1/2 g^T (H + H^T) bias dt^2 + 1/2 Tr(H C) dt^2``
    where ``C`` is the covariance of the update direction (gradient units); for ``C = sigma^2
    f(N) I / N`` this is :func:`predict_delta_loss`.  Device noise is neither isotropic nor
    spread over every parameter (biases are ideal; shared rounding correlates synapses).
    """
    g = np.asarray(grad, float)
    H = np.asarray(hessian, float)
    bias = np.broadcast_to(np.asarray(bias, float), g.shape)
    first = float(g @ bias) * dt
    second = 0.5 * float(bias @ H @ bias) - 0.5 * float(g @ (H + H.T) @ bias) + 0.5 * float(np.sum(H * np.asarray(cov, float).T))
    return first + second * dt**2


def predict_delta_loss_multistep(grads, hessians, biases, noise_vars, dt: float) -> float:
    """Corollary A.2 (Eq. 19): expected extra loss after ``k`` corrupted steps, to ``O(dt^2)``.

    ``grads[i]``, ``hessians[i]`` at the true-gradient iterate ``w_i`` (``i = 0 .. k-1``),
    ``biases[i]`` and ``noise_vars[i]`` of step ``i + 1``.  Sum of the one-step terms plus the
    cross term ``dt^2 sum_i <H_i sum_{j<i} b_j, b_i - 2 g_i>``.
    """
    total, past = 0.0, None
    for g, H, b, s2 in zip(grads, hessians, biases, noise_vars):
        g = np.asarray(g, float)
        H = np.asarray(H, float)
        b = np.broadcast_to(np.asarray(b, float), g.shape)
        total += predict_delta_loss(g, H, b, s2, dt)
        if past is not None:
            total += dt**2 * float((H @ past) @ (b - 2 * g))
        past = b.copy() if past is None else past + b
    return total


def noise_prevents_descent(grad_norm: float, noise_var: float, dt: float, eigenvalues) -> bool:
    """Theorem 3.1 (Eq. 7): noise prevents descent, ``L[w + dw] > L[w]``, if the smallest
    Hessian eigenvalue exceeds ``(2 / dt) / (1 + sigma^2 f(N) / |g|^2)``.

    (With isotropic noise of total variance ``sigma^2 f(N)``, and the appendix's companion
    condition, descent is guaranteed when the largest eigenvalue is below the same bound.)
    """
    bound = (2.0 / dt) / (1.0 + noise_var / grad_norm**2)
    return float(np.min(eigenvalues)) > bound


def noise_descent_bound(grad_norm: float, noise_var: float, dt: float) -> float:
    """The curvature threshold ``(2/dt) / (1 + sigma^2 f(N)/|g|^2)`` of Theorem 3.1."""
    return (2.0 / dt) / (1.0 + noise_var / grad_norm**2)


def bias_descent_limit(hessian_eigenvalues, dt: float) -> float:
    """Theorem 3.2 (Eq. 8): largest relative bias ``b / |g|`` for which a step is guaranteed
    to decrease the loss: ``[2 / (1 + f + sqrt(1 + 4 f + f^2))] / sqrt(N)`` with
    ``f = psi dt``, ``psi = |H|_F = sqrt(sum lambda_i^2)``."""
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    f = float(np.sqrt(np.sum(lam**2))) * dt
    return (2.0 / (1.0 + f + np.sqrt(1.0 + 4.0 * f + f * f))) / np.sqrt(lam.size)


def bias_allows_descent(bias_norm_per_param: float, grad_norm: float, hessian_eigenvalues, dt: float) -> bool:
    """Theorem 3.2: the step decreases the loss if ``b / |g| <= bias_descent_limit``."""
    return bias_norm_per_param / grad_norm <= bias_descent_limit(hessian_eigenvalues, dt)


__all__.append("noise_descent_bound")
