"""Every example runs (smoke test at the shipped size when it is fast)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


TINY = {  # arguments that make an example small enough for the default test run
    "theorem3_descent.py": [],
    "b_sweep.py": ["--duration", "20000", "--sweep-dir", "{tmp}/sweep"],
    "phase_laws.py": ["--duration", "20000", "--sweep-dir", "{tmp}/sweep"],
    "isd_vs_twophase.py": ["--duration", "20000", "--results", "{tmp}/results"],
    "lemma21_profiles.py": ["--states", "2", "--draws", "50", "--windows", "3"],
    "always_on_bias.py": ["--quick"],
    "noise_bias_heatmap.py": ["--epochs", "3", "--seeds", "1"],
    "brian2_raster.py": ["--duration", "400", "--record", "100", "--target", "numpy"],
    "lava_deployment.py": ["--duration", "500", "--results", "{tmp}/none", "--tag-seeds", "0"],
    "two_branch_ode.py": ["--Ns", "200,400", "--seeds", "2", "--t-end", "1", "--n-mc", "2000"],
    "always_on_variance.py": ["--quick"],
    "emc2_mh_exactness.py": ["--quick"],
    "emc2_estimators.py": ["--quick"],
    "emc2_alpha_req.py": ["--quick"],
    "emc2_device_estimators.py": ["--quick"],
    "emc2_learning.py": ["--quick"],
    "two_branch_features.py": ["--quick"],
    "two_branch_noise.py": ["--quick"],
    "two_branch_isd.py": ["--quick"],
    "two_branch_views.py": ["--quick"],
    "two_branch_hardware.py": ["--quick"],
    "two_branch_escape.py": ["--Ns", "200,400", "--seeds", "3", "--t-end", "8", "--n-mc", "5000"],
    "fixed_point_floor.py": ["--quick"],
}


def test_every_example_has_a_smoke_test():
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == set(TINY)


#: examples that run the Lava emulator: in `make test-lava`, not in the default suite
LAVA = {"lava_deployment.py", "lemma21_profiles.py"}
#: examples whose smallest run still takes about half a minute (bas4's exact KL at 20
#: checkpoints): in `make test-slow`
SLOW = {"isd_vs_twophase.py"}
#: examples whose smallest run takes 10-60 s of CPU: in `make test-integration`
INTEGRATION = {"always_on_variance.py", "two_branch_features.py", "two_branch_escape.py", "fixed_point_floor.py",
               "two_branch_hardware.py", "emc2_alpha_req.py", "emc2_device_estimators.py"}


def _marks(script):
    return ([pytest.mark.lava] if script in LAVA else []) + ([pytest.mark.slow] if script in SLOW else []) + (
        [pytest.mark.integration] if script in INTEGRATION else [])


@pytest.mark.parametrize("script", [pytest.param(s, marks=_marks(s)) for s in sorted(TINY)])
def test_example_runs(tmp_path, script):
    out = tmp_path / "fig.png"
    extra = [a.replace("{tmp}", str(tmp_path)) for a in TINY[script]]
    res = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--out", str(out), *extra],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in res.stdout
