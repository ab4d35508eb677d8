"""The Python API (neurocl.api): specs by name or path with overrides, runs on a profile,
typed results, save and load of results directories.  Short runs (100-200 ms simulated)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import neurocl
from neurocl import ConfigError, HardwareProfile, load_profile
from neurocl.experiments.run import is_complete, read_metrics_csv

ROOT = Path(__file__).resolve().parents[1]
SHORT = {"simulation.duration": 200.0, "simulation.replicas": 2, "simulation.checkpoints": 2}


def test_load_spec_by_name_and_by_path_agree(tmp_path):
    copy = tmp_path / "mine.toml"
    copy.write_text((ROOT / "circuits" / "bas3.toml").read_text())
    assert neurocl.load_spec("bas3") == neurocl.load_spec(copy)


def test_overrides_are_applied_and_validated():
    spec = neurocl.load_spec("bas3", {"simulation.duration": 4000.0, "learners.isd.phases.b": 0.3,
                                      "learners.isd.learning_rate": 1e-4, "profile": "pcm"})
    assert spec.simulation.duration == 4000.0 and spec.profile == "pcm"
    isd = {s.label: s for s in spec.learners}["isd"]
    assert isd.phases.b == 0.3 and isd.rule.learning_rate == 1e-4
    assert neurocl.load_spec(spec, {"simulation.seed": 3}).simulation.seed == 3   # a loaded spec, changed again
    with pytest.raises(ConfigError, match=r"b = 2 is outside the allowed range \(0, 1\)"):
        neurocl.load_spec("bas3", {"learners.isd.phases.b": 2})
    with pytest.raises(ConfigError, match="no table 'learners.nope'"):
        neurocl.load_spec("bas3", {"learners.nope.learning_rate": 1e-4})
    with pytest.raises(ConfigError, match="unknown top-level key 'simulations'"):
        neurocl.load_spec("bas3", {"simulations": {}})


def test_learner_selection():
    spec = neurocl.load_spec("bas3", learners=["twophase"])
    assert [s.label for s in spec.learners] == ["twophase"]
    with pytest.raises(ConfigError, match="'cd' is not a learner of bas3"):
        neurocl.load_spec("bas3", learners=["cd"])


def test_run_returns_typed_arrays_and_saves_a_results_directory(tmp_path):
    spec = neurocl.load_spec("bas3", SHORT)
    result = neurocl.run(spec, profile="rram_hfo2")
    assert list(result) == ["isd", "twophase"] and result.main_metric == "kl_nats"
    assert result.profile == load_profile("rram_hfo2") and result.config.profile == "rram_hfo2"
    isd = result["isd"]
    C, R = 3, 2                                    # t = 0 and 2 checkpoints; 2 replicas
    assert isd.times_ms.tolist() == [0.0, 100.0, 200.0]
    assert isd.metrics["kl_nats"].shape == (C, R) and isd.replicas == R
    assert isd.params["W"].shape == (R, 9, 16) and isd.params["a"].shape == (R, 9)
    kl = isd.final("kl_nats")
    assert kl.shape == (R,) and np.all(np.isfinite(kl)) and np.all(kl > 0)   # KL(data || model) > 0: 14 of 512 states
    assert isd.mean("kl_nats").shape == (C,) and isd.sem("kl_nats").shape == (C,)

    table = result.metrics_table()
    assert table.dtype.names[:3] == ("learner", "time_ms", "replica") and "kl_nats" in table.dtype.names
    assert len(table) == 2 * C * R
    rows = table[(table["learner"] == "twophase") & (table["replica"] == 1)]
    np.testing.assert_array_equal(rows["kl_nats"], result["twophase"].metrics["kl_nats"][:, 1])
    assert "isd (nats)" in result.summary().splitlines()[0]

    # the directory the run wrote is the `neurocl run` format; save copies it; load reads it back
    saved = result.save(tmp_path / "saved")
    assert is_complete(saved)
    times, metrics = read_metrics_csv(saved / "isd" / "metrics.csv")
    np.testing.assert_allclose(metrics["kl_nats"], isd.metrics["kl_nats"], rtol=1e-5)   # CSV keeps 6 digits
    back = neurocl.load_result(saved)
    assert back.profile == result.profile                    # read from the saved profile.toml
    assert dataclasses.replace(back.config, profile="rram_hfo2") == result.config
    np.testing.assert_array_equal(back["isd"].times_ms, isd.times_ms)
    for name, arr in isd.params.items():
        np.testing.assert_array_equal(back["isd"].params[name], arr)
    with pytest.raises(ConfigError, match="not an empty directory"):
        result.save(saved)


def test_profile_changes_the_learned_weights(tmp_path):
    """Same spec and seed: a profile made in Python, saved and passed by path, is applied
    (pulsed updates of 0.01 on a [-1, 1] device with 10 % up/down asymmetry), so the final
    weights differ from the ideal run's."""
    profile = HardwareProfile(name="mine", w_min=-1.0, w_max=1.0, dw_min=0.01, up_down=0.1)
    path = neurocl.save_profile(profile, tmp_path / "mine.toml")
    assert load_profile(path) == profile
    spec = neurocl.load_spec("bas3", {**SHORT, "simulation.replicas": 1}, learners=["isd"])
    ideal = neurocl.run(spec, profile="ideal", out=tmp_path / "ideal")
    device = neurocl.run(spec, profile=path, out=tmp_path / "device")
    assert (tmp_path / "device" / "DONE").is_file() and device.out == tmp_path / "device"
    assert device.profile == profile and ideal.profile == load_profile("ideal")
    assert not np.allclose(ideal["isd"].params["W"], device["isd"].params["W"])


def test_load_result_of_a_missing_directory(tmp_path):
    with pytest.raises(ConfigError, match="no such results directory"):
        neurocl.load_result(tmp_path / "none")


@pytest.mark.slow
def test_readme_python_api_example_prints_what_the_readme_says(tmp_path):
    """The README's "Python API" code block, run as written from an empty directory, prints the
    line the README quotes after it (same seed and settings, so the same number)."""
    import re
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1).replace("progress=True", "progress=False")
    quoted = re.search(r"It prints `([^`]+)`", section).group(1)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == quoted
    assert (tmp_path / "results" / "bas3-short" / "DONE").is_file()
