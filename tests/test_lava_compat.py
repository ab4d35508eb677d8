"""The Python 3.11 compatibility fix for lava-nc 0.10 (:mod:`neurocl.engines.lava.compat`; DEVELOPERS: one
thing breaks at import)."""

import subprocess
import sys

import pytest

from neurocl.engines.lava.compat import patch_source

pytestmark = pytest.mark.lava


def test_patch_source_rewrites_only_byteencoder_defaults():
    src = "class A:\n    x: ByteEncoder = ByteEncoder()\n    y: int = 3\n"
    out = patch_source(src)
    assert 'x: ByteEncoder = __import__("dataclasses").field(default_factory=ByteEncoder)' in out
    assert "y: int = 3" in out
    assert patch_source("y: int = 3\n") == "y: int = 3\n"


def test_lava_imports_and_runs_with_the_fix_and_not_without():
    code_fail = "import lava.magma.compiler.var_model"
    res = subprocess.run([sys.executable, "-c", code_fail], capture_output=True, text=True, timeout=120)
    if sys.version_info >= (3, 11):
        assert res.returncode != 0 and "mutable default" in res.stderr
    code = """
from neurocl.engines.lava.compat import install
install()
import numpy as np
from lava.proc.lif.process import LIF
from lava.proc.dense.process import Dense
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
a = LIF(shape=(3,), bias_mant=np.array([0.5, 0.0, 0.0]), vth=1.0, du=0, dv=0)
d = Dense(weights=np.eye(3) * 2.0)
b = LIF(shape=(3,), vth=1.0, du=0, dv=0)
a.s_out.connect(d.s_in); d.a_out.connect(b.a_in)
a.run(condition=RunSteps(num_steps=10), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
print("v", b.v.get())
a.stop()
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "v [" in res.stdout
