"""Sweeps: grid expansion, tidy table, resumability (a real SIGKILL), failures, Dask."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurocl.errors import ConfigError
from neurocl.experiments.sweep import expand, load_sweep, run_sweep

from test_config import GOOD


# a learning rate at which no seed diverges in 300,000 ms (0.01 trips the divergence check for seed 2)
STABLE = '"learners.isd.learning_rate" = 0.002\n"learners.twophase.learning_rate" = 0.002'


def _spec(tmp_path, grid, duration=200.0, extra=""):
    (tmp_path / "base.toml").write_text(GOOD)
    text = f"""name = "t"
base = "base.toml"
[overrides]
"simulation.duration" = {duration}
{extra}
[grid]
{grid}
"""
    p = tmp_path / "sweep.toml"
    p.write_text(text)
    return p


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_grid_expansion_and_validation(tmp_path):
    spec = load_sweep(_spec(tmp_path, '"learners.isd.phases.b" = [0.2, 0.5]\n"simulation.seed" = [0, 1, 2]'))
    points = expand(spec)
    assert len(points) == 6
    assert {(p["learners"]["isd"]["phases"]["b"], p["simulation"]["seed"]) for p in points} == \
        {(b, s) for b in (0.2, 0.5) for s in (0, 1, 2)}
    with pytest.raises(ConfigError, match=r"b = 1.5 is outside the allowed range"):
        load_sweep(_spec(tmp_path, '"learners.isd.phases.b" = [0.5, 1.5]'))
    with pytest.raises(ConfigError, match="no table 'nope'"):
        load_sweep(_spec(tmp_path, '"nope.b" = [1]'))


@pytest.mark.integration
def test_local_sweep_table_resume_failure_and_duplicates(tmp_path):
    # 0.01, 1.0e-2 and 0.010 are one config: run once, one set of rows
    spec = load_sweep(_spec(tmp_path, '"learners.isd.learning_rate" = [0.01, 1e308, 1.0e-2, 0.010]\n'
                                      '"simulation.seed" = [0, 1]'))
    out = tmp_path / "out"
    lines = []
    counts = run_sweep(spec, out, "local", workers=2, progress=False, echo=lines.append)
    assert counts == {"done": 2, "cached": 0, "failed": 2, "merged": 4}
    assert "4 runs, 4 duplicate grid points merged" in lines[-1]
    assert len(list((out / "runs").iterdir())) == 2
    failed = sorted((out / "failed").glob("*.json"))
    assert len(failed) == 2 and "DivergenceError" in failed[0].read_text()
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0].split(",")[:6] == ["run", "learners.isd.learning_rate", "simulation.seed", "learner",
                                      "time_ms", "replica"]
    assert "kl_nats" in rows[0]
    assert len(rows) == 1 + 2 * 2 * 3 * 2  # runs x learners x checkpoints x replicas
    before = _digest(out / "runs")
    counts = run_sweep(spec, out, "local", workers=2, progress=False, echo=None)
    assert counts == {"done": 2, "cached": 2, "failed": 2, "merged": 4}
    assert _digest(out / "runs") == before


@pytest.mark.integration
def test_sigkill_then_resume_keeps_finished_runs_identical(tmp_path):
    path = _spec(tmp_path, "\"simulation.seed\" = [0, 1, 2, 3, 4, 5]", duration=100000.0, extra=STABLE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "neurocl", "sweep", str(path), "--out", str(out), "--workers", "1",
           "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = out / "runs"
    deadline = time.time() + 240
    while time.time() < deadline:
        done = [p for p in runs.glob("*") if p.is_dir() and not p.name.startswith(".")] if runs.is_dir() else []
        if done:
            break
        time.sleep(0.05)
    assert done, "no run finished in time"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: _digest(p) for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert 1 <= len(finished) < 6
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    final = {p.name: _digest(p) for p in runs.iterdir() if p.is_dir()}
    assert len(final) == 6 and not any(n.startswith(".") for n in final)
    for name, digest in finished.items():
        assert final[name] == digest


@pytest.mark.integration
def test_dask_local_cluster(tmp_path):
    from dask.distributed import LocalCluster

    spec = load_sweep(_spec(tmp_path, '"simulation.seed" = [0, 1, 2]'))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        counts = run_sweep(spec, tmp_path / "out", "dask", cluster.scheduler_address, progress=False, echo=None)
    assert counts == {"done": 3, "cached": 0, "failed": 0, "merged": 0}
    assert len(list((tmp_path / "out" / "runs").iterdir())) == 3
