"""User errors end in one line ``neurocl: error: ...`` naming the flag, field or file, and exit
status 2 (``--debug`` shows the traceback); memory and exact-metric estimates refuse before
allocating; ``Engine.run`` checks its arguments' types."""

import errno
import os
import time
import zipfile

import numpy as np
import pytest

from neurocl.cli import error_message, main
from neurocl.config import load_config
from neurocl.errors import ConfigError
from neurocl.experiments.run import run

from test_config import GOOD


def call(argv, capsys):
    """``(exit status, stderr lines)`` of ``neurocl argv`` run in this process."""
    try:
        rc = main(argv)
    except SystemExit as exc:   # argparse
        rc = exc.code
    err = capsys.readouterr().err.splitlines()
    return rc, err


def one_error(argv, capsys, *names):
    rc, err = call(argv, capsys)
    assert rc == 2, err
    assert len(err) == 1 and err[0].startswith("neurocl: error: "), err
    for n in names:
        assert str(n) in err[0], (n, err[0])
    return err[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny run (two learners)."""
    base = tmp_path_factory.mktemp("finished")
    spec = base / "tiny.toml"
    spec.write_text(GOOD)
    run(load_config(spec), base / "res", progress=False, echo=None)
    return base / "res"


@pytest.fixture
def results(finished, tmp_path):
    import shutil

    dst = tmp_path / "res"
    shutil.copytree(finished, dst)
    return dst


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(GOOD)
    return p


# ------------------------------------------------------------------------- flags and ranges
@pytest.mark.parametrize("argv,flag", [
    (["check-theory", "--states", "0"], "--states"),
    (["check-theory", "--steps-per-update", "0"], "--steps-per-update"),
    (["check-theory", "--steps-per-update", "-1"], "--steps-per-update"),
    (["check-theory", "--draws", "1"], "--draws"),
    (["check-theory", "--engine", "lava", "--windows", "1"], "--windows"),
    (["check-theory", "--time", "-3"], "--time"),
    (["deploy", "somewhere", "--sweeps", "0"], "--sweeps"),
    (["deploy", "somewhere", "--timeout", "0"], "--timeout"),
    (["sweep", "s.toml", "--workers", "-1"], "--workers"),
    (["sweep", "s.toml", "--workers", "0"], "--workers"),
    (["run", "s.toml", "--time", "nan"], "--time"),
    (["run", "s.toml", "--replicas", "0"], "--replicas"),
    (["run", "s.toml", "--seed", "-2"], "--seed"),
])
def test_flag_out_of_range_is_one_line(argv, flag, capsys):
    one_error(argv, capsys, flag)


def test_check_theory_api_validates_arguments():
    from neurocl.experiments.check_theory import check_theory

    cfg = load_config("circuits/bas3.toml")
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match="states = 0"):
        check_theory(cfg, [], n_states=0)
    with pytest.raises(ConfigError, match="steps_per_update = -1"):
        check_theory(cfg, [], steps_per_update=-1)
    with pytest.raises(ConfigError, match="draws = 1"):
        check_theory(cfg, [], draws=1)
    assert time.monotonic() - t0 < 5   # refused before any trajectory is simulated


def test_deploy_api_validates_sweeps(results):
    from neurocl.experiments.deploy import deploy_run

    with pytest.raises(ConfigError, match="sweeps = 0"):
        deploy_run(results, sweeps=0)


# ------------------------------------------------------------------------- files
def test_deploy_missing_weights_names_the_file(results, capsys):
    (results / "twophase" / "weights.npz").unlink()
    one_error(["deploy", str(results)], capsys, results / "twophase" / "weights.npz")


@pytest.mark.parametrize("damage", ["truncated", "empty", "text"])
def test_deploy_unreadable_weights_names_the_file(results, damage, capsys):
    w = results / "isd" / "weights.npz"
    data = {"truncated": w.read_bytes()[:300], "empty": b"", "text": b"not a zip\n"}[damage]
    w.write_bytes(data)
    one_error(["deploy", str(results)], capsys, w)


def test_deploy_wrong_shape_blames_the_weights_file(results, capsys):
    w = results / "isd" / "weights.npz"
    np.savez(w, W=np.zeros((3, 4)), a=np.zeros(4), c=np.zeros(3))
    line = one_error(["deploy", str(results)], capsys, w, "'W'", "(3, 4)")
    assert "bias" not in line


def test_deploy_unknown_learner(results, capsys):
    one_error(["deploy", str(results), "--learner", "nope"], capsys, "--learner", "nope")


@pytest.mark.parametrize("damage,name", [
    ("time_ms,replica,kl_nats\n0,zero,1\n", "metrics.csv"),
    ("", "metrics.csv"),
    ("a,b\n1,2\n", "metrics.csv"),
])
def test_report_corrupted_metrics_csv(results, damage, name, capsys):
    (results / "isd" / "metrics.csv").write_text(damage)
    one_error(["report", str(results)], capsys, results / "isd" / name)


@pytest.mark.parametrize("damage", [b"[circuit\n", b"\xff\xfe\x00garbage", b"name = 3\n"])
def test_report_corrupted_config_toml(results, damage, capsys):
    (results / "config.toml").write_bytes(damage)
    one_error(["report", str(results)], capsys, results / "config.toml")


def test_non_utf8_spec_and_profile(spec, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'name = "x"\n# caf\xe9\n')
    one_error(["run", str(bad)], capsys, bad, "UTF-8")
    one_error(["run", str(spec), "--profile", str(bad)], capsys, bad)
    one_error(["check-theory", "--circuit", str(bad)], capsys, bad)
    one_error(["sweep", str(bad)], capsys, bad)


def test_out_is_a_file_or_under_one(spec, capsys):
    one_error(["run", str(spec), "--out", str(spec), "--no-progress"], capsys, spec)
    one_error(["run", str(spec), "--out", str(spec / "sub"), "--no-progress"], capsys, spec)


def test_unwritable_out(spec, tmp_path, capsys):
    if os.geteuid() == 0:   # root writes anywhere on ordinary file systems
        out = "/sys/neurocl-test/out"
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        out = str(locked / "out")
    try:
        one_error(["run", str(spec), "--out", out, "--no-progress"], capsys, out)
    finally:
        if os.geteuid() != 0:
            (tmp_path / "locked").chmod(0o700)


def test_truncated_gz_and_empty_idx_name_the_file(tmp_path, capsys):
    import gzip
    import struct

    x = np.array([[0, 0, 0, 0], [255, 255, 0, 0], [0, 0, 255, 255], [255, 0, 255, 0]], dtype=np.uint8)
    raw = bytes([0, 0, 8, 2]) + struct.pack(">2I", *x.shape) + x.tobytes()
    (tmp_path / "x.idx.gz").write_bytes(gzip.compress(raw)[:-10])
    (tmp_path / "e.idx").write_bytes(bytes([0, 0, 8, 2]) + struct.pack(">2I", 0, 4))
    for name in ("x.idx.gz", "e.idx"):
        text = GOOD.replace('name = "bars_and_stripes"\nsize = 2', f'name = "idx"\nimages = "{tmp_path / name}"')
        (tmp_path / "s.toml").write_text(text)
        one_error(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--no-progress"], capsys, name)


# ------------------------------------------------------------------------- the handler
def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ConfigError):
        main(["--debug", "report", str(tmp_path / "nothing")])


@pytest.mark.parametrize("exc,expected", [
    (PermissionError(errno.EACCES, "Permission denied", "/x/y.toml"), "/x/y.toml: Permission denied"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/x/d"), "/x/d: Is a directory"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/f"), "/x/f: No such file"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "UTF-8"),
    (zipfile.BadZipFile("File is not a zip file"), "zip"),
    (EOFError("No data left in file"), "ended early"),
    (MemoryError(), "out of memory"),
    (ValueError("could not convert string to float: 'x'"), "could not convert"),
])
def test_handler_turns_expected_failures_into_one_line(exc, expected, monkeypatch, capsys):
    import neurocl.cli as cli

    def boom(args):
        raise exc

    monkeypatch.setattr(cli, "_cmd_profiles", boom)
    line = one_error(["profiles"], capsys, expected)
    assert "--debug" in line
    assert error_message(exc) is not None


def test_handler_keeps_tracebacks_of_bugs(monkeypatch):
    import neurocl.cli as cli

    def boom(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_cmd_profiles", boom)
    with pytest.raises(KeyError):
        main(["profiles"])


# ------------------------------------------------------------------------- estimates
def test_tiny_dt_is_refused_before_allocating(spec, tmp_path):
    cfg = load_config(spec).replace(duration=1024.0, dt=2.0**-24)
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match=r"simulation.duration / simulation.dt.*phase table needs about"):
        run(cfg, tmp_path / "o", progress=False, echo=None)
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "o").exists()


def test_phase_table_checks_the_budget(monkeypatch):
    from neurocl.engines.numpy.schedule import phase_table, phase_table_bytes
    from neurocl.phases import Alternating
    from neurocl.simulation import Simulation

    sim = Simulation(dt=1.0, duration=100_000.0, replicas=4)
    assert phase_table_bytes(Alternating(5.0), sim) >= 3 * 4 * 100_000
    monkeypatch.setenv("NEUROCL_MEMORY_BUDGET", "100K")
    with pytest.raises(ConfigError, match="NEUROCL_MEMORY_BUDGET"):
        phase_table(Alternating(5.0), sim, np.random.default_rng(0))
    monkeypatch.setenv("NEUROCL_MEMORY_BUDGET", "1G")
    positive, start, fresh = phase_table(Alternating(5.0), sim, np.random.default_rng(0))
    assert positive.shape == (4, 100_000)


def test_bas28_is_refused_without_generating(spec, tmp_path, monkeypatch):
    import neurocl.data.spec as data_spec

    def never(size):
        raise AssertionError("the Bars-and-Stripes generator must not be called")

    monkeypatch.setattr(data_spec, "bars_and_stripes", never)
    text = GOOD.replace("size = 2", "size = 28").replace("n_visible = 4", "n_visible = 784")
    (tmp_path / "b.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"data.size = 28"):
        run(load_config(tmp_path / "b.toml"), tmp_path / "o", progress=False, echo=None)


def test_exact_kl_cost_is_refused_naming_the_layers(tmp_path):
    from neurocl.measure.exact import check_rbm_exact

    text = GOOD.replace("size = 2", "size = 5").replace("n_visible = 4", "n_visible = 25") \
        .replace("n_hidden = 3", "n_hidden = 30")
    (tmp_path / "b.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"circuit.n_visible = 25, circuit.n_hidden = 30.*2\^25"):
        run(load_config(tmp_path / "b.toml"), tmp_path / "o", progress=False, echo=None)
    with pytest.raises(ConfigError, match="memory"):
        check_rbm_exact(10**7, 16)
    with pytest.raises(ConfigError, match="multiply-adds"):
        check_rbm_exact(20, 20, 10**6, evaluations=100_000)
    check_rbm_exact(9, 16, 14, evaluations=200)


def test_all_states_order_and_limits():
    import itertools

    from neurocl.measure.exact import all_states

    for n in (0, 1, 3, 5):
        ref = np.array(list(itertools.product((0.0, 1.0), repeat=n))).reshape(2**n, n)
        np.testing.assert_array_equal(all_states(n), ref)
    with pytest.raises(ConfigError, match="2\\^25"):
        all_states(25)


# ------------------------------------------------------------------------- Engine.run misuse
def _engine_args():
    from neurocl.config import parse_config
    from neurocl.experiments.tasks import make_task
    import tomllib

    cfg = parse_config(tomllib.loads(GOOD))
    learner = cfg.learners[0]
    return cfg, learner, make_task(cfg.circuit, cfg.data)


def test_engine_run_checks_argument_types():
    from neurocl.engines import get_engine

    cfg, learner, task = _engine_args()
    engine = get_engine("numpy")
    with pytest.raises(ConfigError, match="phase process"):
        engine.run(cfg.circuit, learner.rule, None, task, cfg.simulation)
    with pytest.raises(TypeError, match="task must be a neurocl.simulation.Task") as info:
        engine.run(cfg.circuit, learner.rule, learner.phases, None, cfg.simulation)
    assert "\n" not in str(info.value)
    with pytest.raises(TypeError, match="sim must be a neurocl.simulation.Simulation.*got dict"):
        engine.run(cfg.circuit, learner.rule, learner.phases, task, {"dt": 1.0, "duration": 10.0})
    with pytest.raises(TypeError, match="circuit must be"):
        engine.run("rbm", learner.rule, learner.phases, task, cfg.simulation)
    with pytest.raises(TypeError, match="profile must be"):
        engine.run(cfg.circuit, learner.rule, learner.phases, task, cfg.simulation, profile="ideal")
