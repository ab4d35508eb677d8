"""Hardware profiles: schema validation, shipped presets, device effects, measured bias/variance."""

import numpy as np
import pytest

from neurocl.errors import ConfigError
from neurocl.hardware import HardwareProfile, SynapseArray, load_profile, shipped_profiles
from neurocl.hardware.device import device_update, draw_device_params, read_weights
from neurocl.measure.device_noise import update_statistics, variance_scaling


def test_shipped_profiles_load_and_cite_sources():
    names = set(shipped_profiles())
    assert {"ideal", "loihi2", "rram_hfo2", "pcm", "ecram"} <= names
    for n in names:
        p = load_profile(n)
        assert p.name == n and p.source
    assert load_profile("ideal").is_ideal and not load_profile("pcm").is_ideal


@pytest.mark.parametrize("text,match", [
    ("w_min = 1.0\nw_max = 1.0", r"w_min = 1 must be < w_max = 1"),
    ("w_min = -1.0\nw_max = 1.0\nup_down = 1.5", r"up_down = 1.5 is outside the allowed range \(-1, 1\)"),
    ("w_min = 0.0\nw_max = 1.0\nupdate = \"soft_bounds\"", r"needs w_min < 0 < w_max"),
    ("dw_min = -0.1", r"dw_min = -0.1 must be >= 0"),
    ("w_min = -1.0\nw_max = 1.0\nweight_bits = 40", r"weight_bits = 40 must be 0"),
    ("colour = 3", r"unknown key 'colour'"),
    ("w_min = [", r"malformed TOML"),
])
def test_bad_profiles(tmp_path, text, match):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_profile(p)


def test_unknown_profile_name():
    with pytest.raises(ConfigError, match="neither a shipped profile"):
        load_profile("memristor9000")


def _dev(profile, n, seed=0):
    return draw_device_params(profile, (n,), np.random.default_rng(seed))


def test_ideal_device_is_exact():
    p = HardwareProfile()
    w = np.linspace(-1, 1, 7)
    dw = np.linspace(-0.01, 0.01, 7)
    new, _ = device_update(p, _dev(p, 7), w, dw, np.random.default_rng(0))
    np.testing.assert_array_equal(new, w + dw)


def test_stochastic_rounding_is_unbiased_and_deterministic_rounding_is_not():
    """Requests of 0.3 pulses: stochastic rounding averages to 0.3 pulses (within 3 s.e. over
    20,000 synapses); nearest-integer rounding never moves (a bias of -0.3 pulses)."""
    n, req = 20_000, 0.3 * 0.01
    sto = HardwareProfile(w_min=-1, w_max=1, dw_min=0.01)
    det = HardwareProfile(w_min=-1, w_max=1, dw_min=0.01, rounding="deterministic")
    w = np.zeros(n)
    new, _ = device_update(sto, _dev(sto, n), w, np.full(n, req), np.random.default_rng(1))
    se = new.std(ddof=1) / np.sqrt(n)
    assert abs(new.mean() - req) < 3 * se
    new, _ = device_update(det, _dev(det, n), w, np.full(n, req), np.random.default_rng(1))
    assert np.all(new == 0.0)


def test_shared_rounding_correlates_errors():
    p_ind = HardwareProfile(w_min=-1, w_max=1, dw_min=0.01)
    p_sh = HardwareProfile(w_min=-1, w_max=1, dw_min=0.01, shared_rounding=True)
    rng = np.random.default_rng(2)
    errs = {}
    for name, p in (("ind", p_ind), ("sh", p_sh)):
        dev = _dev(p, 2)
        e = np.array([device_update(p, dev, np.zeros(2), np.full(2, 0.005), rng)[0] - 0.005 for _ in range(2000)])
        errs[name] = np.corrcoef(e.T)[0, 1]
    assert errs["sh"] > 0.99 and abs(errs["ind"]) < 0.1


def test_soft_bounds_and_asymmetry_give_systematic_bias():
    p = HardwareProfile(w_min=-1, w_max=1, dw_min=0.001, update="soft_bounds")
    dev = _dev(p, 2)
    up = device_update(p, dev, np.array([0.9, -0.9]), np.full(2, 0.01), np.random.default_rng(0))[0]
    step_near_max, step_near_min = up[0] - 0.9, up[1] + 0.9
    assert step_near_max == pytest.approx(0.01 * 0.1, rel=1e-9)  # (1 - w / w_max) = 0.1
    assert step_near_min == pytest.approx(0.01 * 1.9, rel=1e-9)
    asym = HardwareProfile(w_min=-1, w_max=1, dw_min=0.001, up_down=0.2)
    dev = _dev(asym, 1)
    w = np.zeros(1)
    for k in range(100):  # +0.01, -0.01, ... : ideally back to 0
        w, _ = device_update(asym, dev, w, np.array([0.01 if k % 2 == 0 else -0.01]), np.random.default_rng(k))
    assert w[0] > 0.1  # up steps 1.2 x, down 0.8 x dw_min: net upward drift


def test_write_noise_is_present_at_t0_and_drift_follows_power_law():
    """aihwkit drops programming noise at t = 0; here a read right after programming sees it."""
    p = HardwareProfile(w_min=-1, w_max=1, write_noise_std=0.02, drift_nu=0.1, drift_t0=10.0)
    arr = SynapseArray(p, np.zeros(10_000), np.random.default_rng(3))
    r0 = arr.read()
    assert r0.std() == pytest.approx(0.02 * 2.0, rel=0.05)
    arr.request(np.zeros(10_000), dt=1000.0)  # nothing written: 1000 ms of drift
    np.testing.assert_allclose(arr.read(), r0 * (1000.0 / 10.0) ** -0.1, rtol=1e-12)


def test_stuck_faults_quantisation_and_epochs():
    p = HardwareProfile(w_min=-1, w_max=1, stuck_fraction=0.1, stuck_value="max")
    arr = SynapseArray(p, np.zeros(20_000), np.random.default_rng(4))
    arr.request(np.full(20_000, -0.5))
    frac = np.mean(arr.read() == 1.0)
    assert abs(frac - 0.1) < 3 * np.sqrt(0.1 * 0.9 / 20_000)
    q = HardwareProfile(w_min=-1, w_max=1, weight_bits=4)
    r = read_weights(q, np.linspace(-1, 1, 101), None, np.random.default_rng(0))
    assert np.allclose(r / q.quantum, np.round(r / q.quantum))
    e = HardwareProfile(t_epoch=3)
    arr = SynapseArray(e, np.zeros(2), np.random.default_rng(0))
    arr.request(np.ones(2))
    arr.request(np.ones(2))
    np.testing.assert_array_equal(arr.read(), 0.0)
    arr.request(np.ones(2))
    np.testing.assert_array_equal(arr.read(), 3.0)


def test_measured_bias_and_variance():
    """Constant-step device with multiplicative c2c noise, requests of exactly 2 pulses:
    no bias; variance per synapse (step * std)^2 * 2 pulses, in gradient units."""
    p = HardwareProfile(w_min=-1, w_max=1, dw_min=0.01, dw_min_std=0.2)
    n, scale = 50, 0.02
    u = np.full(n, 0.02)
    st = update_statistics(p, np.zeros(n), u, scale, np.random.default_rng(5), draws=2000)
    expected = n * (0.01 * 0.2) ** 2 * 2 / scale**2
    assert st.noise_var == pytest.approx(expected, rel=0.1)
    assert st.bias_norm < 4 * np.sqrt(expected / 2000)
    asym = HardwareProfile(w_min=-1, w_max=1, dw_min=0.01, up_down=0.3)
    st = update_statistics(asym, np.zeros(n), u, scale, np.random.default_rng(5), draws=200)
    assert st.cos_bias_descent > 0.99  # larger up steps: bias along the requested update
    sizes = [10, 40, 160]
    var, a = variance_scaling(p, sizes, 0.01, np.random.default_rng(6), draws=200)
    assert a == pytest.approx(1.0, abs=0.15)  # independent synapses: f(N) ~ N


def test_engine_runs_on_device_weights():
    """bas2 RBM on the loihi2 profile: the weights the network uses stay on the 8-bit grid
    (in network units: multiples of weight_scale * quantum) while learning moves them."""
    from neurocl.circuits import RBM
    from neurocl.data import DataSpec
    from neurocl.engines import Simulation, get_engine
    from neurocl.experiments.tasks import make_task
    from neurocl.phases import Exponential, StochasticPhases
    from neurocl.plasticity import ISD

    prof = load_profile("loihi2")
    rbm = RBM(4, 3, init_scale=0.5)
    task = make_task(rbm, DataSpec("bars_and_stripes", size=2))
    sim = Simulation(dt=1.0, duration=2000.0, replicas=2, checkpoints=1)
    traj = get_engine("numpy").run(rbm, ISD(0.01), StochasticPhases(0.5, Exponential(5.0)), task, sim,
                                   profile=prof)
    W = traj.params["W"] / (prof.weight_scale * prof.quantum)
    np.testing.assert_allclose(W, np.round(W), atol=1e-9)
    start = rbm.init_params(np.random.default_rng([0, 0]), 2)["W"] / (prof.weight_scale * prof.quantum)
    assert not np.allclose(W, np.round(start))


def test_cli_profiles_and_run_with_profile(tmp_path):
    import subprocess
    import sys

    from test_config import GOOD

    res = subprocess.run([sys.executable, "-m", "neurocl", "profiles"], capture_output=True, text=True)
    assert res.returncode == 0 and "rram_hfo2" in res.stdout and "loihi2" in res.stdout
    spec = tmp_path / "tiny.toml"
    spec.write_text(GOOD)
    res = subprocess.run([sys.executable, "-m", "neurocl", "run", str(spec), "--out", str(tmp_path / "o"),
                          "--profile", "pcm", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert 'profile = "pcm"' in (tmp_path / "o" / "config.toml").read_text()
    assert "drift_nu = 0.05" in (tmp_path / "o" / "profile.toml").read_text()
    res = subprocess.run([sys.executable, "-m", "neurocl", "run", str(spec), "--profile", "nope"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "neither a shipped profile" in res.stderr


def test_reset_to_sets_the_devices_to_the_weights_and_clears_pending_updates():
    """``SynapseArray.reset_to(w)``: stored weights equal ``w`` (no programming noise), nothing
    pending; a later update starts from there."""
    prof = load_profile("pcm")      # with programming (write) noise, which reset_to must not add
    rng = np.random.default_rng(0)
    w = 0.01 * rng.standard_normal((5, 4))
    sa = SynapseArray(prof, np.zeros((5, 4)), rng)
    sa.request(0.3 * np.ones((5, 4)), 1.0)
    sa.reset_to(w)
    inside = (w / prof.weight_scale >= sa.dev.w_min) & (w / prof.weight_scale <= sa.dev.w_max)
    assert inside.any()
    np.testing.assert_allclose((prof.weight_scale * sa.stored)[inside], w[inside], rtol=0, atol=1e-15)
    assert not sa.pending.any() and not sa.tag.any() and sa.calls == 0
