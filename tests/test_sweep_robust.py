"""Sweeps under faults: kill -9 of the main PID, concurrent sweeps, stale and foreign temporary
folders, incomplete run folders, bad options (duplicate grid points: test_sweep.py)."""

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from neurocl.config import parse_config
from neurocl.errors import ConfigError
from neurocl.experiments import sweep as sweep_mod
from neurocl.experiments.run import run
from neurocl.experiments.sweep import expand, load_sweep, run_key, run_sweep

from test_sweep import STABLE, _digest, _spec

LEARNERS = ("isd", "twophase")
REQUIRED = ["config.toml", "profile.toml", "run.json", "DONE",
            *(f"{lb}/{f}" for lb in LEARNERS for f in ("metrics.csv", "weights.npz"))]
ROWS_PER_RUN = 2 * 3 * 2  # learners x checkpoints x replicas (GOOD)


def _finished(runs: Path) -> list:
    return [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")] if runs.is_dir() else []


def _in_flight(runs: Path) -> list:
    return [p for p in runs.iterdir() if p.name.startswith(".")] if runs.is_dir() else []


def _rows_per_run(out: Path) -> Counter:
    with open(out / "results.csv") as fh:
        return Counter(row["run"] for row in csv.DictReader(fh))


def _assert_complete_once(out: Path, n: int) -> None:
    runs = out / "runs"
    assert not _in_flight(runs), [p.name for p in _in_flight(runs)]
    finished = _finished(runs)
    assert len(finished) == n
    for d in finished:
        missing = [f for f in REQUIRED if not (d / f).is_file()]
        assert not missing, (d.name, missing)
    assert _rows_per_run(out) == {d.name: ROWS_PER_RUN for d in finished}


def _alive(proc) -> bool:
    import psutil

    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.integration
def test_kill9_of_main_pid_leaves_no_orphans_and_rerun_completes_every_run_once(tmp_path):
    psutil = pytest.importorskip("psutil")
    path = _spec(tmp_path, '"simulation.seed" = [0, 1, 2, 3, 4, 5]', duration=100000.0, extra=STABLE)
    out = tmp_path / "out"
    runs = out / "runs"
    cmd = [sys.executable, "-m", "neurocl", "sweep", str(path), "--out", str(out), "--workers", "2",
           "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if _finished(runs) and _in_flight(runs):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers
        before = {p.name: _digest(p) for p in _finished(runs)}
        os.kill(proc.pid, signal.SIGKILL)  # the main PID only, not its process group
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        orphans = [(w.pid, w.cmdline()) for w in workers if _alive(w)]
        assert not orphans, f"workers outlived the sweep: {orphans}"
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)  # at once
        assert res.returncode == 0, res.stderr
    finally:
        _kill_group(proc.pid)
    _assert_complete_once(out, 6)
    for name, digest in before.items():
        assert _digest(runs / name) == digest  # finished runs untouched
    ref = tmp_path / "ref"  # a clean run of each config, in this process
    for raw in expand(load_sweep(path)):
        key, _ = run_key(raw)
        run(parse_config(raw, key), ref / key, progress=False, echo=None)
        for lb in LEARNERS:
            for f in ("metrics.csv", "weights.npz"):
                assert (runs / key / lb / f).read_bytes() == (ref / key / lb / f).read_bytes(), (key, lb, f)


@pytest.mark.integration
def test_second_sweep_on_the_same_folder_refuses_and_the_first_finishes_intact(tmp_path):
    path = _spec(tmp_path, '"simulation.seed" = [0, 1, 2]', duration=100000.0, extra=STABLE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "neurocl", "sweep", str(path), "--out", str(out), "--workers", "1",
           "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not _in_flight(out / "runs"):
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        t0 = time.time()
        with pytest.raises(ConfigError) as err:
            run_sweep(load_sweep(path), out, "local", workers=1, progress=False, echo=None)
        assert time.time() - t0 < 5
        msg = str(err.value)
        assert "another sweep is running" in msg and str(out) in msg and "\n" not in msg
        assert f"pid {proc.pid} on host {socket.gethostname()}" in msg
        assert proc.wait(timeout=180) == 0, proc.stderr.read().decode()
    finally:
        _kill_group(proc.pid)
    _assert_complete_once(out, 3)
    counts = run_sweep(load_sweep(path), out, "local", workers=1, progress=False, echo=None)  # lock released
    assert counts == {"done": 3, "cached": 3, "failed": 0, "merged": 0}


@pytest.mark.integration
def test_start_removes_only_dead_writers_folders_and_redoes_incomplete_runs(tmp_path):
    path = _spec(tmp_path, '"simulation.seed" = [0, 1]')
    spec = load_sweep(path)
    out = tmp_path / "out"
    runs = out / "runs"
    assert run_sweep(spec, out, "local", workers=1, progress=False, echo=None)["done"] == 2
    keys = sorted(p.name for p in _finished(runs))
    good = _digest(runs / keys[0])
    (runs / keys[1] / "config.toml").unlink()  # what the old stale-folder cleanup produced
    (runs / keys[1] / "profile.toml").unlink()
    (runs / keys[1] / "DONE").unlink()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = sweep_mod._host()
    try:
        planted = {
            "live": runs / f".{keys[1]}.tmp-{host}-{live.pid}-{sweep_mod._start_time(live.pid)}-abcd",
            "reused_pid": runs / f".{keys[1]}.tmp-{host}-{live.pid}-1-abce",  # same PID, other process
            "dead": runs / f".{keys[1]}.tmp-{host}-{dead.pid}-0-abcf",
            "legacy_dead": runs / f".{keys[1]}.tmp-{dead.pid}",
            "foreign": runs / f".{keys[1]}.tmp-some-other-host-{os.getpid()}-0-abd0",
        }
        for d in planted.values():
            (d / "isd").mkdir(parents=True)
            (d / "isd" / "metrics.csv").write_text("partial\n")
        lines = []
        counts = run_sweep(spec, out, "local", workers=1, progress=False, echo=lines.append)
        assert {k for k, d in planted.items() if d.exists()} == {"live", "foreign"}
    finally:
        live.kill()
        live.wait()
    assert counts == {"done": 2, "cached": 1, "failed": 0, "merged": 0}
    assert "1 incomplete run folders redone" in lines[-1]
    assert _digest(runs / keys[0]) == good
    assert all((runs / keys[1] / f).is_file() for f in REQUIRED)
    assert _rows_per_run(out) == {k: ROWS_PER_RUN for k in keys}
    run_sweep(spec, out, "local", workers=1, progress=False, echo=None)  # the live writer is gone now
    assert sorted(p.name for p in _in_flight(runs)) == [planted["foreign"].name]


@pytest.mark.parametrize("kwargs,match", [
    ({"workers": -1}, r"workers = -1 must be an integer >= 1"),
    ({"workers": 0}, r"workers = 0 must be an integer >= 1"),
    ({"workers": 1.5}, r"workers = 1.5 must be an integer >= 1"),
    ({"executor": "slurm"}, r"executor = 'slurm' is not one of \['dask', 'local'\]"),
    ({"scheduler": "tcp://127.0.0.1:8786"}, r"scheduler = .* is only used with executor = 'dask'"),
])
def test_bad_options_are_config_errors_before_anything_runs(tmp_path, kwargs, match):
    spec = load_sweep(_spec(tmp_path, '"simulation.seed" = [0]'))
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=match):
        run_sweep(spec, out, **kwargs, progress=False, echo=None)
    assert not out.exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "nonexistent-host.invalid:8786", "foo://x"])
def test_unreachable_scheduler_is_a_quick_config_error(tmp_path, address):
    pytest.importorskip("dask.distributed")
    spec = load_sweep(_spec(tmp_path, '"simulation.seed" = [0]'))
    t0 = time.time()
    with pytest.raises(ConfigError, match="scheduler = ") as err:
        run_sweep(spec, tmp_path / "out", "dask", address, progress=False, echo=None)
    assert time.time() - t0 < 10
    assert address in str(err.value) and "\n" not in str(err.value)
    assert not list((tmp_path / "out" / "runs").iterdir())


@pytest.mark.parametrize("sweep_text,base_text,match", [
    ('base = "base.toml"\n[grid]\n"simulation.seed" = [0]\n', "name = [\n", r"base = 'base.toml': malformed TOML"),
    ('base = 3\n[grid]\n"simulation.seed" = [0]\n', None, r"base = 3 must be the path of a run config"),
    ('base = "."\n[grid]\n"simulation.seed" = [0]\n', None, r"base = '.': is a directory"),
    ('base = "nope.toml"\n[grid]\n"simulation.seed" = [0]\n', None, r"base = 'nope.toml': no such file"),
    ('base = "base.toml"\noverrides = 3\n[grid]\n"simulation.seed" = [0]\n', None, r"\[overrides\] must be a table"),
    ('name = "../x"\nbase = "base.toml"\n[grid]\n"simulation.seed" = [0]\n', None, r"name = '../x' must be"),
    ('base = "base.toml"\n[grid\n', None, r"malformed TOML"),
])
def test_malformed_sweep_specs_are_one_line_config_errors(tmp_path, sweep_text, base_text, match):
    from test_config import GOOD

    (tmp_path / "base.toml").write_text(base_text if base_text is not None else GOOD)
    (tmp_path / "sweep.toml").write_text(sweep_text)
    with pytest.raises(ConfigError, match=match) as err:
        load_sweep(tmp_path / "sweep.toml")
    assert "\n" not in str(err.value).strip()


def test_cli_refuses_bad_workers_with_one_line(tmp_path):
    path = _spec(tmp_path, '"simulation.seed" = [0]')
    res = subprocess.run([sys.executable, "-m", "neurocl", "sweep", str(path), "--out", str(tmp_path / "out"),
                          "--workers", "-1", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurocl: error: ") and "workers" in lines[0] and ">= 1" in lines[0]
    assert not (tmp_path / "out").exists()
