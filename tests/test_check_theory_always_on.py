"""``neurocl check-theory --always-on``: the always-on estimator's variance and bias for an RBM spec."""

import json

import numpy as np
import pytest

from neurocl.cli import main
from neurocl.config import load_config
from neurocl.errors import ConfigError
from neurocl.experiments.check_theory import check_always_on

TINY = """name = "tiny"
engine = "numpy"

[circuit]
kind = "rbm"
n_visible = 4
n_hidden = 2
tau_n = 1.0
init_scale = 1.0

[data]
name = "bars_and_stripes"
size = 2

[simulation]
dt = 1.0
duration = 1000.0
replicas = 1
seed = 0
checkpoints = 1

[learners.isd]
rule = "isd"
learning_rate = 1e-3
phases = { kind = "stochastic", b = 0.6, length = { law = "exponential", mean = 10.0 } }
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_cli_reports_variance_and_bias_of_a_small_rbm_exactly(tiny, tmp_path, capsys):
    """A 4 x 2 RBM (enumerable): the exact joint chain gives V(b), the s/tau part and the exact
    first-order eta part; the numpy engine's V (16 replicas x 8 windows of 1 s) is within 3
    standard errors of the chain's; the saved JSON holds the printed numbers."""
    out = tmp_path / "out"
    assert main(["check-theory", "--circuit", str(tiny), "--always-on", "--time", "1000", "--states", "1",
                 "--replicas", "16", "--windows", "8", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "V = lim T Var(G_T)" in text and "f^2 x ms" in text and "b* 1-sample" in text
    assert "s/tau part: exact joint chain" in text and "eta part: exact first order in eta" in text
    assert "1/1 states: measured V within 3 s.e." in text
    (row,) = json.loads((out / "always_on.json").read_text())
    assert row["b"] == 0.6 and row["mean_length_ms"] == 10.0 and row["eta_per_ms"] == 1e-3
    assert row["variance_method"] == "exact joint chain"
    assert abs(row["measured_variance"] - row["predicted_variance"]) <= 3 * row["measured_variance_se"]
    # the correlated-update theory: V far above the single-sample value, b_opt above b*
    assert row["predicted_variance"] > 5 * row["single_sample_variance"]
    assert row["variance_optimal_b"] > row["single_sample_b"]
    assert 0 < row["frozen_relative_bias"] < 1 and 0 < row["eta_relative_bias"] < 1
    assert f"{row['predicted_variance']:.4g}" in text


def test_impossible_requests_are_one_line_config_errors(tiny, capsys):
    assert main(["check-theory", "--circuit", "two_branch", "--always-on", "--time", "100"]) == 2
    assert "needs an RBM circuit" in capsys.readouterr().err
    assert main(["check-theory", "--circuit", str(tiny), "--always-on", "--profile", "pcm"]) == 2
    assert "--profile do not apply" in capsys.readouterr().err
    cfg = load_config(str(tiny))
    with pytest.raises(ConfigError, match="replicas = 1 must be >= 2"):
        check_always_on(cfg, 1, replicas=1)
    alternating = TINY.replace('{ kind = "stochastic", b = 0.6, length = { law = "exponential", mean = 10.0 } }',
                               '{ kind = "alternating", length = 10.0 }')
    path = tiny.parent / "alt.toml"
    path.write_text(alternating)
    with pytest.raises(ConfigError, match="phases to be stochastic"):
        check_always_on(load_config(str(path)), 1)


def test_sampled_moments_for_rbms_too_big_to_enumerate_say_so(monkeypatch):
    """Above ``EXACT_CHAIN_UNITS`` units the report uses the renewal form with moments from an
    engine free run and the leading-order eta part, and says which (forced here on the tiny RBM
    by lowering the limit): the sampled b_opt within 0.03 of the exact one."""
    import neurocl.theory_always_on as tao
    from neurocl.data import bars_and_stripes
    from neurocl.engines import get_engine
    from neurocl.phases import Exponential

    rng = np.random.default_rng(0)
    W, a, c = rng.normal(0, 1.0, (4, 2)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 2)
    data = bars_and_stripes(2)
    exact = tao.always_on_report(get_engine("numpy"), W, a, c, data, 0.6, Exponential(10.0), eta=1e-3,
                                 replicas=4, windows=4, window_ms=200.0)
    monkeypatch.setattr(tao, "EXACT_CHAIN_UNITS", 4)
    sampled = tao.always_on_report(get_engine("numpy"), W, a, c, data, 0.6, Exponential(10.0), eta=1e-3,
                                   replicas=8, free_steps=4000, windows=4, window_ms=200.0)
    assert sampled["variance_method"].startswith("renewal V(b)") and "free run" in sampled["moments_method"]
    assert sampled["frozen_method"].startswith("engine measurement")
    assert sampled["eta_method"].startswith("leading order (B2)")
    assert abs(sampled["variance_optimal_b"] - exact["variance_optimal_b"]) <= 0.03
    assert sampled["eta_relative_bias"] == pytest.approx(exact["eta_relative_bias"], rel=0.2)


@pytest.mark.slow
def test_bas3_always_on_variance_agrees_with_the_sampled_renewal_prediction():
    """bas3 (9 x 16, too big to enumerate) at the end of a 100 s ideal ISD trajectory: the
    renewal ``V(b)`` from free-run moments against the engine's (16 replicas x 32 windows of
    1 s) within 3 standard errors; ``b_opt`` above ``b*`` (correlated updates within phases)."""
    cfg = load_config("circuits/bas3.toml").replace(duration=100_000.0)
    (row,) = check_always_on(cfg, 1, replicas=16, windows=32)
    assert row["variance_method"].startswith("renewal V(b)") and "free run" in row["moments_method"]
    assert abs(row["measured_variance"] - row["predicted_variance"]) <= 3 * row["measured_variance_se"], row
    assert row["variance_optimal_b"] > row["single_sample_b"] + 0.02, row


def test_measurement_is_the_numpy_engines_whatever_the_spec_names(tiny, tmp_path, capsys):
    """A spec naming Brian2 spiking units (and a device profile) is measured on the numpy engine
    with ideal weights, as the command says: its results equal the numpy spec's, number for number."""
    other = tmp_path / "tiny_brian2.toml"
    other.write_text(TINY.replace('engine = "numpy"', 'engine = { name = "brian2", units = "spiking", target = "numpy" }\n'
                                                      'profile = "pcm"'))
    rows = []
    for spec, out in ((tiny, tmp_path / "a"), (other, tmp_path / "b")):
        assert main(["check-theory", "--circuit", str(spec), "--always-on", "--time", "500", "--states", "1",
                     "--replicas", "4", "--windows", "4", "--out", str(out)]) == 0
        rows.append(json.loads((out / "always_on.json").read_text()))
    capsys.readouterr()
    assert rows[0] == rows[1]
