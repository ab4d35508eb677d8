"""Bad input gives a one-line error naming the field and the allowed range."""

import subprocess
import sys
from pathlib import Path

import pytest

from neurocl.config import load_config, parse_config
from neurocl.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
GOOD = """
name = "tiny"
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
replicas = 2
checkpoints = 2
[learners.isd]
rule = "isd"
learning_rate = 0.01
phases = { kind = "stochastic", b = 0.5, length = { law = "gamma", mean = 5.0, shape = 2.0 } }
[learners.twophase]
rule = "twophase"
learning_rate = 0.01
phases = { kind = "alternating", length = 5.0 }
"""


def _cfg(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_config_roundtrips_through_resolved_toml(tmp_path):
    import tomllib

    from neurocl.tomlio import dumps

    cfg = load_config(_cfg(tmp_path, GOOD))
    assert [s.label for s in cfg.learners] == ["isd", "twophase"]
    again = parse_config(tomllib.loads(dumps(cfg.to_table())))
    assert again == cfg


@pytest.mark.parametrize("old,new,match", [
    ("b = 0.5", "b = 1.5", r"\[learners.isd.phases\] b = 1.5 is outside the allowed range \(0, 1\)"),
    ("b = 0.5", "b = 0", r"b = 0 is outside the allowed range \(0, 1\)"),
    ("duration = 200.0", "duration = -5.0", r"\[simulation\] duration = -5 must be > 0"),
    ("dt = 1.0", "dt = 0", r"\[simulation\] dt = 0 must be > 0"),
    ("n_hidden = 3", "n_hidden = 0", r"\[circuit\] n_hidden = 0 must be an integer >= 1"),
    ("n_hidden = 3", "n_hidden = 3\nfoo = 1", r"\[circuit\] unknown key 'foo'"),
    ("mean = 5.0", "mean = 0.0", r"\[learners.isd.phases.length\] mean = 0 must be > 0"),
    ('law = "gamma"', 'law = "cauchy"', r"law = 'cauchy' is not one of"),
    ('rule = "isd"', 'rule = "hebb"', r"rule = 'hebb' is not one of"),
    ("learning_rate = 0.01\nphases = { kind = \"alternating\"", "learning_rate = -1\nphases = { kind = \"alternating\"",
     r"\[learners.twophase\] learning_rate = -1 must be > 0"),
    ("n_visible = 4", "n_visible = 5", r"circuit.n_visible = 5 does not match the data dimension 4"),
])
def test_bad_values_name_the_field(tmp_path, old, new, match):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(ConfigError, match=match):
        cfg = load_config(_cfg(tmp_path, text))
        from neurocl.experiments.tasks import make_task

        make_task(cfg.circuit, cfg.data)


def test_malformed_toml(tmp_path):
    with pytest.raises(ConfigError, match=r"c.toml: malformed TOML"):
        load_config(_cfg(tmp_path, "[circuit\nkind = 'rbm'"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "neurocl", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("text,match", [
    (GOOD.replace("b = 0.5", "b = 2"), "b = 2 is outside the allowed range (0, 1)"),
    ("[circuit\n", "malformed TOML"),
    (GOOD.replace("size = 2", "size = 2\nshape = 3"), "[data] unknown key 'shape'"),
])
def test_cli_user_errors_are_one_line(tmp_path, text, match):
    res = _cli("run", _cfg(tmp_path, text), "--out", tmp_path / "out", "--no-progress", cwd=tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurocl: error:"), res.stderr
    assert match in lines[0]
    assert "Traceback" not in res.stderr


def test_cli_diverging_run_reports_time(tmp_path):
    text = GOOD.replace("learning_rate = 0.01", "learning_rate = 1e308")
    res = _cli("run", _cfg(tmp_path, text), "--out", tmp_path / "out", "--no-progress", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip()
    assert "diverged" in line and "simulated time t =" in line and "\n" not in line, line
