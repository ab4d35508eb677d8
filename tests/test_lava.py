"""The Lava engine: fixed-point encodings, deployment on the Loihi 2 emulator, on-chip ISD.

Every Lava run goes through ``run_isolated`` (a wall-clock limit; the runtime is stopped).
"""

import time

import numpy as np
import pytest

from neurocl.circuits import RBM, LayeredHopfield
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.engines.lava import deploy_hopfield, deploy_rbm, sample_kl
from neurocl.engines.lava.fixed_point import (int_to_weight, isd_scaling, logistic_noise_table, shift_for_scale,
                                              weight_to_int)
from neurocl.engines.lava.runtime import LavaRunError, LavaTimeoutError, run_isolated
from neurocl.errors import ConfigError, UnsupportedFeatureError
from neurocl.measure.exact import rbm_kl
from neurocl.measure.rbm_hessian import rbm_nll_grad_hessian
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD, TwoPhase

pytestmark = pytest.mark.lava


def _trained_bas3(steps=400, lr=3.0, seed=0):
    """An RBM 9-16 fitted to 3x3 bars-and-stripes by exact gradient descent (a float model)."""
    data = bars_and_stripes(3)
    rng = np.random.default_rng(seed)
    W, a, c = rng.normal(0, 0.1, (9, 16)), np.zeros(9), np.zeros(16)
    for _ in range(steps):
        _, g, _ = rbm_nll_grad_hessian(W, a, c, data)
        W -= lr * g[:144].reshape(9, 16)
        a -= lr * g[144:153]
        c -= lr * g[153:]
    return W, a, c, data


# ----------------------------------------------------------------------------- pure encodings
def test_logistic_noise_gives_sigmoid_firing_probability():
    table = logistic_noise_table(6, 16)
    for u in (-200, -64, -10, 0, 10, 64, 200):   # field in units of 2^-6
        p = np.mean(u + table > 0)
        assert abs(p - 1 / (1 + np.exp(-u / 64))) < 0.01, u


def test_weight_grid_and_shared_exponent():
    W = np.array([-9.0, -8.0, -1.03, 0.0, 0.5, 7.97, 9.0])
    w = weight_to_int(W, 8.0)
    assert w.min() >= -256 and w.max() <= 254 and np.all(w % 2 == 0)
    assert np.allclose(int_to_weight(w, 8.0)[2:5], [-1.0, 0.0, 0.5], atol=1 / 16)
    assert shift_for_scale(8.0) == 1      # 8/256 = 2^-5 network units per integer, fields in 2^-6
    with pytest.raises(ConfigError, match="power of two"):
        shift_for_scale(6.0)


def test_isd_scaling_represents_eta_and_b_or_says_why():
    sc = isd_scaling(2e-3, 1.0, 0.5, 8.0)
    assert abs(sc.eta - 2e-3) / 2e-3 < 0.1 and sc.b == 0.5 and sc.P == sc.N == 1
    sc = isd_scaling(2e-3, 1.0, 0.25, 8.0)
    assert abs(sc.b - 0.25) < 0.01 and sc.P == 3 * sc.N
    with pytest.raises(ConfigError, match="learning_rate"):
        isd_scaling(2e-5, 1.0, 0.5, 8.0)      # below one accumulator unit per update
    with pytest.raises(ConfigError, match="phases.b"):
        isd_scaling(2e-3, 1.0, 0.02, 8.0)


def test_sample_kl_is_zero_for_the_data_distribution():
    data = bars_and_stripes(3)
    counts = np.zeros(512)
    np.add.at(counts, data.astype(int) @ (2 ** np.arange(9)), 1)
    assert sample_kl(counts, data) == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- safety
def _sleep(s):
    time.sleep(s)
    return s


def _fail():
    raise ValueError("model failed")


def test_runs_are_time_limited_and_errors_come_back():
    t0 = time.time()
    with pytest.raises(LavaTimeoutError, match="did not finish within 2 s"):
        run_isolated(_sleep, 60, timeout=2.0)
    assert time.time() - t0 < 20
    with pytest.raises(LavaRunError, match="model failed"):
        run_isolated(_fail, timeout=60)
    assert run_isolated(_sleep, 0, timeout=60) == 0


def test_bad_inputs_are_rejected_before_lava_runs():
    W, a, c, data = _trained_bas3(steps=1)
    with pytest.raises(ConfigError, match="NaN"):
        deploy_rbm(W * np.nan, a, c, data)
    with pytest.raises(ConfigError, match="biases"):
        deploy_rbm(W, a[:3], c, data)
    with pytest.raises(ConfigError, match="tag"):
        deploy_rbm(W, a, c, data, tag="float")


# ----------------------------------------------------------------------------- deployment
@pytest.fixture(scope="module")
def bas3_model():
    return _trained_bas3()


@pytest.mark.parametrize("tag", ["fixed_pt", "floating_pt"])
def test_bas3_samples_on_the_emulator_match_the_float_model(bas3_model, tag):
    W, a, c, data = bas3_model
    exact = rbm_kl(W, a, c, data)
    res = deploy_rbm(W, a, c, data, tag=tag, sweeps=4000, replicas=16, timeout=300)
    # 64k samples; the sample KL's own error is ~0.02 nats here
    assert exact < 2.0          # a structured model (uniform: 3.60 nats)
    assert abs(res["kl_samples"] - exact) < 0.2, (res["kl_samples"], exact)


def test_wrong_weights_would_be_detected(bas3_model):
    W, a, c, data = bas3_model
    res = deploy_rbm(0.5 * W, a, c, data, sweeps=2000, replicas=16, timeout=300)
    assert abs(res["kl_samples"] - rbm_kl(W, a, c, data)) > 0.2


def _readout_trained_hopfield(x, y, n_hidden=128, seed=0):
    """Random input weights, output weights fitted by ridge regression on the relaxed hidden
    activity (a float model with real accuracy, built in seconds)."""
    rng = np.random.default_rng(seed)
    circ = LayeredHopfield(sizes=(64, n_hidden, 10), eval_time=5.0)
    W0 = rng.normal(0, 0.08, (64, n_hidden))
    b1 = rng.normal(0, 0.05, n_hidden)
    H = np.clip(x @ W0 + b1, 0, 1)
    Y = np.eye(10)[y] - 0.1
    W1 = np.linalg.solve(H.T @ H + 1.0 * np.eye(n_hidden), H.T @ Y)
    return circ, {"W0": W0, "b1": b1, "W1": W1, "b2": np.zeros(10)}


def test_digits_accuracy_on_the_emulator_within_2_points_of_float():
    from neurocl.data import load_digits_split

    x, y, xt, yt = load_digits_split(0.2, 0)
    circ, p = _readout_trained_hopfield(x, y)
    acc_float = np.mean(circ.predict({k: v[None] for k, v in p.items()}, xt[:200], 0.5).argmax(1) == yt[:200])
    assert acc_float > 0.8
    res = deploy_hopfield(circ, p, xt[:200], yt[:200], dt=0.5, tag="fixed_pt", timeout=300)
    assert abs(res["accuracy"] - acc_float) <= 0.02, (res["accuracy"], acc_float)
    res_f = deploy_hopfield(circ, p, xt[:200], yt[:200], dt=0.5, tag="floating_pt", timeout=300)
    assert res_f["accuracy"] == pytest.approx(acc_float, abs=1e-9)   # the float emulator is the same dynamics


# ----------------------------------------------------------------------------- on-chip learning
def _rule_job(tag, n):
    from neurocl.engines.lava.rbm import build_rbm
    from neurocl.engines.lava.runtime import run_steps

    R, nv, nh = 1, 2, 3
    W = np.zeros((R, nv, nh))
    net = build_rbm(W, np.full((R, nv), 10.0), np.full((R, nh), 10.0), tag=tag, weight_scale=8.0, seed=1,
                    patterns=np.ones((1, nv), int), phases=StochasticPhases(0.5, Exponential(3.0)), step_ms=1.0,
                    learning={"eta": 1e-2, "dt": 1.0, "b": 0.5}, record=n)
    try:
        ws = []
        for _ in range(n):
            run_steps(net["vis"], 1, tag)
            ws.append(np.asarray(net["fwd"].weights.get(), float).copy())
        bwd = np.asarray(net["bwd"].weights.get(), float)
        return np.array(ws), bwd, net["phase"].history.get()[:, 0], net["scaling"]
    finally:
        net["vis"].stop()


@pytest.mark.parametrize("tag", ["floating_pt", "fixed_pt"])
def test_on_chip_rule_is_isd_with_importance_weights(tag):
    """Units always on: every sweep changes W by +eta dt / b (positive) or -eta dt / (1 - b)."""
    n = 600
    ws, bwd, z, sc = run_isolated(_rule_job, tag, n, timeout=300)
    assert np.array_equal(bwd, ws[-1].T)        # the two LearningDense copies stay transposes
    dw = np.diff(np.concatenate([np.zeros((1,) + ws.shape[1:]), ws]), axis=0)[:, 0, 0]
    t = np.arange(2, n, 2)                      # learning steps (odd time steps, index t)
    zprev = z[t - 1]
    if tag == "floating_pt":
        assert np.allclose(dw[t][zprev == 1], 1e-2 / 0.5, rtol=1e-3) and np.allclose(dw[t][zprev == 0], -1e-2 / 0.5, rtol=1e-3)
        assert np.allclose(dw[1::2], 0.0)
    else:
        step = sc.Y * sc.P * 2**sc.exp / 128      # mean change in integer weights per coincidence
        for sign, sel in ((1, zprev == 1), (-1, zprev == 0)):
            d = dw[t][sel]
            se = d.std(ddof=1) / np.sqrt(len(d))
            assert abs(d.mean() - sign * step) < 4 * se + 1e-9, (sign, d.mean(), step, se)


def test_lava_engine_learns_and_reports_unsupported_features():
    eng = get_engine("lava", tag="fixed_pt")
    data = bars_and_stripes(3)
    task = Task(clamp=data, evaluate=lambda p: {"kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], data)
                                                          for r in range(len(p["W"]))]})
    tr = eng.run(RBM(9, 16), ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)), task,
                 Simulation(dt=1.0, duration=1000.0, replicas=2, checkpoints=2, seed=0))
    assert tr.metrics["kl_nats"].shape == (3, 2) and np.isfinite(tr.metrics["kl_nats"]).all()
    assert not np.allclose(tr.params["W"], RBM(9, 16).init_params(np.random.default_rng([0, 0]), 2)["W"])
    with pytest.raises(UnsupportedFeatureError, match="lava"):
        eng.run(RBM(9, 16), TwoPhase(1e-3), StochasticPhases(0.5, Exponential(1.0)), task, Simulation(1.0, 10.0))
    with pytest.raises(ConfigError, match="learning_rate"):
        eng.run(RBM(9, 16), ISD(2e-5), StochasticPhases(0.5, Exponential(1.0)), task, Simulation(1.0, 10.0))
