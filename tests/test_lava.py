"""The Lava engine: fixed-point encodings, deployment on the Loihi 2 emulator, on-chip ISD.

Every Lava run goes through ``run_isolated`` (a wall-clock limit; the runtime is stopped).
``fixed_pt`` runs on the grid of the ``loihi2`` hardware profile (its ``weight_scale``).
"""

import dataclasses
import time

import numpy as np
import pytest

from neurocl.circuits import RBM, LayeredHopfield
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.engines.lava import deploy_hopfield, deploy_rbm, ideal_isd_update, learning_window, sample_kl
from neurocl.engines.lava.fixed_point import (int_to_weight, isd_scaling, logistic_noise_table, shift_for_scale,
                                              MAX_ACCUMULATOR_BITS, tag_carry_rules, weight_to_int)
from neurocl.engines.lava.runtime import LavaRunError, LavaTimeoutError, run_isolated
from neurocl.errors import ConfigError, UnsupportedFeatureError
from neurocl.hardware import load_profile
from neurocl.measure.exact import rbm_kl
from neurocl.measure.rbm_hessian import rbm_nll_grad_hessian
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD, TwoPhase

pytestmark = pytest.mark.lava

LOIHI2 = load_profile("loihi2")
LOIHI2_TAG = load_profile("loihi2_tag")


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
    # with a 4-bit tag the products count in 1/16 weight steps: eta 1e-3 is 1.03 tag units per
    # coincidence (0.064 weight steps), and a rate 16 times below the weight's floor is representable
    sc = isd_scaling(1e-3, 1.0, 0.5, 8.0, accumulator_bits=4)
    assert sc.accumulator_bits == 4 and abs(sc.eta - 1e-3) / 1e-3 < 0.01
    assert abs(sc.step - 1e-3 / 0.5 * 256 / 8.0) < 0.01 * sc.step and set(sc.rules) == {"dw", "dd", "dt"}
    assert isd_scaling(3e-5, 1.0, 0.5, 8.0, accumulator_bits=4).accumulator_bits == 4
    with pytest.raises(ConfigError, match="learning_rate"):
        isd_scaling(3e-5, 1.0, 0.5, 8.0)


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
    res = deploy_rbm(W, a, c, data, tag=tag, weight_scale=LOIHI2.weight_scale, sweeps=4000, replicas=16, timeout=300)
    # 64k samples; the sample KL's own error is ~0.02 nats here
    assert exact < 2.0          # a structured model (uniform: 3.60 nats)
    assert abs(res["kl_samples"] - exact) < 0.2, (res["kl_samples"], exact)


def test_wrong_weights_would_be_detected(bas3_model):
    W, a, c, data = bas3_model
    res = deploy_rbm(0.5 * W, a, c, data, weight_scale=LOIHI2.weight_scale, sweeps=2000, replicas=16, timeout=300)
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


def test_deploy_run_deploys_a_saved_rbm_run_by_circuit_kind(tmp_path, monkeypatch):
    """``neurocl deploy``'s function: a saved bas3 run on the emulator (the loihi2 profile's
    grid); a circuit kind without a deployer is refused before Lava runs."""
    from neurocl.config import load_config
    from neurocl.experiments import deploy
    from neurocl.experiments.run import run

    cfg = load_config("circuits/bas3.toml").replace(duration=1000.0, replicas=1)
    run(cfg, tmp_path / "bas3", progress=False, echo=None)
    (row,) = deploy.deploy_run(tmp_path / "bas3", "lava", "fixed_pt", "isd", sweeps=300, timeout=120)
    assert row["learner"] == "isd" and row["unit"] == "nats" and np.isfinite(row["emulator"])
    assert abs(row["emulator"] - row["float"]) < 0.5, row        # near-uniform model: both ~3.6 nats
    monkeypatch.delitem(deploy.DEPLOYERS, "rbm")
    with pytest.raises(UnsupportedFeatureError, match="deployment of circuit 'rbm'"):
        deploy.deploy_run(tmp_path / "bas3", "lava", "fixed_pt", "isd", sweeps=300, timeout=120)


# ----------------------------------------------------------------------------- the tag accumulator
def _apply_rule(rule_str, target, t, d):
    """One application of a learning-rule string by Lava's own fixed-point applier (the code
    its ``fixed_pt`` learning models run) to synapses with tags ``t`` and delays ``d``, every
    dependency on and traces 0: the new value of ``target`` (``"tag_2"``, ``"weights"``, ...)."""
    from lava.magma.core.learning.constants import W_ACCUMULATOR_S, W_SYN_VAR_S
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule
    from lava.magma.core.learning.learning_rule_applier import LearningRuleApplierBitApprox

    key = {"weights": "dw", "tag_2": "dd", "tag_1": "dt"}[target]
    rule = Loihi3FLearningRule(**{key: rule_str}, t_epoch=1)
    ps = getattr(rule, f"_{key}")
    t, d = np.asarray(t, np.int32)[None, :], np.asarray(d, np.int32)[None, :]
    zero = np.zeros(t.shape, np.int32)
    args = {"shape": t.shape, "x0": np.ones(t.shape, np.int32), "y0": np.ones(t.shape, np.int32), "u": 1,
            "weights": zero, "tag_1": t, "tag_2": d}
    args.update({f"{tr}_{dep}": zero for tr in ("x1", "x2", "y1", "y2", "y3") for dep in ("x0", "y0", "u")})
    shift = W_ACCUMULATOR_S - W_SYN_VAR_S[target]
    start = {"weights": zero, "tag_1": t, "tag_2": d}[target] << shift
    acc = LearningRuleApplierBitApprox(ps).apply(start, **args)
    assert np.all(acc % 2**shift == 0)              # whole units of the target: nothing left to round
    return (acc >> shift)[0]


@pytest.mark.parametrize("m", [1, 4, 7])
def test_tag_carry_rules_carry_whole_steps_past_half_a_step(m):
    """Lava's fixed-point applier on the carry rules, over the tag's whole 9-bit range: the
    register ``d`` encodes ``t > K``, ``|t| <= K``, ``t < -K`` (``K = 2^(m-1)``) and the carry read
    from it is exactly ``[t > K] - [t < -K]`` weight steps, with ``2^m`` times it leaving the tag
    (a carry read as ``(sgn(t - K) + sgn(t + K)) / 2`` would be half a step at ``t = K``)."""
    r, K = tag_carry_rules(m), 2 ** (m - 1)
    t = np.arange(-257, 256)
    d = _apply_rule(r["dd"], "tag_2", t, np.zeros_like(t))
    assert d.min() >= 0                                  # Lava saturates negative delays at 0
    want = (t > K).astype(int) - (t < -K).astype(int)
    assert np.array_equal(_apply_rule(r["dw"], "weights", t, d), want)
    assert np.array_equal(_apply_rule(r["dt_carry"], "tag_1", np.zeros_like(t), d), -(2**m) * want)
    for bad in (0, MAX_ACCUMULATOR_BITS + 1):
        with pytest.raises(ConfigError, match="accumulator_bits"):
            tag_carry_rules(bad)


def _tag_job(n_sweeps, accumulator_bits):
    """Forward and backward copies' weights and tags after ``n_sweeps`` of on-chip ISD with a
    tag accumulator, with the recorded samples (for the ideal replay)."""
    from neurocl.engines.lava.rbm import build_rbm, dense_weights, read_params
    from neurocl.engines.lava.runtime import run_steps

    rng = np.random.default_rng(0)
    R, nv, nh = 2, 9, 16
    W = rng.normal(0, 0.5, (R, nv, nh))
    net = build_rbm(W, np.zeros((R, nv)), np.zeros((R, nh)), tag="fixed_pt", weight_scale=8.0, seed=0,
                    patterns=bars_and_stripes(3), phases=StochasticPhases(0.5, Exponential(2.0)),
                    learning={"eta": 2**-10, "dt": 1.0, "b": 0.5}, record=2 * n_sweeps,
                    accumulator_bits=accumulator_bits)
    try:
        p0 = read_params(net, "fixed_pt", 8.0)
        run_steps(net["vis"], 2 * n_sweeps, "fixed_pt")
        p1 = read_params(net, "fixed_pt", 8.0)
        out = {"W0": p0["W"], "W1": p1["W"], "tag0": p0["tag"], "tag1": p1["tag"],
               "fwd": [dense_weights(net["fwd"], v) for v in ("weights", "tag_1")],
               "bwd": [dense_weights(net["bwd"], v) for v in ("weights", "tag_1")],
               "v": np.asarray(net["vis"].history.get())[:n_sweeps].reshape(n_sweeps, R, nv),
               "h": np.asarray(net["hid"].history.get())[:n_sweeps].reshape(n_sweeps, R, nh),
               "z": np.asarray(net["phase"].history.get())[:2 * n_sweeps].reshape(2 * n_sweeps, R)}
    finally:
        net["vis"].stop()
    return out, net["scaling"]


# Intermittent: passed alone 15 times in a row and in three fresh-clone CI runs, but failed once in a
# fourth inside `make test-lava` (replica 2, one visible row: 16 w + t one tag unit above the ideal
# replay on 8 of 16 synapses, as if one extra coincidence were credited).  The cause (a recording /
# learning step mismatch in Lava's scheduling, or a carry race) is not found yet: the test runs in
# `make test-slow` until it is (DEVELOPERS.md, "Learning with replicas").
@pytest.mark.slow
def test_tag_accumulator_is_exact_error_feedback_on_the_emulator():
    """On-chip ISD with a 4-bit tag (``eta = 2^-10 /ms``: one coincidence is exactly one tag unit,
    so nothing is rounded): ``16 w + t`` changes by exactly the ideal ISD update of the recorded
    samples (no rounding error reaches the weights), the tag stays within ``K + 1 = 9`` units
    (no double carry), the weights move, and the two learning copies stay exact transposes."""
    m, n = 4, 150
    out, sc = run_isolated(_tag_job, n, m, timeout=300)
    assert sc.accumulator_bits == m and sc.Y * sc.P * 2**sc.exp == 128        # one tag unit per coincidence
    q = 8.0 / 256
    win = {"v": out["v"], "h": out["h"], "z": out["z"], "sweeps": n, "inc": (q / 2**m, -q / 2**m)}
    ideal = ideal_isd_update(win)[0] / (q / 2**m)                            # tag units, integers
    got = 2**m * np.round((out["W1"] - out["W0"]) / q) + (out["tag1"] - out["tag0"])
    assert np.abs(ideal).max() >= 10 and np.array_equal(got, ideal)
    assert np.abs(out["tag1"]).max() <= 2 ** (m - 1) + 1
    assert np.abs(np.round((out["W1"] - out["W0"]) / q)).sum() > 20
    for f, b in zip(out["fwd"], out["bwd"]):
        assert np.array_equal(b, f.T)


# ----------------------------------------------------------------------------- on-chip learning
def _rule_job(tag, n):
    from neurocl.engines.lava.rbm import build_rbm, dense_weights
    from neurocl.engines.lava.runtime import run_steps

    R, nv, nh = 1, 2, 3
    W = np.zeros((R, nv, nh))
    net = build_rbm(W, np.full((R, nv), 10.0), np.full((R, nh), 10.0), tag=tag, weight_scale=LOIHI2.weight_scale, seed=1,
                    patterns=np.ones((1, nv), int), phases=StochasticPhases(0.5, Exponential(3.0)), step_ms=1.0,
                    learning={"eta": 1e-2, "dt": 1.0, "b": 0.5}, record=n)
    try:
        ws = []
        for _ in range(n):
            run_steps(net["vis"], 1, tag)
            ws.append(dense_weights(net["fwd"]))
        bwd = dense_weights(net["bwd"])
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


@pytest.mark.parametrize("tag", ["floating_pt", "fixed_pt"])
def test_replicas_learn_only_their_own_synapses(tag):
    """Replicas share unit processes through block-diagonal LearningSparse connections: no
    synapse across replicas exists, so none grows (a dense learning matrix grows them all,
    since the rule applies to every pre/post pair), while every in-block synapse, also those
    starting at weight 0, learns."""
    R, nv, nh = 3, 9, 4
    win = learning_window(np.zeros((R, nv, nh)), 0.0, 0.0, bars_and_stripes(3), StochasticPhases(0.5, Exponential(1.0)),
                          eta=2e-2, dt=1.0, sweeps=100, tag=tag, timeout=300)
    assert np.count_nonzero(win["W"][-1]) > 0.5 * R * nv * nh

    def job():
        from neurocl.engines.lava.rbm import build_rbm, dense_weights
        from neurocl.engines.lava.runtime import run_steps

        net = build_rbm(np.zeros((R, nv, nh)), np.zeros((R, nv)), np.zeros((R, nh)), tag=tag, weight_scale=LOIHI2.weight_scale,
                        seed=0, patterns=bars_and_stripes(3), phases=StochasticPhases(0.5, Exponential(1.0)),
                        learning={"eta": 2e-2, "dt": 1.0, "b": 0.5})
        try:
            run_steps(net["vis"], 200, tag)
            return dense_weights(net["fwd"]), dense_weights(net["bwd"])
        finally:
            net["vis"].stop()

    fwd, bwd = run_isolated(job, timeout=300)
    mask = np.kron(np.eye(R), np.ones((nh, nv))).astype(bool)
    assert np.all(fwd[~mask] == 0) and np.count_nonzero(fwd[mask]) > 0.5 * mask.sum()
    assert np.array_equal(bwd, fwd.T)


def test_float_emulator_learns_exactly_the_ideal_isd_update_of_its_samples():
    """The replay of the recorded samples (``ideal_isd_update``: which visible, hidden and phase
    state each learning step uses) reproduces the floating_pt weight changes of every window;
    an off-by-one-step replay does not."""
    rng = np.random.default_rng(0)
    W = rng.normal(0, 1, (3, 9, 16))
    win = learning_window(W, rng.normal(0, 0.5, 9), rng.normal(0, 0.5, 16), bars_and_stripes(3),
                          StochasticPhases(0.5, Exponential(2.0)), eta=1e-3, dt=1.0, sweeps=20, windows=3,
                          tag="floating_pt", timeout=300)
    d = np.diff(win["W"], axis=0)
    u = ideal_isd_update(win)
    assert np.abs(u).max() > 0.01
    assert np.abs(d - u).max() < 1e-5 * np.abs(u).max() * 100       # Lava's float weights: ~1e-6 round-off
    shifted = dict(win, h=np.roll(win["h"], 1, axis=0))
    assert np.abs(d - ideal_isd_update(shifted)).max() > 0.01


def test_check_theory_on_lava_matches_the_loihi2_profile_and_rejects_a_coarser_grid():
    """On-chip fixed_pt updates vs the ideal update of the same samples: Lava's rounding noise
    (Tr Cov, gradient units) matches the loihi2 profile (9-bit learning grid, shared
    stochastic rounding) within 25 %, and the predicted second-order extra NLL agrees; a
    profile with the 8-bit grid predicts about twice the noise, which the check rejects."""
    import dataclasses

    from neurocl.config import load_config
    from neurocl.experiments.check_theory_lava import check_theory_lava, format_lava_rows
    from neurocl.hardware import load_profile

    cfg = load_config("circuits/bas3.toml").replace(duration=400_000.0, seed=0)
    prof = load_profile("loihi2")
    (row,) = check_theory_lava(cfg, prof, n_states=1, replicas=8, windows=16, sweeps=50)
    assert 0.75 < row.noise_lava / row.noise_profile < 1.33, format_lava_rows([row])
    assert row.agrees, format_lava_rows([row])
    coarse = dataclasses.replace(prof, weight_bits=8, dw_min=2.0 / 2**8)
    (bad,) = check_theory_lava(cfg, coarse, n_states=1, replicas=8, windows=16, sweeps=50)
    assert bad.noise_lava / bad.noise_profile < 0.7, format_lava_rows([bad])
    assert not bad.agrees, format_lava_rows([bad])


def _kl_task(data):
    return Task(clamp=data, evaluate=lambda p: {"kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], data)
                                                          for r in range(len(p["W"]))]})


def test_lava_engine_learns_and_reports_unsupported_features():
    eng = get_engine("lava", tag="fixed_pt")
    data = bars_and_stripes(3)
    task = _kl_task(data)
    phases = StochasticPhases(0.5, Exponential(1.0))
    tr = eng.run(RBM(9, 16), ISD(2e-3), phases, task,
                 Simulation(dt=1.0, duration=1000.0, replicas=2, checkpoints=2, seed=0), profile=LOIHI2)
    assert tr.metrics["kl_nats"].shape == (3, 2) and np.isfinite(tr.metrics["kl_nats"]).all()
    assert not np.allclose(tr.params["W"], RBM(9, 16).init_params(np.random.default_rng([0, 0]), 2)["W"])
    with pytest.raises(UnsupportedFeatureError, match="lava"):
        eng.run(RBM(9, 16), TwoPhase(1e-3), phases, task, Simulation(1.0, 10.0), profile=LOIHI2)
    with pytest.raises(ConfigError, match="learning_rate"):
        eng.run(RBM(9, 16), ISD(2e-5), phases, task, Simulation(1.0, 10.0), profile=LOIHI2)


def test_engine_runs_the_tag_accumulator_profile_on_the_weight_grid():
    """``profile = "loihi2_tag"``: the engine learns through the tag (the weights move, in whole
    steps of the loihi2 grid ``8/256``), where the same short run without the tag would need
    updates of 1/16 step to be rounded into the weight."""
    data = bars_and_stripes(3)
    rbm = RBM(9, 16)
    tr = get_engine("lava", tag="fixed_pt").run(rbm, ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)), _kl_task(data),
                                                Simulation(dt=1.0, duration=300.0, replicas=2, checkpoints=1, seed=0),
                                                profile=LOIHI2_TAG)
    W, W0 = tr.params["W"], rbm.init_params(np.random.default_rng([0, 0]), 2)["W"]
    steps = W / (8.0 / 256)
    assert np.allclose(steps, np.round(steps), atol=1e-9) and np.isfinite(tr.metrics["kl_nats"]).all()
    assert np.abs(np.round(steps) - np.round(W0 / (8.0 / 256))).sum() > 10


@pytest.fixture
def no_lava_run(monkeypatch):
    """Fail the test if anything reaches a Lava run."""
    import neurocl.engines.lava.runtime as runtime

    def refuse(*args, **kwargs):
        raise AssertionError("a Lava run started")

    monkeypatch.setattr(runtime, "run_isolated", refuse)


@pytest.mark.parametrize("change, field", [({"read_noise_std": 0.01}, "read_noise_std"),
                                           ({"weight_bits": 8, "dw_min": 2.0 / 2**8}, "weight_bits"),
                                           ({"dw_min": 0.01}, "dw_min"),
                                           ({"shared_rounding": False}, "shared_rounding"),
                                           ({"t_epoch": 4}, "t_epoch"),
                                           ({"weight_scale": 6.0}, "weight_scale"),
                                           ({"accumulator_bits": 8}, "accumulator_bits"),
                                           ({"update": "soft_bounds"}, "update")])
def test_fixed_pt_refuses_profile_fields_it_does_not_implement(no_lava_run, change, field):
    """fixed_pt checks the profile's fields against Lava's learning grid (not its name), before
    any Lava process starts; the error names the field and its value."""
    prof = dataclasses.replace(LOIHI2, **change)
    task = _kl_task(bars_and_stripes(3))
    eng = get_engine("lava", tag="fixed_pt")
    with pytest.raises(UnsupportedFeatureError, match=f"'{field}' = {change[field]!r}"):
        eng.run(RBM(9, 16), ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)), task, Simulation(1.0, 10.0),
                profile=prof)
    with pytest.raises(UnsupportedFeatureError, match=field):     # also when the run is only checked
        eng.check(RBM(9, 16), ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)), prof)
    # the same grid under another name, another power-of-two scale and dw_min = 0 are accepted
    for ok in (dataclasses.replace(LOIHI2, name="my_chip"), dataclasses.replace(LOIHI2, weight_scale=4.0, dw_min=0.0),
               LOIHI2_TAG, dataclasses.replace(LOIHI2, accumulator_bits=7)):
        eng.check(RBM(9, 16), ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)), ok)


def test_fixed_pt_needs_a_profile_and_floating_pt_only_runs_ideal_weights(no_lava_run):
    task = _kl_task(bars_and_stripes(3))
    args = (RBM(9, 16), ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)), task, Simulation(1.0, 10.0))
    for prof in (None, load_profile("ideal")):
        with pytest.raises(UnsupportedFeatureError, match='ideal profile.*profile = "loihi2"'):
            get_engine("lava", tag="fixed_pt").run(*args, profile=prof)
    flt = get_engine("lava", tag="floating_pt")
    for prof in (LOIHI2, load_profile("rram_hfo2"), dataclasses.replace(load_profile("ideal"), weight_scale=8.0)):
        with pytest.raises(UnsupportedFeatureError, match=r"floating_pt.*hardware-profile field"):
            flt.run(*args, profile=prof)
    assert flt.supports()["profile_fields"] == frozenset()
    assert {"weight_bits", "weight_scale"} <= get_engine("lava").supports()["profile_fields"]


def test_fixed_pt_weights_live_on_the_profile_grid():
    """The engine reads weight_scale from the profile: with weight_scale = 4 the chip's weights
    saturate at 4 * 254/256 (a weight of 5 does not fit) and lie on the learning grid 4/256."""
    prof = dataclasses.replace(LOIHI2, name="loihi2_ws4", weight_scale=4.0)
    data = bars_and_stripes(3)
    rbm = RBM(9, 16)
    p0 = rbm.init_params(np.random.default_rng(0), 1)
    p0["W"][0, 0, 0] = 5.0
    tr = get_engine("lava", tag="fixed_pt").run(rbm, ISD(2e-3), StochasticPhases(0.5, Exponential(1.0)),
                                                Task(clamp=data), Simulation(dt=1.0, duration=50.0, checkpoints=1),
                                                params=p0, profile=prof)
    W = tr.params["W"]
    steps = W / (4.0 / 256)
    assert np.allclose(steps, np.round(steps), atol=1e-9) and np.abs(W).max() <= 4.0
    assert 3.8 < W[0, 0, 0] <= 4.0 * 255 / 256, W[0, 0, 0]       # on the scale-8 grid it would stay ~5


def test_cli_check_theory_on_lava_prints_the_table(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "neurocl", "check-theory", "--engine", "lava", "--circuit", "bas3",
                          "--states", "1", "--windows", "3", "--replicas", "2", "--time", "100000",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "noise lava" in res.stdout and "loihi2" in res.stdout and "gradient units" in res.stdout
    assert (tmp_path / "table.txt").is_file() and (tmp_path / "predicted_vs_measured.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("tag, profile, best_max", [("floating_pt", None, 1.0), ("fixed_pt", "loihi2", 1.6),
                                                    ("fixed_pt", "loihi2_tag", 1.1)])
def test_bas3_learns_on_chip(tag, profile, best_max):
    """Gallery item 8's run (about 20 minutes per run unloaded): on-chip ISD on bas3 from the
    uniform model's 3.6 nats; floating_pt reaches <= 1.0 nats (mean of 4 replicas, best
    checkpoint), fixed_pt on loihi2 <= 1.6 (its floor is the rounding noise check-theory --engine
    lava measures), fixed_pt with the tag accumulator (loihi2_tag) <= 1.1 (the run in
    lava_deployment.json reached 0.99 at 180 s, floating_pt 0.80-1.08 after 160 s)."""
    data = bars_and_stripes(3)
    tr = get_engine("lava", tag=tag).run(RBM(9, 16, init_scale=0.1), ISD(1e-3), StochasticPhases(0.5, Exponential(2.0)),
                                         _kl_task(data), Simulation(dt=1.0, duration=240000.0, replicas=4, seed=0,
                                                                    checkpoints=12),
                                         profile=load_profile(profile) if profile else None)
    kl = tr.metrics["kl_nats"].mean(1)
    assert kl[0] > 3.5 and kl.min() <= best_max, kl
