"""Sample-contrastive learning (issue 15, paper 002): loss, gradients, encoders, negative
estimators and the exactness of the Metropolis-Hastings chains of EMC^2."""

import numpy as np
import pytest

from neurocl.circuits.encoders import make_encoder
from neurocl.data.augment import ViewSpec, make_views, shift
from neurocl.errors import ConfigError
from neurocl.objectives import (
    global_contrastive_grad,
    global_contrastive_loss,
    global_contrastive_loss_and_grad_h,
    normalize,
)
from neurocl.samplers import (
    NEGATIVE_ESTIMATORS,
    EmbeddingTable,
    make_estimator,
    run_table_chains,
    table_chain_marginals,
    table_targets,
    empirical_laws,
)


def _central_diff(f, x, eps=1e-6):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        a = x.copy()
        a[i] += eps
        b = x.copy()
        b[i] -= eps
        g[i] = (f(a) - f(b)) / (2 * eps)
    return g


def test_loss_matches_definition(rng):
    """L = (1/2n) sum_k [-beta s_k,pos + log sum_{j != k, pos} exp(beta s_kj)], by a plain loop."""
    n, d, beta = 6, 4, 2.5
    z1, _ = normalize(rng.standard_normal((n, d)))
    z2, _ = normalize(rng.standard_normal((n, d)))
    Z = np.vstack([z1, z2])
    total = 0.0
    for k in range(2 * n):
        p = (k + n) % (2 * n)
        neg = [np.exp(beta * Z[k] @ Z[j]) for j in range(2 * n) if j not in (k, p)]
        total += -beta * Z[k] @ Z[p] + np.log(sum(neg))
    assert global_contrastive_loss(z1, z2, beta) == pytest.approx(total / (2 * n), rel=1e-12)


def test_loss_gradient_through_normalisation(rng):
    """dL/dh (through z = h/|h|) against central differences; error O(eps^2) ~ 1e-9."""
    n, d, beta = 5, 3, 4.0
    h1, h2 = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    _, g1, g2 = global_contrastive_loss_and_grad_h(h1, h2, beta)
    n1 = _central_diff(lambda a: global_contrastive_loss_and_grad_h(a, h2, beta)[0], h1)
    n2 = _central_diff(lambda a: global_contrastive_loss_and_grad_h(h1, a, beta)[0], h2)
    np.testing.assert_allclose(g1, n1, atol=1e-8)
    np.testing.assert_allclose(g2, n2, atol=1e-8)


@pytest.mark.parametrize("kind,act", [("linear", "tanh"), ("single", "tanh"), ("single", "relu"), ("mlp", "tanh")])
def test_encoder_and_loss_parameter_gradient(rng, kind, act):
    """d L(f_w(views)) / dw by backprop against central differences in w."""
    enc = make_encoder(kind, 6, 3, hidden=5, activation=act)
    w = enc.init(rng) + 0.1 * rng.standard_normal(enc.n_params)
    x1, x2 = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))

    def loss(wv):
        return global_contrastive_loss_and_grad_h(enc.forward(wv, x1)[0], enc.forward(wv, x2)[0], 3.0)[0]

    h1, c1 = enc.forward(w, x1)
    h2, c2 = enc.forward(w, x2)
    _, g1, g2 = global_contrastive_loss_and_grad_h(h1, h2, 3.0)
    g = enc.backward(w, c1, g1) + enc.backward(w, c2, g2)
    np.testing.assert_allclose(g, _central_diff(loss, w), atol=1e-7)


def test_encoder_validation():
    with pytest.raises(ConfigError, match="kind"):
        make_encoder("cnn", 4, 2)
    with pytest.raises(ConfigError, match="hidden"):
        make_encoder("mlp", 4, 2, hidden=0)
    with pytest.raises(ConfigError, match="activation"):
        make_encoder("single", 4, 2, activation="sigmoidal")


# --- estimators -------------------------------------------------------------------------
def _table(rng, n=12, d=4):
    Z, _ = normalize(rng.standard_normal((2 * n, d)))
    return Z, EmbeddingTable.full(Z)


def _dense(idx, g, shape):
    out = np.zeros(shape)
    out[idx] = g
    return out


def test_registry_names_and_unknown():
    assert set(NEGATIVE_ESTIMATORS) == {"exact", "in_batch", "sogclr", "emc2", "isd"}
    with pytest.raises(ConfigError, match="estimator"):
        make_estimator("hard_negatives")
    with pytest.raises(ConfigError, match="b_pos"):
        make_estimator("isd", b_pos=1.0)


@pytest.mark.parametrize("name,params", [("exact", {}), ("in_batch", {}), ("sogclr", {"gamma": 1.0})])
def test_full_batch_estimators_are_the_exact_gradient(rng, name, params):
    """With the batch = the whole dataset, exact, in-batch and SogCLR (gamma = 1) put the
    softmax over all 2n - 2 negatives: the estimate is dL/dZ to rounding."""
    n, beta = 12, 3.0
    Z, table = _table(rng, n)
    G = np.vstack(global_contrastive_grad(Z[:n], Z[n:], beta))
    est = make_estimator(name, **params)
    idx, g = est.estimate(np.arange(n), n, table, beta, est.init_state(n), rng)
    np.testing.assert_allclose(_dense(idx, g, Z.shape), G, atol=1e-12)


def _mean_z_scores(est, n, b, table, beta, G, rng, R):
    state = est.init_state(n)
    draws = np.empty((R,) + G.shape)
    for r in range(R):
        idx, g = est.estimate(rng.choice(n, b, replace=False), n, table, beta, state, rng)
        draws[r] = _dense(idx, g, G.shape)
    mean, se = draws.mean(0), draws.std(0, ddof=1) / np.sqrt(R)
    return np.abs(mean - G) / np.maximum(se, 1e-15)


def test_exact_estimator_unbiased_and_in_batch_biased(rng):
    """Mini-batch anchors with exact negatives: E[g_hat] = dL/dZ.  R = 1500 draws; with 96
    coordinates and Gaussian means, max |z| > 4.5 has probability < 96 * 6.8e-6 < 1e-3.
    The same check rejects in-batch SimCLR at b = 2 (its bias is many standard errors)."""
    n, b, beta, R = 12, 2, 4.0, 1500
    Z, table = _table(rng, n)
    G = np.vstack(global_contrastive_grad(Z[:n], Z[n:], beta))
    assert _mean_z_scores(make_estimator("exact"), n, b, table, beta, G, rng, R).max() < 4.5
    assert _mean_z_scores(make_estimator("in_batch"), n, b, table, beta, G, rng, R).max() > 4.5


# --- MH exactness (issue point 1, fast size) ---------------------------------------------
def _wrong_half_beta(beta, s_new, s_cur):
    """A deliberately wrong acceptance ratio: min(1, exp(beta/2 (s_new - s_cur)))."""
    return 0.5 * beta * (s_new - s_cur)


def _mh_check(log_ratio=None):
    """Empirical law of R independent chains per anchor after t proposals vs the exact softmax.

    Bound (per anchor): TV(p_hat, pi) <= TV(p_t, pi) + TV(p_hat, p_t), where
    TV(p_t, pi) <= (1 - w)^t with w = 1 / (n max_j pi_j) (Mengersen & Tweedie 1996: the
    independence sampler's kernel is minorised by w pi), E TV(p_hat, p_t) <= 1/2 sum_j
    sqrt(p_j / R) <= 1/2 sqrt(n / R) (Jensen, Cauchy-Schwarz), and McDiarmid (one chain moves
    TV by <= 1/R) adds sqrt(ln(A / delta) / (2R)) with delta = 1e-4 for all A anchors together.
    n = 200, d = 32, beta = 5, R = 15000, t = 80: bound about 0.078.
    """
    rng = np.random.default_rng(2024)
    n, d, beta, R, t = 200, 32, 5.0, 15000, 80
    Z, _ = normalize(rng.standard_normal((n, d)))
    S = Z @ Z.T
    anchors = np.array([0, 1, 2])
    pi = table_targets(S, anchors, beta)
    kw = {} if log_ratio is None else {"log_ratio": log_ratio}
    states = run_table_chains(S, anchors, R, t, beta, rng, **kw)[t]
    tv = 0.5 * np.abs(empirical_laws(states, n) - pi).sum(axis=1)
    w = 1.0 / (n * pi.max(axis=1))
    bound = (1 - w) ** t + 0.5 * np.sqrt(n / R) + np.sqrt(np.log(anchors.size / 1e-4) / (2 * R))
    return tv, bound


def test_mh_chains_reach_the_softmax():
    tv, bound = _mh_check()
    assert np.all(tv < bound), (tv, bound)


def test_mh_check_rejects_a_wrong_acceptance_ratio():
    """The same check with acceptance min(1, exp(beta/2 (s_new - s_cur))) (target exp(beta s/2))
    must fail: its stationary law is about 0.17 away in TV."""
    tv, bound = _mh_check(_wrong_half_beta)
    assert np.all(tv > bound), (tv, bound)


def test_exact_chain_marginals_converge_geometrically(rng):
    """The exact marginal law p_t = p_0 K^t of the independence MH kernel obeys
    TV(p_t, pi) <= (1 - w)^t at every t (Mengersen & Tweedie); the wrong ratio stalls > 0.1."""
    n, d, beta, t = 300, 32, 5.0, 150
    Z, _ = normalize(rng.standard_normal((n, d)))
    S = Z @ Z.T
    pi = table_targets(S, np.array([7]), beta)[0]
    w = 1.0 / (n * pi.max())
    tv = 0.5 * np.abs(table_chain_marginals(S, 7, beta, t) - pi).sum(axis=1)
    steps = np.arange(1, t + 1)
    assert np.all(tv <= (1 - w) ** steps + 1e-12)
    tv_wrong = 0.5 * np.abs(table_chain_marginals(S, 7, beta, t, _wrong_half_beta) - pi).sum(axis=1)
    assert tv_wrong[-1] > 0.1


# --- views ------------------------------------------------------------------------------
def test_shift_is_a_zero_filled_translation():
    x = np.arange(16.0).reshape(1, 16)
    out = shift(x, (4, 4), np.array([[1, -1]])).reshape(4, 4)
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1:, :3], x.reshape(4, 4)[:3, 1:])
    np.testing.assert_array_equal(out[:, 3], 0)


def test_views_dropout_fraction_and_validation(rng):
    """Without noise or shift, a view zeroes each pixel w.p. dropout: 20000 pixels at 0.3,
    the fraction is within 5 binomial standard errors (0.016)."""
    x = np.ones((500, 40))
    v = make_views(x, ViewSpec(shape=(40,), noise=0.0, dropout=0.3, max_shift=0), rng)
    assert abs(np.mean(v == 0) - 0.3) < 5 * np.sqrt(0.3 * 0.7 / x.size)
    with pytest.raises(ConfigError, match="dropout"):
        ViewSpec(shape=(40,), dropout=1.0)


def test_mnist1d_generated_locally_keeps_global_rng():
    from neurocl.data.mnist1d import load_mnist1d

    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    x, y, xt, yt = load_mnist1d(num_samples=100)
    assert np.array_equal(np.random.get_state()[1], before)
    assert x.shape == (80, 40) and xt.shape == (20, 40) and set(np.unique(y)) <= set(range(10))


def test_compiled_sweep_matches_numpy_loop(rng):
    """The numba sweep and the numpy reference loop give identical states on the same numbers."""
    from neurocl.samplers import mh_independence_sweep

    m, P = 50, 40
    prop = rng.integers(0, 30, (m, P))
    s_prop = rng.standard_normal((m, P))
    allowed = rng.random((m, P)) > 0.1
    state = np.where(rng.random(m) < 0.5, -1, rng.integers(0, 30, m))
    score = np.where(state < 0, -np.inf, rng.standard_normal(m))
    a = mh_independence_sweep(state, score, prop, s_prop, allowed, 3.0, np.random.default_rng(1))
    b = mh_independence_sweep(state, score, prop, s_prop, allowed, 3.0, np.random.default_rng(1), python=True)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert np.all(a[0][:, -1] >= 0)  # every chain accepted something in 40 proposals


def test_emc2_digits_spec_runs_and_lowers_the_loss(tmp_path):
    """`circuits/emc2_digits.toml` through the run machinery (`neurocl run` uses the same
    `run`), shrunk to a small encoder and 40 steps: every metric is recorded with a finite
    value, the global contrastive loss on the fixed evaluation table decreases, and the printed
    checkpoint table shows probe accuracy and alpha-ReQ per checkpoint with their definitions."""
    import tomllib
    from pathlib import Path

    from neurocl.config import parse_config
    from neurocl.experiments.run import read_metrics_csv, run

    spec = Path(__file__).resolve().parent.parent / "circuits" / "emc2_digits.toml"
    raw = tomllib.loads(spec.read_text())
    raw["circuit"].update(hidden=16, d_out=8)
    raw["simulation"].update(duration=40.0, checkpoints=1)
    lines = []
    run(parse_config(raw), tmp_path, progress=False, echo=lines.append)
    assert (tmp_path / "DONE").is_file()
    _, m = read_metrics_csv(tmp_path / "sgd" / "metrics.csv")
    text = "\n".join(lines)
    head = next(line for line in text.splitlines() if line.split()[:2] == ["time", "(ms)"])
    for key in ("probe_acc", "knn1_acc", "alpha_req", "alpha_r2", "loss_nats"):
        assert f"sgd {key}" in head and f"  {key}: " in text, key
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.split() and line.split()[0].isdigit()}
    assert set(rows) == {"0", "40"}
    assert float(rows["40"][2]) == pytest.approx(m["alpha_req"][-1, 0], abs=1e-3)   # alpha column, last checkpoint
    for key in ("probe_acc", "knn1_acc", "alpha_req", "alpha_r2", "loss_nats"):
        assert np.all(np.isfinite(m[key])), key
    assert 0.1 < m["probe_acc"][-1, 0] <= 1.0
    assert m["loss_nats"][-1, 0] < m["loss_nats"][0, 0]


def test_circuit_validation_names_the_field():
    from neurocl.circuits.sample_contrastive import SampleContrastive

    with pytest.raises(ConfigError, match="estimator"):
        SampleContrastive(d_in=64, estimator="hard")
    with pytest.raises(ConfigError, match="view_shape"):
        SampleContrastive(d_in=40, view_shape=(8, 8))
    with pytest.raises(ConfigError, match="batch"):
        SampleContrastive(d_in=64, batch=1)
    with pytest.raises(ConfigError, match="gamma"):
        SampleContrastive(d_in=64, estimator="sogclr", gamma=0.0)


def _device_learner(profile, steps=12):
    """A small digits encoder after ``steps`` EMC^2 steps, weights held on ``profile``."""
    from neurocl.circuits.sample_contrastive import SampleContrastive
    from neurocl.data.digits import load_digits_split
    from neurocl.engines.numpy.sample_contrastive import ContrastiveLearner

    x = load_digits_split()[0][:200]
    c = SampleContrastive(d_in=64, hidden=8, d_out=4, batch=8)
    params = c.init_params(np.random.default_rng([3, 0]), 2)
    learner = ContrastiveLearner(c, x, 0.05, params, seed=3, profile=profile)
    learner.advance(0, steps)
    return params["w"]


def test_ideal_profile_is_the_profile_free_run_and_devices_change_the_weights():
    """Encoder weights on hardware profiles (issue 15 point 5): the ``ideal`` profile gives the
    profile-free run bit for bit; on ``loihi2`` every weight is a multiple of the grid step
    (weight_scale / 2^8 = 1/32 in network units) and the weights differ from the float run; on
    ``rram_hfo2`` (read noise, pulses) they differ from it too.  The runner accepts both
    profiles (engine check)."""
    from neurocl.circuits.sample_contrastive import SampleContrastive
    from neurocl.engines import get_engine
    from neurocl.hardware import load_profile
    from neurocl.plasticity import OnlineSGD

    free = _device_learner(None)
    np.testing.assert_array_equal(_device_learner(load_profile("ideal")), free)
    loihi = _device_learner(load_profile("loihi2"))
    q = load_profile("loihi2").weight_scale * load_profile("loihi2").quantum
    np.testing.assert_allclose(loihi / q, np.round(loihi / q), atol=1e-9)
    assert np.mean(loihi != free) > 0.9
    rram = _device_learner(load_profile("rram_hfo2"))
    assert np.all(np.isfinite(rram)) and np.mean(rram != free) > 0.9
    engine = get_engine("numpy")
    for name in ("rram_hfo2", "loihi2"):
        engine.check(SampleContrastive(d_in=64), OnlineSGD(learning_rate=0.05), None, load_profile(name))


def _chain_laws_tv(advance_all, log_ratio=None, steps=3000, shuffle=True, seed=5):
    """Mean over the ``2n = 20`` chains of the TV between the law of a chain's state, recorded
    after every step (after 100), and its exact softmax over its 18 negatives, on a fixed table
    of unrelated unit embeddings in 3 dimensions (beta 2, batch 3)."""
    from neurocl.samplers.negatives import mh_log_ratio

    rng = np.random.default_rng(seed)
    n, beta = 10, 2.0
    Z, _ = normalize(rng.standard_normal((2 * n, 3)))
    table = EmbeddingTable.full(Z)
    est = make_estimator("emc2", advance_all=advance_all, shuffle=shuffle)
    state = est.init_state(n)
    counts = np.zeros((2 * n, 2 * n))
    rows = np.arange(2 * n)
    for t in range(steps):
        est.sweep(rng.choice(n, 3, replace=False), n, table, beta, state, rng, log_ratio or mh_log_ratio)
        if t >= 100:
            ok = state.state >= 0
            counts[rows[ok], state.state[ok]] += 1
    target = table_targets(Z @ Z.T, rows, beta)
    target[rows, (rows + n) % (2 * n)] = 0.0        # the positive is never a negative
    target /= target.sum(axis=1, keepdims=True)
    emp = counts / counts.sum(axis=1, keepdims=True)
    return float(np.mean(0.5 * np.abs(emp - target).sum(axis=1)))


def test_emc2_advance_all_chains_reach_the_softmax_and_a_wrong_ratio_fails():
    """``advance_all`` with shuffled proposals: every chain moves at every step (proposals: the
    batch's 6 views in random order), so each chain's state, recorded after each of 3000 steps,
    follows its softmax over its 18 negatives: mean TV over the 20 chains < 0.11.  Bound: the
    recorded states are correlated (~1 accepted move per step), and b / n = 0.3 leaves the
    without-replacement bias of the sweep; single chains measured 0.04-0.13 over seeds; the mean
    over 20 chains varies much less.  Seen failing: the fixed proposal order (``shuffle =
    False``, first views then second views: single chains at 0.24-0.34) and an acceptance ratio
    exp(2 beta ds) (0.22-0.28); both asserted > 0.16 here."""
    assert _chain_laws_tv(True) < 0.11
    assert _chain_laws_tv(True, shuffle=False, steps=1500) > 0.16
    assert _chain_laws_tv(True, log_ratio=lambda beta, s_new, s_cur: 2 * beta * (s_new - s_cur), steps=1500) > 0.16


# --- the fast exact path (dense rows, one whole-table pass, tanh through exp) --------------
def test_exact_dense_rows_match_the_generic_anchor_rows(rng):
    """The exact estimator's dense rows equal anchor_grad_rows with the masked softmax over all
    views (the generic form every other estimator uses), for a partial batch, to rounding."""
    from neurocl.objectives.global_contrastive import anchor_grad_rows, negative_softmax
    from neurocl.samplers.negatives import batch_views

    n, beta = 15, 4.0
    Z, table = _table(rng, n)
    batch = np.array([3, 11, 0, 7])
    idx, g = make_estimator("exact").estimate(batch, n, table, beta, None, rng)
    anchors, pos = batch_views(batch, n)
    W = negative_softmax(Z, beta)[anchors]
    ref_idx, ref = anchor_grad_rows(anchors, pos, Z[anchors], Z[pos], np.arange(2 * n), Z, W, beta,
                                    1.0 / anchors.size)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(g, ref, atol=1e-13)


def test_exact_parameter_gradient_is_the_backprop_of_its_rows(rng):
    """estimate_param_grad with exact negatives (whole table in one forward/backward pass):
    each batch's estimate is (1/2b) sum of its anchors' gradients, so summed over a partition
    of the samples into batches it is (n/b) dL/dw (every anchor appears once); checked
    against exact_loss_and_grad (full-table backprop) to rtol 1e-10."""
    from neurocl.engines.numpy.sample_contrastive import estimate_param_grad, exact_loss_and_grad

    n, b, beta = 12, 3, 2.0
    enc = make_encoder("mlp", 6, 4, 5, "tanh")
    w = enc.init(rng)
    X = rng.standard_normal((2 * n, 6))
    est = make_estimator("exact")
    total = sum(estimate_param_grad(enc, w, X, np.arange(i, i + b), est, None, beta, rng) for i in range(0, n, b))
    np.testing.assert_allclose(total * b / n, exact_loss_and_grad(enc, w, X, beta)[1], rtol=1e-10, atol=1e-12)


def test_encoder_tanh_through_exp_matches_numpy():
    from neurocl.circuits.encoders import ACTIVATIONS

    a = np.concatenate([np.linspace(-30, 30, 2001), [0.0, -0.0, 1e-300, -1e-12, 400.0, -400.0, 800.0, -800.0]])
    y, dy = ACTIVATIONS["tanh"](a.copy())
    np.testing.assert_allclose(y, np.tanh(a), rtol=0, atol=5e-16)
    np.testing.assert_allclose(dy, 1.0 - np.tanh(a) ** 2, rtol=0, atol=1e-15)


def test_blocked_loss_equals_the_whole_table_loss(rng):
    n, beta = 40, 3.0
    Z, _ = _table(rng, n)
    whole = global_contrastive_loss(Z[:n], Z[n:], beta, block=10**9)
    for block in (1, 7, 33, 80):
        assert global_contrastive_loss(Z[:n], Z[n:], beta, block=block) == pytest.approx(whole, rel=1e-13)


def test_fixed_views_keep_one_table_and_loss_is_its_global_loss():
    """fixed_views: every epoch (and replica) learns from the one table of fixed_view_table, and
    loss_nats is the global contrastive loss of that table at the current weights."""
    from types import SimpleNamespace

    from neurocl.circuits.sample_contrastive import SampleContrastive, fixed_view_table
    from neurocl.engines.numpy.sample_contrastive import ContrastiveLearner, exact_loss

    rng = np.random.default_rng(3)
    x = rng.random((30, 16))
    y = np.arange(30) % 3
    c = SampleContrastive(d_in=16, d_out=4, hidden=6, view_shape=(4, 4), batch=5, fixed_views=True)
    params = c.init_params(np.random.default_rng(0), 2)
    learner = ContrastiveLearner(c, x, 0.05, params, 0)
    table = fixed_view_table(x, c.view_spec())
    for k0 in (0, 6, 12):                       # three epochs of 6 steps
        learner.advance(k0, 6)
        for r in range(2):
            np.testing.assert_array_equal(learner.tables[r], table)
    m = c.task(SimpleNamespace(x=x, y=y, x_test=x, y_test=y)).evaluate(params)
    for r in range(2):
        assert m["loss_nats"][r] == pytest.approx(exact_loss(c.make_encoder(), params["w"][r], table, c.beta), rel=1e-12)
    fresh = SampleContrastive(d_in=16, d_out=4, hidden=6, view_shape=(4, 4), batch=5)
    learner = ContrastiveLearner(fresh, x, 0.05, fresh.init_params(np.random.default_rng(0), 1), 0)
    learner.advance(0, 6)
    first = learner.tables[0].copy()
    learner.advance(6, 1)
    assert not np.array_equal(first, learner.tables[0])
