"""The Brian2 engine: exact sampling, the exact ISD drift, devices, errors, results files.

Everything here runs on Brian2's ``numpy`` target (no compilation); the bas3 agreement run
with the numpy engine is the ``slow`` test at the end (cython target, compiled once and cached).
"""

import numpy as np
import pytest

from neurocl.circuits import RBM, BoltzmannMachine
from neurocl.circuits._math import sigmoid
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.errors import ConfigError, DivergenceError, UnsupportedFeatureError
from neurocl.hardware import load_profile
from neurocl.measure import (all_states, boltzmann_distribution, empirical_distribution,
                             rbm_visible_log_probs, total_variation)
from neurocl.phases import Exponential, Gamma, StochasticPhases
from neurocl.plasticity import ISD, TwoPhase

pytest.importorskip("brian2")


def _engine(**kw):
    return get_engine("brian2", target="numpy", record=0, **kw)


def test_free_running_5_unit_boltzmann_machine_matches_exact_law():
    """Random-scan Glauber on Brian2; 20 replicas x 20,000 steps of 0.1 ms; TV <= 0.03."""
    bm = BoltzmannMachine(5, tau_n=1.0)
    rng = np.random.default_rng(0)
    W = np.triu(rng.normal(0, 1.0, (5, 5)), 1)
    R = 20
    params = {"W": (W + W.T)[None].repeat(R, 0), "a": rng.normal(0, 0.5, (1, 5)).repeat(R, 0)}
    samples = _engine().free_run(bm, params, Simulation(dt=0.1, duration=2000.0, replicas=R, seed=1))
    exact = boltzmann_distribution(params["W"][0], params["a"][0])
    tv = total_variation(empirical_distribution(samples.reshape(-1, 5)), exact)
    assert tv <= 0.03, tv


@pytest.mark.parametrize("units", ["glauber", "spiking"])
def test_rbm_visible_marginal_matches_exact_law(units):
    """Glauber and neural-sampling spiking units: 10 replicas x 20,000 steps; TV <= 0.02."""
    rbm = RBM(4, 3)
    rng = np.random.default_rng(2)
    params = {"W": rng.normal(0, 1.0, (1, 4, 3)).repeat(10, 0), "a": rng.normal(0, 0.5, (1, 4)).repeat(10, 0),
              "c": rng.normal(0, 0.5, (1, 3)).repeat(10, 0)}
    samples = _engine(units=units).free_run(rbm, params, Simulation(dt=1.0, duration=20000.0, replicas=10, seed=3))
    exact = np.exp(rbm_visible_log_probs(params["W"][0], params["a"][0], params["c"][0], all_states(4)))
    assert total_variation(empirical_distribution(samples.reshape(-1, 4)), exact) <= 0.02


ETA, DURATION, R = 1e-9, 100_000.0, 8


@pytest.mark.parametrize("units", ["glauber", "spiking"])
def test_isd_drift_on_brian2_is_exact_gradient(units):
    """Same check as for the numpy engine: accumulated update / (eta T) = E_data - E_model."""
    data = bars_and_stripes(2)
    rng = np.random.default_rng(11)
    W, a, c = rng.normal(0, 0.8, (4, 3)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 3)
    states = all_states(4)
    p = np.exp(rbm_visible_log_probs(W, a, c, states))
    exact = (np.einsum("ni,nj->ij", data, sigmoid(data @ W + c)) / len(data)
             - np.einsum("n,ni,nj->ij", p, states, sigmoid(states @ W + c)))
    params = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}
    start = {k: v.copy() for k, v in params.items()}
    sim = Simulation(dt=1.0, duration=DURATION, replicas=R, seed=5, checkpoints=1)
    traj = _engine(units=units).run(RBM(4, 3), ISD(ETA), StochasticPhases(0.3, Exponential(20.0)),
                                    Task(clamp=data, evaluate=lambda q: {}), sim, params=start)
    est = (traj.params["W"] - W) / (ETA * DURATION)
    mean, se = est.mean(0), est.std(0, ddof=1) / np.sqrt(R)
    # 4 s.e. per parameter (12), plus 0.01 for the finite-phase (mixing) bias
    assert np.all(np.abs(mean - exact) < 4 * se + 0.01), (mean - exact) / se


def _bas3_task():
    data = bars_and_stripes(3)
    return Task(clamp=data, evaluate=lambda q: {"w_max_abs": np.abs(q["W"]).max(axis=(1, 2))})


def test_quantised_profile_keeps_weights_on_the_grid_and_learns():
    """Fixed-point grid (weight_bits) with independent stochastic rounding: every weight the
    network reads is a multiple of the grid step times weight_scale, within the range."""
    prof = load_profile("loihi2")
    import dataclasses

    prof = dataclasses.replace(prof, shared_rounding=False)
    sim = Simulation(dt=2.0, duration=4000.0, replicas=2, seed=0, checkpoints=1)
    traj = _engine().run(RBM(9, 4, init_scale=0.5), ISD(1e-2), StochasticPhases(0.5, Exponential(10.0)),
                         _bas3_task(), sim, profile=prof)
    W = traj.params["W"] / (prof.weight_scale * prof.quantum)
    np.testing.assert_allclose(W, np.round(W), atol=1e-9)
    assert np.abs(traj.params["W"]).max() <= prof.weight_scale * prof.w_max + 1e-12
    assert len(np.unique(np.round(W))) > 5  # weights moved on the grid


def test_asymmetric_bounded_device_stays_in_its_bounds():
    """rram_hfo2 (soft bounds, up/down asymmetry, c2c and d2d variation; read noise off)."""
    import dataclasses

    prof = dataclasses.replace(load_profile("rram_hfo2"), read_noise_std=0.0)
    sim = Simulation(dt=2.0, duration=4000.0, replicas=2, seed=0, checkpoints=1)
    traj = _engine().run(RBM(9, 4, init_scale=0.5), ISD(5e-2), StochasticPhases(0.5, Exponential(10.0)),
                         _bas3_task(), sim, profile=prof)
    scale = prof.weight_scale
    lim = scale * prof.w_max * (1 + 4 * prof.w_bounds_dtod)
    assert np.abs(traj.params["W"]).max() <= lim
    assert np.std(traj.params["W"]) > 0.1  # learning moved the weights


def test_profile_effects_change_the_learned_weights_against_ideal():
    """Same seed, same phases: the device (asymmetric pulses, c2c noise) changes the result."""
    import dataclasses

    prof = dataclasses.replace(load_profile("rram_hfo2"), read_noise_std=0.0)
    sim = Simulation(dt=2.0, duration=2000.0, replicas=1, seed=0, checkpoints=1)
    args = (RBM(9, 4, init_scale=0.1), ISD(1e-2), StochasticPhases(0.5, Exponential(10.0)), _bas3_task(), sim)
    ideal = _engine().run(*args).params["W"]
    device = _engine().run(*args, profile=prof).params["W"]
    assert np.abs(ideal - device).max() > 1e-3


@pytest.mark.parametrize("what,make", [
    ("rule 'twophase'", lambda: _engine().run(RBM(9, 2), TwoPhase(1e-3), StochasticPhases(0.5, Exponential(5.0)),
                                             _bas3_task(), Simulation(1.0, 10.0))),
    ("spiking units", lambda: _engine(units="spiking").run(
        BoltzmannMachine(4), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)),
        Task(clamp=np.zeros((1, 4))), Simulation(1.0, 10.0))),
    ("non-integer shape", lambda: _engine().run(RBM(9, 2), ISD(1e-3), StochasticPhases(0.5, Gamma(5.0, 2.5)),
                                                _bas3_task(), Simulation(1.0, 10.0))),
    ("write_noise_std", lambda: _engine().run(RBM(9, 2), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)),
                                              _bas3_task(), Simulation(1.0, 10.0), profile=load_profile("pcm"))),
])
def test_unsupported_combinations_name_engine_and_feature(what, make):
    with pytest.raises(UnsupportedFeatureError) as err:
        make()
    assert "brian2" in str(err.value) and what in str(err.value)


def test_divergence_is_reported_with_its_step():
    data = bars_and_stripes(2)
    sim = Simulation(dt=1.0, duration=2000.0, replicas=1, seed=0, checkpoints=2)
    with pytest.raises(DivergenceError) as err:
        _engine().run(RBM(4, 3), ISD(1e300), StochasticPhases(0.5, Exponential(5.0)), Task(clamp=data), sim)
    # eta = 1e300 overflows the fields within the first phases; the step is reported, not the end of the run
    assert 0 < err.value.step < sim.n_steps
    assert f"integration step {err.value.step}" in str(err.value)


def test_mis_shaped_data_is_a_config_error_before_building():
    with pytest.raises(ConfigError, match="task.clamp"):
        _engine().run(RBM(4, 2), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)), _bas3_task(),
                      Simulation(1.0, 10.0))


def test_bad_engine_options_name_the_field():
    with pytest.raises(ConfigError, match="units"):
        get_engine("brian2", units="lif")
    with pytest.raises(ConfigError, match="engine"):
        get_engine("brian2", colour="blue")


def test_run_writes_raster_and_weights(tmp_path):
    from neurocl.config import load_config
    from neurocl.experiments.run import run

    spec = tmp_path / "b.toml"
    spec.write_text("""
name = "tiny"
engine = { name = "brian2", target = "numpy", record = 40.0, units = "spiking" }
[circuit]
kind = "rbm"
n_visible = 4
n_hidden = 3
[data]
name = "bars_and_stripes"
size = 2
[simulation]
dt = 1.0
duration = 200.0
checkpoints = 2
[learners.isd]
rule = "isd"
learning_rate = 1e-3
phases = { kind = "stochastic", b = 0.5, length = { law = "exponential", mean = 10.0 } }
""")
    config = load_config(spec)
    assert config.engine == "brian2" and config.engine_options["units"] == "spiking"
    trajs = run(config, tmp_path / "out", progress=False, echo=None)
    raster = trajs["isd"].info["raster"]
    assert set(raster) == {"start", "end"} and raster["end"]["v"].shape == (4, 40)
    assert (tmp_path / "out" / "isd" / "raster.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "isd" / "weights.npz").is_file()
    # phases alternate in the record and units spike
    assert 0 < raster["start"]["z"].mean() < 1 and raster["start"]["h"].sum() > 0


@pytest.mark.slow
def test_bas3_isd_on_brian2_matches_numpy_engine():
    """bas3 default config (16,000 s, 5 seeds), ISD only: final KL within 0.15 nats (means)."""
    from pathlib import Path

    from neurocl.config import load_config
    from neurocl.experiments.tasks import make_task

    config = load_config(Path(__file__).resolve().parents[1] / "circuits" / "bas3.toml")
    spec = next(s for s in config.learners if s.label == "isd")
    task = make_task(config.circuit, config.data)
    sim = config.simulation
    ref = get_engine("numpy").run(config.circuit, spec.rule, spec.phases, task, sim)
    b2 = get_engine("brian2", target="cython", record=0).run(config.circuit, spec.rule, spec.phases, task, sim)
    kl_np, kl_b2 = ref.metrics["kl_nats"][-1].mean(), b2.metrics["kl_nats"][-1].mean()
    print(f"final KL (nats), mean of {sim.replicas} seeds: numpy {kl_np:.3f}, brian2 {kl_b2:.3f}")
    assert abs(kl_np - kl_b2) <= 0.15
