"""Every example runs (smoke test at the shipped size when it is fast)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script", ["theorem3_descent.py"])
def test_example_runs(tmp_path, script):
    out = tmp_path / "fig.png"
    res = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in res.stdout
