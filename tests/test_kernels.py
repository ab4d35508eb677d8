"""The event-driven RBM kernel is the dense kernel's algorithm: same trajectory in float64;
float32 gives the same learning statistics."""

import numpy as np
import pytest

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.errors import DivergenceError, UnsupportedFeatureError
from neurocl.measure import rbm_kl
from neurocl.phases import Alternating, Exponential, StochasticPhases
from neurocl.plasticity import ISD, TwoPhase

DATA = bars_and_stripes(3)


def _run(kernel, dtype="float64", seed=1, duration=20_000.0, replicas=3, rule=ISD(1e-3)):
    task = Task(clamp=DATA, evaluate=lambda p: {"kl_nats": [rbm_kl(p["W"][r].astype(float), p["a"][r].astype(float),
                                                                     p["c"][r].astype(float), DATA)
                                                              for r in range(p["W"].shape[0])]})
    sim = Simulation(dt=1.0, duration=duration, replicas=replicas, seed=seed, checkpoints=1, dtype=dtype)
    return get_engine("numpy", kernel=kernel).run(RBM(9, 16, init_scale=0.1), rule,
                                                  StochasticPhases(0.5, Exponential(10.0)), task, sim)


def test_event_kernel_reproduces_dense_kernel_in_float64():
    dense, event = _run("fused"), _run("event")
    for k in dense.params:
        np.testing.assert_allclose(event.params[k], dense.params[k], rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_float32_learns_like_float64():
    """6 replicas, 300 s of learning: mean final KL of float32 within 4 s.e. of float64."""
    f64 = _run("event", "float64", seed=2, duration=300_000.0, replicas=6).metrics["kl_nats"][-1]
    f32 = _run("event", "float32", seed=3, duration=300_000.0, replicas=6).metrics["kl_nats"][-1]
    assert f64.mean() < 3.0 and f32.mean() < 3.0
    se = np.sqrt(f64.var(ddof=1) / 6 + f32.var(ddof=1) / 6)
    assert abs(f64.mean() - f32.mean()) < 4 * se + 0.02, (f64, f32)


def test_event_kernel_limits():
    with pytest.raises(UnsupportedFeatureError, match="event kernel"):
        task = Task(clamp=DATA, evaluate=lambda p: {})
        get_engine("numpy", kernel="event").run(RBM(9, 16), TwoPhase(1e-3), Alternating(10.0), task,
                                                Simulation(dt=1.0, duration=100.0))
    with pytest.raises(DivergenceError):
        _run("event", rule=ISD(1e308), duration=500.0)


@pytest.mark.parametrize("rule", [__import__("neurocl").CDk(0.05, k=1), __import__("neurocl").PCD(0.05)],
                         ids=["cd1", "pcd"])
def test_discrete_time_references_learn_bas3(rule):
    """CD-1 and PCD (minibatch 10, 2000 updates, 3 replicas): KL well below the uniform 3.60."""
    task = Task(clamp=DATA, evaluate=lambda p: {"kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], DATA)
                                                              for r in range(p["W"].shape[0])]})
    traj = get_engine("numpy").run(RBM(9, 16, init_scale=0.1), rule, None, task,
                                   Simulation(dt=1.0, duration=2000.0, replicas=3, checkpoints=2))
    kl = traj.metrics["kl_nats"]
    assert kl[0].mean() > 3.5 and kl[-1].mean() < 2.5, kl


def test_kernel_refusal_comes_before_any_learner_runs(tmp_path, capsys):
    """bas3 lists ISD then TwoPhase; the event kernel cannot run TwoPhase: `neurocl run` refuses
    at once (the runner's preflight), before the ISD learner simulates or anything is written."""
    from pathlib import Path

    from neurocl.cli import main

    spec = (Path(__file__).resolve().parent.parent / "circuits" / "bas3.toml").read_text()
    bad = tmp_path / "bas3_event.toml"
    bad.write_text(spec.replace('engine = "numpy"', 'engine = { name = "numpy", kernel = "event" }'))
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--no-progress"]) == 2
    assert "event kernel" in capsys.readouterr().err
    assert not (out / "isd").exists()
