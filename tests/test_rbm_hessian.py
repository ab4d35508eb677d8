import numpy as np
import pytest

from neurocl.data import bars_and_stripes
from neurocl.measure import rbm_nll
from neurocl.measure.rbm_hessian import flatten, rbm_nll_grad_hessian, unflatten


def test_gradient_and_hessian_match_finite_differences():
    """Central differences of the exact NLL (h = 1e-5: truncation O(h^2) ~ 1e-10)."""
    rng = np.random.default_rng(0)
    data = bars_and_stripes(2)
    W, a, c = rng.normal(0, 0.7, (4, 3)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 3)
    theta = flatten(W, a, c)
    nll, g, H = rbm_nll_grad_hessian(W, a, c, data)
    f = lambda t: rbm_nll(*unflatten(t, 4, 3), data)  # noqa: E731
    assert nll == pytest.approx(f(theta))
    h = 1e-5
    eye = np.eye(theta.size)
    g_fd = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(g, g_fd, atol=1e-8)

    def grad_at(t):
        return rbm_nll_grad_hessian(*unflatten(t, 4, 3), data)[1]

    H_fd = np.array([(grad_at(theta + h * e) - grad_at(theta - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(H, H_fd, atol=1e-7)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
