"""The numpy engine's TwoPhase drift is the exact CL gradient, on both numpy paths (ISD's is
checked on every engine by ``tests/conformance``).

With a negligible learning rate the weights stay put, so the accumulated update divided by
``eta * duration`` estimates ``E_data[v h] - E_model[v h]`` (mean-field statistic) of a fixed
RBM, which we know exactly by enumeration.  8 replicas give a per-parameter standard error.
"""

import numpy as np
import pytest

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.measure.exact import rbm_nll_grad
from neurocl.phases import Alternating
from neurocl.plasticity import TwoPhase

ETA = 1e-9
DURATION = 100_000.0
R = 8


@pytest.fixture(scope="module")
def fixed_rbm():
    data = bars_and_stripes(2)
    rng = np.random.default_rng(11)
    rbm = RBM(4, 3)
    W, a, c = rng.normal(0, 0.8, (4, 3)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 3)
    exact = -rbm_nll_grad(W, a, c, data)[0]
    params = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}
    return rbm, Task(clamp=data, evaluate=lambda q: {}), params, exact


@pytest.mark.parametrize("kernel", ["fused", pytest.param("reference", marks=pytest.mark.slow)])
@pytest.mark.parametrize("rule,phases", [(TwoPhase(ETA), Alternating(20.0))], ids=["twophase"])
def test_mean_drift_is_exact_gradient(fixed_rbm, kernel, rule, phases):
    rbm, task, params, exact = fixed_rbm
    start = {k: v.copy() for k, v in params.items()}
    sim = Simulation(dt=1.0, duration=DURATION, replicas=R, seed=5, checkpoints=1)
    traj = get_engine("numpy", kernel=kernel).run(rbm, rule, phases, task, sim, params=start)
    est = (traj.params["W"] - params["W"]) / (ETA * DURATION)
    mean, se = est.mean(0), est.std(0, ddof=1) / np.sqrt(R)
    # 4 s.e. per parameter (12 parameters), plus 0.01 for the finite-phase (mixing) bias
    assert np.all(np.abs(mean - exact) < 4 * se + 0.01), (mean - exact) / se
