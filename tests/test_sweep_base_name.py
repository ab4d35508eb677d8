"""A sweep's ``base`` may name a shipped circuit spec (``base = "bas3"``, as ``neurocl circuits``
lists) as well as a file relative to the sweep file (which wins); neither is a one-line
ConfigError naming the sweep file, the base and the shipped names."""

import csv
import tomllib

import pytest

from neurocl.errors import ConfigError
from neurocl.experiments.sweep import load_sweep, run_sweep
from neurocl.shipped import shipped_specs

from test_config import GOOD

TINY = '''
[overrides]
"simulation.duration" = 20.0
"simulation.replicas" = 1
"simulation.checkpoints" = 1
[grid]
"simulation.seed" = [0, 1]
'''


def _sweep(tmp_path, base):
    p = tmp_path / "sweep.toml"
    p.write_text(f'name = "s"\nbase = "{base}"\n' + TINY)
    return p


def test_shipped_name_is_the_shipped_spec(tmp_path):
    spec = load_sweep(_sweep(tmp_path, "bas3"))
    shipped = tomllib.loads(shipped_specs()["bas3"].read_text())
    assert spec.base == shipped and spec.base["name"] == "bas3"


def test_file_beside_the_sweep_wins_over_a_shipped_name(tmp_path):
    (tmp_path / "bas3").write_text(GOOD)     # a file literally named like the shipped spec
    assert load_sweep(_sweep(tmp_path, "bas3")).base["name"] == "tiny"
    (tmp_path / "mine.toml").write_text(GOOD)
    assert load_sweep(_sweep(tmp_path, "mine.toml")).base["name"] == "tiny"


@pytest.mark.parametrize("base, names", [
    ("bas99", ["sweep.toml", "base = bas99", "not a shipped circuit spec name", "bas3"]),
    ("missing.toml", ["sweep.toml", "missing.toml", "no such file"]),
])
def test_neither_file_nor_name_is_one_line(tmp_path, base, names):
    with pytest.raises(ConfigError) as info:
        load_sweep(_sweep(tmp_path, base))
    text = str(info.value)
    assert "\n" not in text
    for n in names:
        assert n in text, (n, text)


@pytest.mark.integration   # starts a worker process and runs two bas3 grid points (about 10 s)
def test_sweep_on_a_shipped_name_runs(tmp_path):
    spec = load_sweep(_sweep(tmp_path, "bas3"))
    run_sweep(spec, tmp_path / "out", "local", workers=1, progress=False)
    with open(tmp_path / "out" / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["learner"] for r in rows} == {"isd", "twophase"}
    assert {r["simulation.seed"] for r in rows} == {"0", "1"}
