"""Theorems 2.2 and 2.3 (Ghosh et al. ICLR 2023): at a fixed total noise variance
(``f(N)`` constant, ``|e| = 1``), the extra loss from update noise falls with depth for linear
students and is lower for ReLU students with the same weights.

Set-up (Appendix B.2, reduced where stated): teacher a 4-layer width-25 ReLU network,
``d = 25``, inputs ``U[0,1]``, 1000 samples (the paper uses 5000: the Hessian trace per
parameter does not depend on the sample count beyond Monte Carlo error, and 1000 keeps
the 20 x 20 seed run under a minute); students of width 25 and depth {2, 4, 6, 8} at
Xavier initialisation (the theorem's assumption); step ``dt = 0.01``; 16 antithetic noise
pairs per network.
"""

import numpy as np
import pytest

from neurocl.experiments.teacher import mlp_forward, mlp_init, variance_impact


def _impacts(n_teachers, n_students, depths=(2, 4, 6, 8)):
    out = {}
    for relu in (False, True):
        for depth in depths:
            vals = []
            for ts in range(n_teachers):
                rt = np.random.default_rng([1, ts])
                X = rt.uniform(0, 1, (1000, 25))
                y = mlp_forward(mlp_init([25] * 4 + [1], rt), X, True)[0][:, 0]
                for ss in range(n_students):
                    rs = np.random.default_rng([2, ts, ss])
                    ws = mlp_init([25] * depth + [1], rs)
                    vals.append(variance_impact(ws, X, y, relu, 1.0, 1e-2, 16, rs)[0])
            out[(relu, depth)] = (np.mean(vals), np.std(vals, ddof=1) / np.sqrt(len(vals)))
    return out


def test_depth_and_relu_lower_the_impact_of_variance_small():
    """5 teachers x 5 students, depths 2 and 8 (fast): depth 8 below depth 2 by > 3 s.e.;
    ReLU below linear at both depths."""
    r = _impacts(5, 5, (2, 8))
    for relu in (False, True):
        (m2, s2), (m8, s8) = r[(relu, 2)], r[(relu, 8)]
        assert m2 - m8 > 3 * np.hypot(s2, s8), (relu, r)
    for depth in (2, 8):
        assert r[(True, depth)][0] < r[(False, depth)][0]


@pytest.mark.slow
def test_depth_and_relu_lower_the_impact_of_variance_20x20():
    """20 teachers x 20 students: linear impact strictly decreasing over depth 2, 4, 6, 8
    (each step > 2 s.e.); ReLU below linear at every depth (> 3 s.e.)."""
    r = _impacts(20, 20)
    lin = [r[(False, d)] for d in (2, 4, 6, 8)]
    for (ma, sa), (mb, sb) in zip(lin[:-1], lin[1:]):
        assert ma - mb > 2 * np.hypot(sa, sb), lin
    for d in (2, 4, 6, 8):
        (ml, sl), (mr, sr) = r[(False, d)], r[(True, d)]
        assert ml - mr > 3 * np.hypot(sl, sr), (d, r)
