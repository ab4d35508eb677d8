"""The Brian2 engine: what is specific to it (random-scan BM sampling, devices, errors, rasters,
results files); the exact RBM law, the exact ISD drift, divergence, seeds and the fixed-point
grid are checked for every engine in ``tests/conformance``.

Everything here runs on Brian2's ``numpy`` target (no compilation); the bas3 agreement run
with the numpy engine is the ``slow`` test at the end (cython target, compiled once and cached).
"""

import numpy as np
import pytest

from neurocl.circuits import RBM, BoltzmannMachine
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.errors import ConfigError, UnsupportedFeatureError
from neurocl.hardware import load_profile
from neurocl.measure import (
    boltzmann_distribution,
    empirical_distribution,
    total_variation,
)
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


def _bas3_task():
    data = bars_and_stripes(3)
    return Task(clamp=data, evaluate=lambda q: {"w_max_abs": np.abs(q["W"]).max(axis=(1, 2))})


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
    ("shape 20", lambda: _engine().run(RBM(9, 2), ISD(1e-3), StochasticPhases(0.5, Gamma(5.0, 20.0)),
                                       _bas3_task(), Simulation(1.0, 10.0))),
    ("write_noise_std", lambda: _engine().run(RBM(9, 2), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)),
                                              _bas3_task(), Simulation(1.0, 10.0), profile=load_profile("pcm"))),
    ("shared_rounding", lambda: _engine().run(RBM(9, 2), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)),
                                              _bas3_task(), Simulation(1.0, 10.0), profile=load_profile("loihi2"))),
    ("hardware profiles", lambda: _engine().run(
        BoltzmannMachine(4), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)), Task(clamp=np.zeros((1, 4))),
        Simulation(1.0, 10.0), profile=load_profile("rram_hfo2"))),
])
def test_unsupported_combinations_name_engine_and_feature(what, make):
    with pytest.raises(UnsupportedFeatureError) as err:
        make()
    assert "brian2" in str(err.value) and what in str(err.value)


def test_declared_supports():
    sup = _engine().supports()
    assert sup["runs"] == {("rbm", "isd"), ("boltzmann", "isd")}
    assert sup["phases"] == {"alternating", "stochastic"}
    assert sup["phase_laws"] == {"fixed", "exponential", "gamma", "uniform"}
    assert sup["capabilities"] == {"free_run", "divergence", "float_weights"}
    assert "weight_bits" in sup["profile_fields"] and "write_noise_std" not in sup["profile_fields"]


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


def test_spiking_code_refuses_psp_longer_than_refractory_and_defaults_to_neural_sampling():
    """Buesing et al. 2011: offset ``-log tau`` (spike probability ``1/(1 + tau e^-u)``) and the
    unit on for the whole refractory period; the test-only wrong variants change exactly that."""
    from neurocl.engines.brian2.model import spiking_update_code

    code = spiking_update_code(5, False, None, True)
    assert "1/(1 + 5*exp(-(u + bias)))" in code and "s = int(zeta >= 0.5)" in code
    wrong = spiking_update_code(4, False, None, True, refractory_steps=5, log_tau_offset=False)
    assert "1/(1 + 1*exp(-(u + bias)))" in wrong and "s = int(zeta >= 1.5)" in wrong and "spike*5" in wrong
    with pytest.raises(ValueError, match="psp_steps"):
        spiking_update_code(6, False, None, True, refractory_steps=5)


@pytest.mark.slow
@pytest.mark.parametrize("psp_steps", [1, 20])
def test_spiking_units_sample_the_boltzmann_law_for_any_psp_length(psp_steps):
    """Neural sampling is exact for any PSP = refractory length tau (Buesing et al. 2011): the
    conformance stationary-law check (6 x 5 RBM, TV and per-state bounds from batch-means
    effective sample sizes) at tau = 1 step (Gibbs sampling) and tau = 20 steps (slow mixing:
    64 replicas x 16,000 steps)."""
    from conformance.checks import stationary_law

    stat, bound, detail = stationary_law(_engine(units="spiking", psp_steps=psp_steps), replicas=64, steps=16_000)
    assert stat <= bound, detail


def _mean_runs(P, on):
    """Mean on-run and off-run lengths (steps) of a stationary Markov chain with transition
    matrix ``P`` whose states ``on`` (bool mask) are the unit's on states."""
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(abs(w - 1))])
    pi /= pi.sum()
    flux_on_to_off = sum(pi[i] * P[i, j] for i in np.flatnonzero(on) for j in np.flatnonzero(~on))
    return pi[on].sum() / flux_on_to_off, pi[~on].sum() / flux_on_to_off


@pytest.mark.parametrize("psp_steps,dt", [(2, 1.0), (5, 0.5), (20, 0.1)])
def test_tau_n_mapping_equalises_mean_on_and_off_runs_at_zero_input(psp_steps, dt):
    """``matching_tau_n``: a Glauber unit with that ``tau_n`` has the mean on and off runs of a
    neural-sampling unit with ``psp_steps`` (exact discrete chains at ``u = 0``: refractory
    countdown ``zeta`` in 0..tau, spike with probability ``1/(1 + tau)`` when ``zeta <= 1``);
    ``tau_n -> tau / 2`` (``tau = psp_steps * dt``) as ``dt -> 0``."""
    from neurocl.engines.brian2.model import glauber_dwell_steps, matching_tau_n, spiking_dwell_steps

    tau = psp_steps
    q = 1.0 / (1.0 + tau)
    P = np.zeros((tau + 1, tau + 1))          # state zeta
    for zeta in range(tau + 1):
        if zeta <= 1:
            P[zeta, tau] += q
            P[zeta, 0] += 1 - q
        else:
            P[zeta, zeta - 1] = 1.0
    on_run, off_run = _mean_runs(P, np.arange(tau + 1) >= 1)
    assert on_run == pytest.approx(spiking_dwell_steps(psp_steps)) and off_run == pytest.approx(on_run)
    tau_n = matching_tau_n(psp_steps, dt)
    p = 1 - np.exp(-dt / tau_n)
    G = np.array([[1 - p / 2, p / 2], [p / 2, 1 - p / 2]])   # Glauber at u = 0: resample w.p. p, on w.p. 1/2
    g_on, g_off = _mean_runs(G, np.array([False, True]))
    assert g_on == pytest.approx(on_run) and g_off == pytest.approx(on_run)
    assert glauber_dwell_steps(tau_n, dt) == pytest.approx(on_run)
    # dt / ln((k+1)/(k-1)) = (k dt / 2)(1 - 1/(3k^2) + O(k^-4)): within 1/(2k^2) of tau / 2
    assert tau_n == pytest.approx(psp_steps * dt / 2, rel=1 / (2 * psp_steps ** 2))
