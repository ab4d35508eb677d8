"""Lemma 2.1 on bas3 with every shipped profile: small updates agree with the prediction."""

import subprocess
import sys

from neurocl.config import load_config
from neurocl.experiments.check_theory import check_theory, format_rows
from neurocl.hardware import load_profile, shipped_profiles


def test_small_updates_agree_for_every_shipped_profile():
    cfg = load_config("circuits/bas3.toml").replace(duration=600_000.0)
    profiles = [load_profile(n) for n in shipped_profiles()]
    rows = check_theory(cfg, profiles, n_states=2, draws=400, steps_per_update=50)
    assert len(rows) == 2 * len(profiles)
    assert all(r.agrees for r in rows), format_rows(rows)
    nonideal = [r for r in rows if r.profile != "ideal"]
    assert all(r.noise_var > 0 or abs(r.predicted) > 0 for r in nonideal)


def test_large_updates_are_reported_when_second_order_fails():
    cfg = load_config("circuits/bas3.toml").replace(duration=2_000_000.0)
    rows = check_theory(cfg, [load_profile("pcm")], n_states=3, draws=200, steps_per_update=50_000)
    assert not all(r.agrees for r in rows)
    assert "2nd order fails: measured/predicted =" in format_rows(rows)


def test_cli_check_theory(tmp_path):
    res = subprocess.run([sys.executable, "-m", "neurocl", "check-theory", "--circuit", "bas3", "--profile",
                          "rram_hfo2", "--states", "2", "--draws", "100", "--time", "400000", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "cos(beta,-g)" in res.stdout and "sigma2 f(N)" in res.stdout
    assert (tmp_path / "predicted_vs_measured.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_check_theory_two_branch_compares_with_the_ode(tmp_path, capsys):
    """``check-theory`` on a two_branch spec dispatches to simulation-vs-ODE (not the profile check)."""
    import json

    from neurocl.cli import main

    assert main(["check-theory", "--circuit", "two_branch", "--time", "400", "--replicas", "2", "--states", "3",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "|M|_F ODE" in out and "times agree" in out
    saved = json.loads((tmp_path / "check_theory_two_branch.json").read_text())
    assert len(saved["rows"]) == 3 and abs(saved["t_end"] - 0.4) < 1e-12
    assert main(["check-theory", "--circuit", "two_branch", "--time", "400", "--profile", "pcm"]) == 2
