"""A hardware profile moves a numpy-engine run from its fused kernel (``kernel = "auto"``) to
the step-by-step reference path, several times slower: the run says so, once, naming the
profile and the cost (``UserWarning``; the CLI prints it as ``neurocl: warning: ...``).  A run
that takes the fused kernel, or whose user asked for the reference path, says nothing."""

import warnings

import numpy as np
import pytest

from neurocl.circuits import RBM
from neurocl.cli import main
from neurocl.engines import Simulation, Task, get_engine
from neurocl.hardware import load_profile
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD

from test_config import GOOD

NOTICE = "reference path"


def _run(profile, **options):
    data = np.array([[1, 0, 1, 0], [0, 1, 0, 1]], dtype=float)
    sim = Simulation(dt=1.0, duration=50.0, replicas=2, seed=0, checkpoints=1)
    task = Task(clamp=data, evaluate=lambda p: {})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        get_engine("numpy", **options).run(RBM(4, 3), ISD(0.01), StochasticPhases(0.5, Exponential(5.0)), task, sim,
                                           profile=profile)
    return [w for w in seen if NOTICE in str(w.message)]


def test_profile_run_says_it_falls_back_once():
    notes = _run(load_profile("rram_hfo2"))
    assert len(notes) == 1, [str(w.message) for w in notes]
    text = str(notes[0].message)
    assert issubclass(notes[0].category, UserWarning)
    for part in ("rram_hfo2", "isd", "rbm", "fused", "CPU time"):
        assert part in text, (part, text)


@pytest.mark.parametrize("profile, options", [(None, {}), ("ideal", {}), ("rram_hfo2", {"kernel": "reference"})])
def test_no_notice_on_the_fused_kernel_or_a_chosen_reference_path(profile, options):
    assert _run(load_profile(profile) if profile else None, **options) == []


def test_cli_prints_one_warning_line_per_learner(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(GOOD)
    rc = main(["run", str(spec), "--out", str(tmp_path / "res"), "--profile", "rram_hfo2", "--no-progress"])
    err = [line for line in capsys.readouterr().err.splitlines() if NOTICE in line]
    assert rc == 0
    # isd and twophase both have fused kernels on an RBM: one line each, nothing else
    assert len(err) == 2, err
    assert all(line.startswith("neurocl: warning: numpy engine: with hardware profile 'rram_hfo2'") for line in err)
