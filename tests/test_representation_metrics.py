"""alpha-ReQ as an opt-in metric any circuit records (issue 15, point 4; neurocl.measure.representation):
`[circuit] metrics = ["alpha_req"]` adds the columns alpha_req and alpha_r2 to every checkpoint
and to the run table, computed on the circuit's representation (RBM hidden means, Hopfield
hidden layer, two-branch outputs, encoder features).  Tiny sizes, a few checkpoints each."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from neurocl.errors import ConfigError
from neurocl.measure.alpha_req import alpha_req

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path, spec, circuit=None, simulation=None, learners=None):
    from neurocl.config import parse_config
    from neurocl.experiments.run import read_metrics_csv, run

    raw = tomllib.loads((ROOT / "circuits" / spec).read_text())
    raw["circuit"].update(circuit or {})
    raw["simulation"].update(simulation or {})
    if learners is not None:
        raw["learners"] = {k: v for k, v in raw["learners"].items() if k in learners}
    config = parse_config(raw)
    lines = []
    run(config, tmp_path, progress=False, echo=lines.append)
    label = next(iter(raw["learners"]))
    _, m = read_metrics_csv(tmp_path / label / "metrics.csv")
    saved = np.load(tmp_path / label / "weights.npz")
    w = {k[:-4]: saved[k] for k in saved.files if k.endswith("_all")}     # (R, ...) arrays
    return config, m, w, "\n".join(lines), label


def _table_has(text, label):
    head = next(line for line in text.splitlines() if line.split()[:2] == ["time", "(ms)"])
    for key in ("alpha_req", "alpha_r2"):
        assert f"{label} {key}" in head and f"  {key}: " in text, key


def test_rbm_hidden_means(tmp_path):
    """bas3's RBM (9-16), 2 replicas: alpha of p(h|v) over the 14 patterns, recomputed here from the
    saved weights (sigmoid(v W + c), written out independently of the circuit's method)."""
    from neurocl.data.bars_and_stripes import bars_and_stripes

    config, m, w, text, label = _run(tmp_path, "bas3.toml", {"metrics": ["alpha_req"], "init_scale": 1.0},
                                     {"duration": 400.0, "checkpoints": 2, "replicas": 2}, ["isd"])
    _table_has(text, label)
    assert m["alpha_req"].shape == (3, 2) and np.all(np.isfinite(m["alpha_req"]))
    x = (bars_and_stripes(3) > 0.5).astype(float)
    for r in range(2):
        h = 1.0 / (1.0 + np.exp(-(x @ w["W"][r] + w["c"][r])))
        a = alpha_req(h)
        assert m["alpha_req"][-1, r] == pytest.approx(a.alpha, rel=1e-5)
        assert m["alpha_r2"][-1, r] == pytest.approx(a.r2, rel=1e-5)


def test_hopfield_hidden_layer(tmp_path):
    """digits' layered Hopfield network shrunk to 64-20-10: alpha of the hidden layer s1 (20 units)."""
    config, m, w, text, label = _run(tmp_path, "digits.toml", {"sizes": [64, 20, 10], "eval_time": 2.0,
                                                               "metrics": ["alpha_req"]},
                                     {"duration": 200.0, "checkpoints": 1}, ["isd"])
    _table_has(text, label)
    c = config.circuit
    assert np.all(np.isfinite(m["alpha_req"]))
    from neurocl.data import load_dataset

    data = load_dataset(config.data)
    feats = c.representation(w, 0, data.x_test, min(0.5, c.tau_n / 2))
    assert feats.shape == (len(data.x_test), 20)
    assert m["alpha_req"][-1, 0] == pytest.approx(alpha_req(feats).alpha, rel=1e-5)


def test_two_branch_outputs(tmp_path):
    """The two-branch network with K = 4 units (N = 100): alpha of the 4 outputs of one branch."""
    config, m, w, text, label = _run(tmp_path, "two_branch.toml",
                                     {"N": 100, "K": 4, "metrics": ["alpha_req"]},
                                     {"duration": 100.0, "checkpoints": 2, "replicas": 2}, ["sgd"])
    _table_has(text, label)
    assert m["alpha_req"].shape == (3, 2) and np.all(np.isfinite(m["alpha_req"]))
    from neurocl.circuits.two_branch import ACTIVATIONS, sample_features, sample_views

    c = config.circuit
    rng = np.random.default_rng(0)
    cvar = sample_features(c.feature_law, rng, (c.REPRESENTATION_SAMPLES, c.d1), c.c_var)
    x = sample_views(w["U"][1], cvar, c.s, c.rho, c.views, rng)[:, 0, :]
    y = ACTIVATIONS["tanh"][0](x @ w["W"][1] / np.sqrt(c.N))
    assert m["alpha_req"][-1, 1] == pytest.approx(alpha_req(y).alpha, rel=1e-5)


def test_encoder_features_and_validation():
    """The sample-contrastive circuit accepts the field (alpha_req is one of its columns
    anyway: no duplicate column); an unknown metric name is a ConfigError naming the field."""
    from neurocl.circuits.rbm import RBM
    from neurocl.circuits.sample_contrastive import SampleContrastive

    c = SampleContrastive(d_in=64, metrics=["alpha_req"])
    assert c.metrics == ("alpha_req",) and c.table_metrics.count("alpha_req") == 1
    assert RBM(9, 4).table_metrics == ("kl_nats",)
    assert RBM(9, 4, metrics=["alpha_req", "alpha_req"]).table_metrics == ("kl_nats", "alpha_req", "alpha_r2")
    with pytest.raises(ConfigError, match="metrics"):
        RBM(9, 4, metrics=["participation_ratio"])
    with pytest.raises(ConfigError, match="metrics"):
        RBM(9, 4, metrics="alpha_req")
