"""End to end: `neurocl run` writes the documented results directory; learners learn."""

import os
import stat
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from neurocl.config import load_config, parse_config
from neurocl.experiments.run import read_metrics_csv, run

from test_config import GOOD

BAS3 = "circuits/bas3.toml"


def test_results_directory(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "neurocl", "run", str(spec), "--out", str(out),
                          "--no-progress", "--seed", "3"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "kl_nats at checkpoints" in res.stdout and "(nats)" in res.stdout
    resolved = parse_config(tomllib.loads((out / "config.toml").read_text()))
    assert resolved.simulation.seed == 3
    assert resolved == load_config(spec).replace(seed=3)
    for learner in ("isd", "twophase"):
        times, metrics = read_metrics_csv(out / learner / "metrics.csv")
        assert times[0] == 0 and times[-1] == pytest.approx(200.0)
        assert set(metrics) == {"kl_nats", "nll_nats"}
        assert metrics["kl_nats"].shape == (3, 2)
        w = np.load(out / learner / "weights.npz")
        assert w["W"].shape == (4, 3) and w["a"].shape == (4,) and w["c"].shape == (3,)
        assert w["W_all"].shape == (2, 4, 3)
    png = (out / "summary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.rglob("*.tmp"))
    (out / "summary.png").unlink()
    rep = subprocess.run([sys.executable, "-m", "neurocl", "report", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert rep.returncode == 0, rep.stderr
    table = [line for line in rep.stdout.splitlines() if line.strip().startswith("200 ")]
    assert table and table[0] in res.stdout  # the same final row as the run printed
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.integration
def test_bas3_short_run_both_learners_learn(tmp_path):
    """1/16 of the default bas3 run: both learners are already clearly below the uniform
    model's 3.60 nats (a broken sign or estimator stays at or above it)."""
    cfg = load_config(BAS3).replace(duration=4_000_000.0, replicas=3)
    trajs = run(cfg, tmp_path, progress=False, echo=None)
    for label, traj in trajs.items():
        final = traj.metrics["kl_nats"][-1]
        assert final.mean() < 2.8, (label, final)


@pytest.mark.slow
def test_bas3_default_config_acceptance(tmp_path):
    """Issue 2: bas3, mean of 5 seeds, default config: ISD and TwoPhase each reach KL <= 0.6
    nats, and ISD is within 0.15 nats of TwoPhase at equal simulated time."""
    cfg = load_config(BAS3)
    assert cfg.simulation.replicas == 5
    trajs = run(cfg, tmp_path, progress=False, echo=None)
    isd = trajs["isd"].metrics["kl_nats"][-1].mean()
    tp = trajs["twophase"].metrics["kl_nats"][-1].mean()
    assert isd <= 0.6 and tp <= 0.6, (isd, tp)
    assert abs(isd - tp) <= 0.15, (isd, tp)


DIGITS = "circuits/digits.toml"


@pytest.mark.integration
def test_digits_short_run_learns(tmp_path):
    """1/12 of the default digits run: both learners are far above chance (10 %)."""
    cfg = load_config(DIGITS).replace(duration=500_000.0, checkpoints=1)
    trajs = run(cfg, tmp_path, progress=False, echo=None)
    for label, traj in trajs.items():
        assert traj.metrics["test_accuracy_pct"][-1].mean() > 70.0, label


@pytest.mark.slow
def test_digits_default_config_acceptance(tmp_path):
    """Issue 2: TwoPhase (symmetric EP) and ISD each reach >= 95 % test accuracy on the
    stratified 20 % held-out split of scikit-learn's digits."""
    cfg = load_config(DIGITS)
    trajs = run(cfg, tmp_path, progress=False, echo=None)
    for label, traj in trajs.items():
        assert traj.metrics["test_accuracy_pct"][-1].mean() >= 95.0, (label, traj.metrics["test_accuracy_pct"][:, 0])


# ---------------------------------------------------------------------------- results directories
from neurocl.errors import ConfigError  # noqa: E402
from neurocl.experiments.run import (DONE_MARKER, config_hash, format_table, is_complete,  # noqa: E402
                                     read_results_config, report)


def _tiny(tmp_path, text=GOOD, name="tiny.toml"):
    p = tmp_path / name
    p.write_text(text)
    return load_config(p)


def test_done_marker_is_written_last_and_names_the_config(tmp_path):
    out = tmp_path / "out"
    run(_tiny(tmp_path), out, progress=False, echo=None)
    done = tomllib.loads((out / DONE_MARKER).read_text())
    assert done["config_hash"] == config_hash((out / "config.toml").read_text())
    assert done["learners"] == ["isd", "twophase"] and done["origin"] == str(tmp_path.cwd())
    assert "finished" in done
    newest = max(p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file())
    assert (out / DONE_MARKER).stat().st_mtime_ns == newest
    assert is_complete(out)
    for learner in ("isd", "twophase"):
        assert tomllib.loads((out / learner / DONE_MARKER).read_text())["config_hash"] == done["config_hash"]
    (out / "config.toml").write_text((out / "config.toml").read_text() + "\n# edited\n")
    assert not is_complete(out)


def test_out_holding_another_run_is_refused_then_overwritten(tmp_path):
    out = tmp_path / "out"
    run(_tiny(tmp_path), out, progress=False, echo=None)
    one_learner = GOOD.split("[learners.twophase]")[0].replace("replicas = 2", "replicas = 1")
    cfg = _tiny(tmp_path, one_learner, "one.toml").replace(seed=5)
    with pytest.raises(ConfigError, match=r"holds a different run \(simulation.replicas: 2 there, 1 now\).*--overwrite"):
        run(cfg, out, progress=False, echo=None)
    assert (out / "twophase" / "weights.npz").is_file() and is_complete(out)   # untouched
    run(cfg, out, progress=False, echo=None, overwrite=True)
    assert not (out / "twophase").exists()          # the old run's learner is gone
    assert sorted(p.name for p in out.iterdir()) == ["DONE", "config.toml", "isd", "profile.toml", "summary.png"]
    assert read_results_config(out).simulation.seed == 5


def test_overwrite_refuses_a_folder_that_is_not_a_results_dir(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.toml").write_text(GOOD)
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match=r"--overwrite refused.*thesis.tex"):
        run(_tiny(tmp_path), out, progress=False, echo=None, overwrite=True)
    assert (out / "thesis.tex").read_text() == "precious"
    (out / "thesis.tex").unlink()
    (out / "notes").mkdir()
    (out / "notes" / "a.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"notes/a.txt"):
        run(_tiny(tmp_path), out, progress=False, echo=None, overwrite=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    run(_tiny(tmp_path), empty, progress=False, echo=None, overwrite=True)   # empty: fine
    assert is_complete(empty)


def test_same_run_reruns_and_resume_skips_complete_learners(tmp_path):
    out = tmp_path / "out"
    cfg = _tiny(tmp_path)
    first = run(cfg, out, progress=False, echo=None)
    # a killed second learner: no learner marker, no DONE
    (out / "twophase" / DONE_MARKER).unlink()
    (out / DONE_MARKER).unlink()
    (out / "twophase" / "weights.npz").unlink()
    isd_before = (out / "isd" / "weights.npz").stat().st_mtime_ns
    echoed = []
    again = run(cfg, out, progress=False, echo=echoed.append, resume=True)
    assert any("isd: complete" in line for line in echoed)
    assert (out / "isd" / "weights.npz").stat().st_mtime_ns == isd_before   # not recomputed
    assert again["isd"].info.get("resumed") and not again["twophase"].info.get("resumed")
    np.testing.assert_allclose(again["isd"].params["W"], first["isd"].params["W"])
    np.testing.assert_allclose(again["twophase"].params["W"], first["twophase"].params["W"])   # same seed
    assert is_complete(out) and (out / "twophase" / "weights.npz").is_file()
    with pytest.raises(ConfigError, match="--resume continues only the same run"):
        run(cfg.replace(seed=9), out, progress=False, echo=None, resume=True)


def test_result_files_follow_the_umask(tmp_path):
    from neurocl.atomic import write_text_atomic

    old = os.umask(0o027)
    try:
        run(_tiny(tmp_path), tmp_path / "out", progress=False, echo=None)
        write_text_atomic(tmp_path / "x.txt", "x")
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()] + [tmp_path / "x.txt"]
    assert {p.name for p in files} >= {"config.toml", "metrics.csv", "weights.npz", "summary.png", "DONE"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o640, (p, oct(p.stat().st_mode))


def test_report_aligns_learners_by_time_and_reads_only_the_runs_learners(tmp_path, capsys):
    out = tmp_path / "out"
    run(_tiny(tmp_path), out, progress=False, echo=None)
    # twophase's table from another run with other checkpoint times
    (out / "twophase" / "metrics.csv").write_text(
        "time_ms,replica,kl_nats,nll_nats\n0,0,9.5,1\n0,1,9.5,1\n50,0,7.25,1\n50,1,7.25,1\n200,0,5.5,1\n200,1,5.5,1\n")
    stale = out / "old_learner"
    stale.mkdir()
    (stale / "metrics.csv").write_text("time_ms,replica,kl_nats\n0,0,987654\n")
    lines = []
    report(out, echo=lines.append)
    table = "\n".join(lines).splitlines()
    rows = {line.split()[0]: line for line in table if line.strip() and line.split()[0].isdigit()}
    assert set(rows) == {"0", "50", "100", "200"}
    assert "7.250" in rows["50"] and rows["50"].split()[1] == "-"   # isd has no value at 50 ms
    assert "5.500" in rows["200"] and "-" not in rows["200"].split()
    assert rows["100"].split()[-1] == "-"                             # twophase has none at 100 ms
    assert "old_learner" not in "\n".join(lines) and "987654" not in "\n".join(lines)


def test_format_table_aligns_by_time():
    a = (np.array([0.0, 100.0]), np.array([[1.0], [2.0]]))
    b = (np.array([100.0, 200.0]), np.array([[3.0], [4.0]]))
    text = format_table({"a": a, "b": b}, "kl_nats", "(nats)")
    rows = [line.split() for line in text.splitlines()[2:]]
    assert rows == [["0", "1.000", "-"], ["100", "2.000", "3.000"], ["200", "-", "4.000"]]


def test_format_table_several_metrics_with_definitions():
    """A circuit's ``table_metrics``: one column per learner and metric, mean +- s.e. over
    replicas, a legend line per metric; circuits that declare none show only the main metric."""
    from types import SimpleNamespace

    from neurocl.experiments.run import table_metrics

    a = (np.array([0.0, 100.0]), {"acc": np.array([[0.5, 0.7], [0.8, 0.8]]), "alpha": np.array([[1.0, 3.0], [2.0, 2.0]])})
    text = format_table({"a": a}, ("acc", "alpha"), definitions={"acc": "test accuracy, fraction"})
    lines = text.splitlines()
    assert lines[0].split() == ["time", "(ms)", "a", "acc", "a", "alpha"]
    assert lines[2].split() == ["0", "0.600", "+-", "0.100", "2.000", "+-", "1.000"]
    assert lines[3].split() == ["100", "0.800", "+-", "0.000", "2.000", "+-", "0.000"]
    assert lines[4:] == ["  acc: test accuracy, fraction", "  alpha: (dimensionless)"]
    assert table_metrics(SimpleNamespace(main_metric="kl_nats")) == ("kl_nats",)
    assert table_metrics(SimpleNamespace(main_metric="x", table_metrics=("x", "y"))) == ("x", "y")


def test_report_from_another_directory_uses_saved_profile_and_absolute_data_paths(tmp_path, monkeypatch, capsys):
    import struct

    work = tmp_path / "work"
    work.mkdir()
    x = (np.array([[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 1]]) * 255)
    (work / "bas.idx").write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 6, 2, 2) + x.astype(np.uint8).tobytes())
    (work / "dev.toml").write_text('name = "dev"\nw_min = -2.0\nw_max = 2.0\n')
    text = GOOD.replace('name = "bars_and_stripes"\nsize = 2', 'name = "idx"\nimages = "bas.idx"') \
        .replace('name = "tiny"', 'name = "tiny"\nprofile = "dev.toml"')
    (work / "s.toml").write_text(text)
    monkeypatch.chdir(work)
    run(load_config("s.toml"), "res", progress=False, echo=None)
    saved = tomllib.loads((work / "res" / "config.toml").read_text())
    assert saved["data"]["images"] == str(work / "bas.idx") and saved["profile"] == str(work / "dev.toml")
    (work / "dev.toml").unlink()      # the run's profile file is gone: report uses profile.toml
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lines = []
    report(work / "res", echo=lines.append)
    assert any("uniform" in line or "kl_nats" in line for line in lines)
    assert "warning" not in capsys.readouterr().err
    assert (work / "res" / "summary.png").is_file()


def test_report_warns_about_a_partial_run(tmp_path, capsys):
    out = tmp_path / "out"
    run(_tiny(tmp_path), out, progress=False, echo=None)
    (out / DONE_MARKER).unlink()
    with pytest.warns(UserWarning, match="DONE") as seen:   # the CLI prints it as `neurocl: warning: ...`
        report(out, echo=None)
    assert len(seen) == 1 and capsys.readouterr().err == ""


def test_deploy_uses_the_runs_learners_not_stale_folders(tmp_path):
    from neurocl.experiments.deploy import _learners

    out = tmp_path / "out"
    run(_tiny(tmp_path), out, progress=False, echo=None)
    stale = out / "aaa_stale"
    stale.mkdir()
    np.savez(stale / "weights.npz", W=np.zeros((4, 3)), a=np.zeros(4), c=np.zeros(3))
    config = read_results_config(out)
    assert [d.name for d in _learners(config, out, None)] == ["isd", "twophase"]
    (out / "twophase" / "weights.npz").unlink()
    with pytest.raises(ConfigError, match=r"twophase/weights.npz: missing"):
        _learners(config, out, None)
