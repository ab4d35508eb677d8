"""NaN/inf is detected at the integration step where it appears, on both numpy paths
(TwoPhase and Hopfield here; ISD on every engine in ``tests/conformance``)."""

import numpy as np
import pytest

from neurocl.circuits import RBM, LayeredHopfield
from neurocl.data import DataSpec
from neurocl.engines import Simulation, get_engine
from neurocl.errors import DivergenceError
from neurocl.experiments.tasks import make_task
from neurocl.phases import Alternating
from neurocl.plasticity import ISD, TwoPhase


@pytest.mark.parametrize("kernel", ["fused", "reference"])
@pytest.mark.parametrize("rule", [TwoPhase(1e308)], ids=["twophase"])
def test_rbm_divergence_time(kernel, rule):
    rbm = RBM(4, 3)
    task = make_task(rbm, DataSpec("bars_and_stripes", size=2))
    sim = Simulation(dt=0.5, duration=100.0, replicas=2, checkpoints=1)
    with pytest.raises(DivergenceError) as info:
        get_engine("numpy", kernel=kernel).run(rbm, rule, Alternating(2.0), task, sim)
    err = info.value
    assert 0 < err.time < 100.0 and err.time == pytest.approx(err.step * 0.5)
    assert f"t = {err.time:g} ms" in str(err)


def test_finite_weights_at_sane_rates_run_to_the_end():
    rbm = RBM(4, 3)
    task = make_task(rbm, DataSpec("bars_and_stripes", size=2))
    sim = Simulation(dt=0.5, duration=100.0, replicas=2, checkpoints=2)
    traj = get_engine("numpy").run(rbm, ISD(0.01), Alternating(2.0), task, sim)
    assert np.all(np.isfinite(traj.params["W"]))
    assert traj.times[-1] == pytest.approx(100.0)


def test_hopfield_divergence():
    net = LayeredHopfield((64, 8, 10))
    task = make_task(net, DataSpec("digits"))
    sim = Simulation(dt=0.5, duration=50.0, replicas=1, checkpoints=1)
    with pytest.raises(DivergenceError):
        get_engine("numpy").run(net, ISD(1e308), Alternating(2.0), task, sim)


def test_errors_survive_pickling():
    import pickle

    from neurocl.errors import UnsupportedFeatureError

    e = pickle.loads(pickle.dumps(DivergenceError("W", 2.5, 5)))
    assert (e.time, e.step) == (2.5, 5) and "t = 2.5 ms" in str(e)
    u = pickle.loads(pickle.dumps(UnsupportedFeatureError("lava", "rule 'cdk'")))
    assert "engine 'lava' does not support rule 'cdk'" == str(u)
