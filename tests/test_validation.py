"""Validation by type as well as range, whole-step durations, float32 refusals, divergence of
finite but absurd parameters, and refused data files (each a one-line ConfigError naming the
field or the file)."""

import gzip
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest

from neurocl.circuits import RBM, BoltzmannMachine, LayeredHopfield
from neurocl.config import load_config, parse_config
from neurocl.data import DataSpec, read_idx
from neurocl.data.spec import load_dataset
from neurocl.engines import Simulation, Task, get_engine
from neurocl.engines.loop import RunLoop
from neurocl.errors import ConfigError, DivergenceError, UnsupportedFeatureError
from neurocl.experiments.tasks import make_task
from neurocl.hardware import HardwareProfile, load_profile
from neurocl.phases import Alternating, Exponential, Fixed, StochasticPhases
from neurocl.plasticity import ISD, CDk, TwoPhase
from test_config import GOOD


def _cfg(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------------------- types
@pytest.mark.parametrize("text,match", [
    ("w_min = -1.0\nw_max = 1.0\nweight_bits = 8.5", r"\[profile\] weight_bits = 8.5 must be an integer$"),
    ("shared_rounding = \"no\"", r"\[profile\] shared_rounding = 'no' must be true or false$"),
    ("up_down = \"-0.1\"", r"\[profile\] up_down = '-0.1' must be a number$"),
    ("w_min = -1.0\nw_max = 1.0\nweight_bits = true", r"weight_bits = True must be an integer"),
    ("t_epoch = 2.0", r"t_epoch = 2.0 must be an integer"),
    ("rounding = 1", r"rounding = 1 must be a string"),
    ("description = 3", r"description = 3 must be a string"),
])
def test_profile_fields_are_type_checked(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_profile(_cfg(tmp_path, text, "bad.toml"))


def test_profile_constructor_refuses_wrong_types():
    for kw in ({"weight_bits": 8.5}, {"shared_rounding": "no"}, {"up_down": "-0.1"}, {"t_epoch": True}):
        with pytest.raises(ConfigError):
            HardwareProfile(w_min=-1.0, w_max=1.0, **kw)
    assert HardwareProfile(w_min=-1, w_max=1, weight_bits=8, shared_rounding=True).weight_bits == 8  # ints for floats


@pytest.mark.parametrize("old,new,match", [
    ("n_visible = 4", "n_visible = 4.0", r"\[circuit\] n_visible = 4.0 must be an integer$"),
    ("n_hidden = 3", "n_hidden = true", r"\[circuit\] n_hidden = True must be an integer"),
    ("n_hidden = 3", 'n_hidden = 3\ntau_n = "1"', r"\[circuit\] tau_n = '1' must be a number"),
    ("replicas = 2", "replicas = true", r"\[simulation\] replicas = True must be an integer$"),
    ("replicas = 2", "replicas = 2\nseed = 1.7", r"\[simulation\] seed = 1.7 must be an integer$"),
    ("checkpoints = 2", "checkpoints = 2.0", r"\[simulation\] checkpoints = 2.0 must be an integer$"),
    ("dt = 1.0", 'dt = "1.0"', r"\[simulation\] dt = '1.0' must be a number"),
    ("replicas = 2", 'replicas = 2\ndtype = 32', r"\[simulation\] dtype = 32 must be a string"),
    ("mean = 5.0", 'mean = "5"', r"\[learners.isd.phases.length\] mean = '5' must be a number$"),
    ("shape = 2.0", "shape = false", r"\[learners.isd.phases.length\] shape = False must be a number"),
    ("b = 0.5", 'b = "0.5"', r"\[learners.isd.phases\] b = '0.5' must be a number"),
    ("length = 5.0 }", "length = true }", r"\[learners.twophase.phases\] length = True must be a number"),
    ('rule = "isd"\nlearning_rate = 0.01', 'rule = "isd"\nlearning_rate = "0.01"',
     r"\[learners.isd\] learning_rate = '0.01' must be a number"),
    ('rule = "isd"\nlearning_rate = 0.01', 'rule = "isd"\nlearning_rate = 0.01\nmean_field = "yes"',
     r"\[learners.isd\] mean_field = 'yes' must be true or false"),
    ("size = 2", "size = 2.0", r"\[data\] size = 2.0 must be an integer"),
    ("size = 2", "size = 2\npresentation = \"10\"", r"\[data\] presentation = '10' must be a number"),
    ("size = 2", "size = 2\nsplit_seed = 0.5", r"\[data\] split_seed = 0.5 must be an integer"),
    ('name = "tiny"', 'name = "tiny"\nengine = { name = "numpy", kernel = 1 }',
     r"\[engine\] kernel = 1 must be a string"),
])
def test_spec_values_are_type_checked(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(ConfigError, match=match):
        load_config(_cfg(tmp_path, GOOD.replace(old, new, 1)))


def test_integers_are_accepted_where_numbers_are_expected(tmp_path):
    text = GOOD.replace("dt = 1.0", "dt = 1").replace("duration = 200.0", "duration = 200").replace("mean = 5.0", "mean = 5")
    cfg = load_config(_cfg(tmp_path, text))
    assert cfg.simulation.dt == 1.0 and isinstance(cfg.simulation.dt, float)
    assert Simulation(dt=1, duration=10, seed=np.int64(3)).seed == 3


def test_hopfield_spec_types(tmp_path):
    base = {"kind": "hopfield", "sizes": [64, 8, 10]}
    for extra, match in ((({"rest_on_new_sample": 1}), r"rest_on_new_sample = 1 must be true or false"),
                         (({"sizes": "64"}), r"sizes = '64' must be a list"),
                         (({"sizes": [64, 8.0, 10]}), r"sizes\[1\] = 8.0 must be an integer"),
                         (({"positive": True}), r"positive = True must be a string"),
                         (({"beta": "0.5"}), r"beta = '0.5' must be a number")):
        raw = {"circuit": {**base, **extra}, "data": {"name": "digits"},
               "simulation": {"dt": 0.5, "duration": 10.0},
               "learners": {"isd": {"rule": "isd", "learning_rate": 1e-3, "phases": {"kind": "alternating", "length": 5.0}}}}
        with pytest.raises(ConfigError, match=match):
            parse_config(raw)


@pytest.mark.parametrize("make,match", [
    (lambda: Simulation(dt=1.0, duration=10.0, seed=1.7), r"^seed = 1.7 must be an integer >= 0$"),
    (lambda: Simulation(dt=1.0, duration=10.0, replicas=True), r"replicas = True must be an integer >= 1"),
    (lambda: Simulation(dt=1.0, duration=10.0, dtype="float16"), r"dtype = 'float16' is not one of"),
    (lambda: RBM(9.0, 16), r"n_visible = 9.0 must be an integer"),
    (lambda: RBM(9, 16, init_scale="0.1"), r"init_scale = '0.1' must be a number"),
    (lambda: BoltzmannMachine(4, n_visible=2.0), r"n_visible = 2.0 must be an integer"),
    (lambda: LayeredHopfield((4, 2), rest_on_new_sample="no"), r"rest_on_new_sample = 'no' must be true or false"),
    (lambda: Fixed("5"), r"mean = '5' must be a number"),
    (lambda: StochasticPhases(True, Exponential(5.0)), r"b = True must be a number"),
    (lambda: ISD(1e-3, mean_field="no"), r"mean_field = 'no' must be true or false"),
    (lambda: TwoPhase(1e-3, decay_time="10"), r"decay_time = '10' must be a number"),
    (lambda: CDk(1e-3, k=1.0), r"k = 1.0 must be an integer"),
    (lambda: DataSpec("bars_and_stripes", size=3.0), r"size = 3.0 must be an integer"),
    (lambda: DataSpec("idx", images=5), r"images = 5 must be a string"),
])
def test_constructors_refuse_wrong_types(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_engine_options_are_type_checked():
    with pytest.raises(ConfigError, match=r"\[engine\] kernel = 3 must be a string"):
        get_engine("numpy", kernel=3)


# ---------------------------------------------------------------------------- duration
def test_duration_must_be_a_whole_number_of_steps(tmp_path):
    with pytest.raises(ConfigError, match=r"duration = 3 ms is not an integer multiple of dt = 2 ms "
                                          r"\(nearest multiples: 2 and 4 ms\)"):
        Simulation(dt=2.0, duration=3.0)
    assert Simulation(dt=0.1, duration=0.3).n_steps == 3         # float round-off is tolerated
    assert Simulation(dt=2.0, duration=16_000_000.0).n_steps == 8_000_000
    cfg = load_config(_cfg(tmp_path, GOOD.replace("dt = 1.0", "dt = 2.0")))
    with pytest.raises(ConfigError, match="not an integer multiple of dt"):
        cfg.replace(duration=3.0)                                  # what `--time 3` does
    with pytest.raises(ConfigError, match=r"\[simulation\] duration = 201 ms is not an integer multiple of dt = 2 ms"):
        load_config(_cfg(tmp_path, GOOD.replace("dt = 1.0", "dt = 2.0").replace("duration = 200.0", "duration = 201.0")))


# ---------------------------------------------------------------------------- float32
def _bas2_task():
    return make_task(RBM(4, 3), DataSpec("bars_and_stripes", size=2))


F32 = Simulation(dt=1.0, duration=20.0, checkpoints=1, dtype="float32")
PHASES = StochasticPhases(0.5, Exponential(5.0))


def test_float32_runs_on_the_fused_rbm_kernels():
    for kernel in ("auto", "fused", "event"):
        traj = get_engine("numpy", kernel=kernel).run(RBM(4, 3), ISD(1e-3), PHASES, _bas2_task(), F32)
        assert traj.params["W"].dtype == np.float32


@pytest.mark.parametrize("run,match", [
    (lambda: get_engine("numpy", kernel="reference").run(RBM(4, 3), ISD(1e-3), PHASES, _bas2_task(), F32),
     r"does not support dtype = 'float32' on the reference path"),
    (lambda: get_engine("numpy").run(RBM(4, 3), ISD(1e-3), PHASES, _bas2_task(), F32, profile=load_profile("pcm")),
     r"float32' on the reference path \(hardware profile 'pcm'\)"),
    (lambda: get_engine("numpy").run(BoltzmannMachine(4), ISD(1e-3), PHASES,
                                     make_task(BoltzmannMachine(4), DataSpec("bars_and_stripes", size=2)), F32),
     r"float32' on the reference path \(rule 'isd' on circuit 'boltzmann'\)"),
    (lambda: get_engine("numpy").run(LayeredHopfield((64, 8, 10)), ISD(1e-3), PHASES,
                                     make_task(LayeredHopfield((64, 8, 10)), DataSpec("digits")), F32),
     r"float32' on the fused kernel of circuit 'hopfield'"),
    (lambda: get_engine("numpy").run(RBM(4, 3), CDk(1e-3), None, _bas2_task(), F32), r"float32' on rule 'cdk'"),
    (lambda: get_engine("numpy").free_run(RBM(4, 3), RBM(4, 3).init_params(np.random.default_rng(0)), F32),
     r"float32' on free running"),
])
def test_float32_is_refused_where_it_is_not_honoured(run, match):
    with pytest.raises(UnsupportedFeatureError, match=match):
        run()


def test_float32_refused_by_brian2_before_simulating():
    pytest.importorskip("brian2")
    with pytest.raises(UnsupportedFeatureError, match=r"'brian2' does not support dtype = 'float32'"):
        get_engine("brian2", target="numpy").run(RBM(4, 3), ISD(1e-3), PHASES, _bas2_task(), F32)


def test_run_loop_refuses_float32_on_float64_parameters():
    with pytest.raises(ConfigError, match=r"dtype = 'float32' is not honoured .* parameters are float64"):
        RunLoop(F32, Task(clamp=np.zeros((1, 4))), {"W": np.zeros((1, 4, 3))})


# ---------------------------------------------------------------------------- divergence
def _bas3():
    rbm = RBM(9, 16, init_scale=0.1)
    return rbm, make_task(rbm, DataSpec("bars_and_stripes", size=3))


@pytest.mark.parametrize("kernel", ["auto", "reference"])
@pytest.mark.parametrize("eta", [1e6, 1e300])
def test_huge_learning_rate_on_bas3_diverges_with_its_time(kernel, eta):
    rbm, task = _bas3()
    sim = Simulation(dt=2.0, duration=400.0, replicas=2, checkpoints=4)
    with pytest.raises(DivergenceError) as info:
        get_engine("numpy", kernel=kernel).run(rbm, ISD(eta), StochasticPhases(0.5, Exponential(10.0)), task, sim)
    err = info.value
    assert 0 < err.time <= 100.0 and err.time == pytest.approx(err.step * 2.0)   # at the latest the first checkpoint
    assert f"t = {err.time:g} ms" in str(err) and "\n" not in str(err)
    if eta == 1e6:   # finite: only the sane-range check can see it
        assert "sane range" in str(err) and "> 50" in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and (again.time, again.step) == (err.time, err.step)


def test_normal_bas3_run_is_not_flagged():
    rbm, task = _bas3()
    sim = Simulation(dt=2.0, duration=20_000.0, replicas=2, checkpoints=2)
    traj = get_engine("numpy").run(rbm, ISD(2e-4), StochasticPhases(0.5, Exponential(10.0)), task, sim)
    assert traj.times[-1] == pytest.approx(20_000.0)
    p = {k: np.asarray(v, float) for k, v in traj.params.items()}
    assert task.check(p) is None
    p["W"][0, 0, 0] = 10.0            # a trained bas3 RBM's largest weights: still sane
    assert task.check(p) is None
    p["W"][1, 2, 3] = -50.5
    assert "max |W| = 50.5 > 50 in replica 1" in task.check(p)
    p["W"][1, 2, 3] = np.nan
    assert "NaN/inf" in task.check(p)


def test_boltzmann_and_hopfield_divergence_of_finite_parameters():
    bm = BoltzmannMachine(4)
    task = make_task(bm, DataSpec("bars_and_stripes", size=2))
    with pytest.raises(DivergenceError, match="sane range"):
        get_engine("numpy").run(bm, ISD(1e6), Alternating(2.0), task, Simulation(dt=1.0, duration=20.0, checkpoints=2))
    net = LayeredHopfield((64, 8, 10))
    task = make_task(net, DataSpec("digits"))
    with pytest.raises(DivergenceError, match="sane range") as info:
        get_engine("numpy").run(net, ISD(1e6), Alternating(2.0), task, Simulation(dt=0.5, duration=20.0, checkpoints=2))
    assert info.value.time == pytest.approx(10.0)
    sane = net.init_params(np.random.default_rng(0), 1)
    assert task.check(sane) is None


def test_initial_parameters_out_of_range_are_a_config_error():
    rbm, task = _bas3()
    params = rbm.init_params(np.random.default_rng(0), 1)
    params["W"][0, 0, 0] = 80.0
    with pytest.raises(ConfigError, match="initial parameters are already outside"):
        get_engine("numpy").run(rbm, ISD(1e-3), Alternating(2.0), task, Simulation(dt=1.0, duration=10.0),
                                params=params)


def test_cli_huge_finite_learning_rate_fails(tmp_path):
    text = GOOD.replace("learning_rate = 0.01", "learning_rate = 1e6")
    res = subprocess.run([sys.executable, "-m", "neurocl", "run", str(_cfg(tmp_path, text)), "--out",
                          str(tmp_path / "out"), "--no-progress"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip()
    assert "diverged" in line and "sane range" in line and "\n" not in line, line


# ---------------------------------------------------------------------------- data files
def _idx(path, arr, code=0x08, gz=False):
    body = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body += arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as fh:
        fh.write(body)
    return path


def test_nan_idx_is_refused(tmp_path):
    x = np.full((3, 4), np.nan, np.float32)
    p = _idx(tmp_path / "nan.idx", x, code=0x0D)
    with pytest.raises(ConfigError, match=r"nan.idx: IDX file holds 12 non-finite values"):
        read_idx(p)
    y = np.zeros((3, 4)); y[1, 2] = np.inf
    with pytest.raises(ConfigError, match="holds 1 non-finite"):
        load_dataset(DataSpec("idx", images=str(_idx(tmp_path / "inf.idx", y, code=0x0E))))


def test_empty_idx_is_refused(tmp_path):
    p = _idx(tmp_path / "empty.idx", np.zeros((0, 4), np.uint8))
    with pytest.raises(ConfigError, match=r"empty.idx: IDX file holds no data \(shape \(0, 4\)\)"):
        read_idx(p)
    (tmp_path / "nodim.idx").write_bytes(bytes([0, 0, 8, 0]))
    with pytest.raises(ConfigError, match="0 dimensions"):
        read_idx(tmp_path / "nodim.idx")


def test_truncated_gz_idx_is_refused(tmp_path):
    p = _idx(tmp_path / "imgs.idx.gz", np.random.default_rng(0).integers(0, 256, (50, 28)).astype(np.uint8), gz=True)
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ConfigError, match=r"imgs.idx.gz: truncated or corrupt gzip file .*expected a complete"):
        read_idx(p)
    p.write_bytes(b"not gzip at all")
    with pytest.raises(ConfigError, match=r"imgs.idx.gz: truncated or corrupt gzip"):
        read_idx(p)


def test_directory_and_bad_pixels_and_labels_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read IDX file"):
        read_idx(tmp_path)
    neg = _idx(tmp_path / "neg.idx", np.full((2, 3), -1, np.int8), code=0x09)
    with pytest.raises(ConfigError, match=r"pixel values span \[-1, -1\]; expected values in \[0, 1\] or \[0, 255\]"):
        load_dataset(DataSpec("idx", images=str(neg)))
    imgs = _idx(tmp_path / "imgs.idx", np.zeros((2, 3), np.uint8))
    frac = _idx(tmp_path / "frac.idx", np.array([0.5, 1.0]), code=0x0E)
    with pytest.raises(ConfigError, match="labels hold non-integer values"):
        load_dataset(DataSpec("idx", images=str(imgs), labels=str(frac)))


def test_non_utf8_text_files_are_refused(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes("name = \"caf\xe9\"\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml: not a UTF-8 text file"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"latin1.toml: not a UTF-8 text file"):
        load_profile(bad)
