"""Fault injection: a table of bad inputs run against the ``neurocl`` command line.

Every case builds its bad input in a temporary folder (specs, profiles, IDX files, results
directories, weights, flags) and runs ``python -m neurocl ...`` in a subprocess.  Each must

* exit with status 2,
* write exactly one line to stderr, starting ``neurocl: error:``,
* name the field, flag or file at fault (every string in the case's ``names``).

Run ``python tests/fault_injection.py`` (``-k WORD``: only cases whose name contains WORD;
``--strict``: cases marked ``needs`` count as failures too; ``-j N``: N cases at a time).  It
prints one line per case, the count and a summary, and exits 1 if a case failed.
``tests/test_fault_injection.py`` runs the same table under pytest.

Cases marked ``needs`` test validation that lives in another part of the code base (profile,
spec, data or sweep validation); they are reported, and only fail the run under ``--strict``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
name = "tiny"
[circuit]
kind = "rbm"
n_visible = 4
n_hidden = 3
[data]
name = "bars_and_stripes"
size = 2
[simulation]
dt = 1.0
duration = 50.0
replicas = 2
checkpoints = 2
[learners.isd]
rule = "isd"
learning_rate = 0.01
phases = { kind = "stochastic", b = 0.5, length = { law = "gamma", mean = 5.0, shape = 2.0 } }
[learners.twophase]
rule = "twophase"
learning_rate = 0.01
phases = { kind = "alternating", length = 5.0 }
"""

PROFILE = """\
name = "myprof"
w_min = -1.0
w_max = 1.0
dw_min = 0.01
"""


@dataclass
class Case:
    """``args``: the command line after ``neurocl`` (``{d}`` is the case's folder);
    ``setup(d)``: writes the bad input; ``names``: strings the error line must contain;
    ``needs``: whose validation it tests, when that is not this part of the code base."""

    name: str
    args: list
    names: list
    setup: object = None
    needs: str = ""
    env: dict = field(default_factory=dict)
    timeout: float = 120.0


# ------------------------------------------------------------------------------- input builders
def sub(text: str, old: str, new: str) -> str:
    if old not in text:
        raise KeyError(old)
    return text.replace(old, new)


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


def idx_bytes(array: np.ndarray, code: int = 0x08, shape=None) -> bytes:
    """An IDX file (``code``: 0x08 ubyte, 0x0D float32, 0x0E float64)."""
    dtype = {0x08: ">u1", 0x0D: ">f4", 0x0E: ">f8"}[code]
    shape = array.shape if shape is None else shape
    head = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return head + np.asarray(array, dtype=dtype).tobytes()


def bas2_images() -> np.ndarray:
    """The 6 patterns of 2x2 Bars-and-Stripes as 0/255 images."""
    rows = [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 1]]
    return (np.array(rows) * 255).reshape(6, 2, 2)


def idx_spec(images: str, extra: str = "") -> str:
    return sub(GOOD, 'name = "bars_and_stripes"\nsize = 2', f'name = "idx"\nimages = "{images}"{extra}')


def file_setup(**files):
    """Setup writing ``files`` (name -> text or bytes) into the case folder."""
    def setup(d: Path):
        for name, data in files.items():
            write(d / name.replace("__", "/"), data)
    return setup


def results_setup(mutate=None, name: str = "res"):
    """Setup copying the finished reference run to ``d/name`` and applying ``mutate(dir)``."""
    def setup(d: Path):
        dst = d / name
        shutil.copytree(REFERENCE_RUN, dst)
        if mutate is not None:
            mutate(dst)
    return setup


def unwritable_setup(d: Path):
    target = d / "locked"
    target.mkdir()
    target.chmod(0o500)


def unwritable_out() -> str:
    """A folder this process cannot write: a read-only one, or under /sys for root (root
    ignores permissions)."""
    return "/sys/neurocl-fault-injection/out" if os.geteuid() == 0 else "{d}/locked/out"


# ------------------------------------------------------------------------------- the table
def cases() -> list:
    bad_utf8 = b"name = \"x\"\n# \xff\xfe caf\xe9\n"
    cs = [
        # ---- circuit specs
        Case("spec missing", ["run", "{d}/nope.toml"], ["nope.toml"]),
        Case("spec not UTF-8", ["run", "{d}/s.toml"], ["s.toml", "UTF-8"], file_setup(**{"s.toml": bad_utf8})),
        Case("spec malformed TOML", ["run", "{d}/s.toml"], ["s.toml"], file_setup(**{"s.toml": "name = [\n"})),
        Case("spec is a directory", ["run", "{d}/dir.toml"], ["dir.toml"],
             lambda d: (d / "dir.toml").mkdir()),
        Case("spec unknown key", ["run", "{d}/s.toml"], ["bogus"],
             file_setup(**{"s.toml": "bogus = 1\n" + GOOD})),
        Case("spec negative duration", ["run", "{d}/s.toml"], ["duration"],
             file_setup(**{"s.toml": sub(GOOD, "duration = 50.0", "duration = -5.0")})),
        Case("spec dt = 0", ["run", "{d}/s.toml"], ["dt"], file_setup(**{"s.toml": sub(GOOD, "dt = 1.0", "dt = 0")})),
        Case("spec n_hidden = 0", ["run", "{d}/s.toml"], ["n_hidden"],
             file_setup(**{"s.toml": sub(GOOD, "n_hidden = 3", "n_hidden = 0")})),
        Case("spec b = 1.5", ["run", "{d}/s.toml"], ["b = 1.5"],
             file_setup(**{"s.toml": sub(GOOD, "b = 0.5", "b = 1.5")})),
        Case("spec unknown rule", ["run", "{d}/s.toml"], ["rule"],
             file_setup(**{"s.toml": sub(GOOD, 'rule = "isd"', 'rule = "magic"')})),
        Case("spec n_visible does not match data", ["run", "{d}/s.toml"], ["n_visible"],
             file_setup(**{"s.toml": sub(GOOD, "n_visible = 4", "n_visible = 5")})),
        Case("spec seed 1.7", ["run", "{d}/s.toml"], ["seed"],
             file_setup(**{"s.toml": sub(GOOD, "checkpoints = 2", "checkpoints = 2\nseed = 1.7")}),
             needs="spec validation (simulation.seed must be an integer)"),
        Case("spec duration not a multiple of dt", ["run", "{d}/s.toml"], ["duration", "dt"],
             file_setup(**{"s.toml": sub(GOOD, "duration = 50.0", "duration = 50.5")}),
             needs="spec validation (simulation.duration a multiple of dt)"),
        Case("spec tiny dt: phase table over budget", ["run", "{d}/s.toml"], ["simulation.dt", "phase table"],
             file_setup(**{"s.toml": sub(GOOD, "dt = 1.0", "dt = 2.5e-8")})),
        Case("spec tiny phase mean: phase table over budget", ["run", "{d}/s.toml"], ["phase length", "phase table"],
             file_setup(**{"s.toml": sub(GOOD, "mean = 5.0", "mean = 1e-10")})),
        Case("spec Bars-and-Stripes size 28", ["run", "{d}/s.toml"], ["data.size"],
             file_setup(**{"s.toml": sub(sub(GOOD, "size = 2", "size = 28"), "n_visible = 4", "n_visible = 784")})),
        Case("spec exact KL over 2^25 states", ["run", "{d}/s.toml"], ["n_visible", "n_hidden"],
             file_setup(**{"s.toml": sub(sub(sub(GOOD, "size = 2", "size = 5"), "n_visible = 4", "n_visible = 25"),
                                         "n_hidden = 3", "n_hidden = 30")})),
        Case("spec n_visible = 10^7 with matching IDX", ["run", "{d}/s.toml"], ["n_visible"],
             file_setup(**{"s.toml": sub(sub(idx_spec("big.idx"), "n_visible = 4", "n_visible = 10000000"),
                                         "n_hidden = 3", "n_hidden = 16"),
                           # header of 2 images x 10^7 pixels; the body is never read
                           "big.idx": bytes([0, 0, 8, 2]) + struct.pack(">2I", 2, 10**7)})),
        # ---- flags of run
        Case("run --seed -1", ["run", "{d}/s.toml", "--seed", "-1"], ["--seed"], file_setup(**{"s.toml": GOOD})),
        Case("run --time 0", ["run", "{d}/s.toml", "--time", "0"], ["--time"], file_setup(**{"s.toml": GOOD})),
        Case("run --time nan", ["run", "{d}/s.toml", "--time", "nan"], ["--time"], file_setup(**{"s.toml": GOOD})),
        Case("run --replicas 0", ["run", "{d}/s.toml", "--replicas", "0"], ["--replicas"],
             file_setup(**{"s.toml": GOOD})),
        Case("run --engine nope", ["run", "{d}/s.toml", "--engine", "nope", "--out", "{d}/o"], ["nope"],
             file_setup(**{"s.toml": GOOD})),
        Case("run --overwrite with --resume", ["run", "{d}/s.toml", "--overwrite", "--resume"], ["--resume"],
             file_setup(**{"s.toml": GOOD})),
        Case("unknown flag", ["run", "{d}/s.toml", "--bogus"], ["--bogus"], file_setup(**{"s.toml": GOOD})),
        Case("unknown command", ["frobnicate"], ["frobnicate"]),
        # ---- hardware profiles
        Case("profile missing", ["run", "{d}/s.toml", "--profile", "{d}/nope.toml"], ["nope.toml"],
             file_setup(**{"s.toml": GOOD})),
        Case("profile not UTF-8", ["run", "{d}/s.toml", "--profile", "{d}/p.toml"], ["p.toml"],
             file_setup(**{"s.toml": GOOD, "p.toml": bad_utf8})),
        Case("profile malformed TOML", ["run", "{d}/s.toml", "--profile", "{d}/p.toml"], ["p.toml"],
             file_setup(**{"s.toml": GOOD, "p.toml": "w_min = = 1\n"})),
        Case("profile weight_bits = 8.5", ["run", "{d}/s.toml", "--profile", "{d}/p.toml"], ["weight_bits"],
             file_setup(**{"s.toml": GOOD, "p.toml": PROFILE + "weight_bits = 8.5\n"}),
             needs="profile validation (integer fields)"),
        Case('profile shared_rounding = "no"', ["run", "{d}/s.toml", "--profile", "{d}/p.toml"],
             ["shared_rounding"], file_setup(**{"s.toml": GOOD, "p.toml": PROFILE + 'shared_rounding = "no"\n'}),
             needs="profile validation (boolean fields)"),
        Case('profile up_down = "-0.1"', ["run", "{d}/s.toml", "--profile", "{d}/p.toml"], ["up_down"],
             file_setup(**{"s.toml": GOOD, "p.toml": PROFILE + 'up_down = "-0.1"\n'}),
             needs="profile validation (number fields given as strings)"),
        # ---- output directories
        Case("--out is a file", ["run", "{d}/s.toml", "--out", "{d}/s.toml"], ["s.toml"],
             file_setup(**{"s.toml": GOOD})),
        Case("--out under a file", ["run", "{d}/s.toml", "--out", "{d}/s.toml/out"], ["s.toml"],
             file_setup(**{"s.toml": GOOD})),
        Case("--out unwritable", ["run", "{d}/s.toml", "--out", unwritable_out()], ["out"],
             lambda d: (write(d / "s.toml", GOOD), unwritable_setup(d))),
        Case("--out holds a different run", ["run", "{d}/s.toml", "--out", "{d}/res", "--seed", "7"],
             ["res", "simulation.seed", "--overwrite"],
             lambda d: (write(d / "s.toml", GOOD), results_setup()(d))),
        Case("--out not a results dir", ["run", "{d}/s.toml", "--out", "{d}/mine"], ["mine"],
             file_setup(**{"s.toml": GOOD, "mine__notes.txt": "keep me"})),
        Case("--overwrite on a foreign dir", ["run", "{d}/s.toml", "--out", "{d}/mine", "--overwrite"],
             ["mine", "notes.txt"], file_setup(**{"s.toml": GOOD, "mine__notes.txt": "keep me",
                                                  "mine__config.toml": GOOD})),
        # ---- IDX data
        Case("IDX truncated .gz", ["run", "{d}/s.toml"], ["x.idx.gz"],
             file_setup(**{"s.toml": idx_spec("x.idx.gz"),
                           "x.idx.gz": gzip.compress(idx_bytes(bas2_images()))[:-12]})),
        Case("IDX with 0 images", ["run", "{d}/s.toml"], ["x.idx"],
             file_setup(**{"s.toml": idx_spec("x.idx"),
                           "x.idx": idx_bytes(np.zeros((0, 2, 2)), shape=(0, 2, 2))})),
        Case("IDX bad magic", ["run", "{d}/s.toml"], ["x.idx"],
             file_setup(**{"s.toml": idx_spec("x.idx"), "x.idx": b"PK\x03\x04" + bytes(20)})),
        Case("IDX body too short", ["run", "{d}/s.toml"], ["x.idx"],
             file_setup(**{"s.toml": idx_spec("x.idx"), "x.idx": idx_bytes(bas2_images())[:-3]})),
        Case("IDX with NaN", ["run", "{d}/s.toml"], ["x.idx"],
             file_setup(**{"s.toml": idx_spec("x.idx"),
                           "x.idx": idx_bytes(np.where(np.arange(24).reshape(6, 2, 2) == 5, np.nan,
                                                       bas2_images() / 255.0), code=0x0E)}),
             needs="data validation (NaN in IDX)"),
        Case("IDX labels count mismatch", ["run", "{d}/s.toml"], ["labels"],
             file_setup(**{"s.toml": idx_spec("x.idx", '\nlabels = "y.idx"'), "x.idx": idx_bytes(bas2_images()),
                           "y.idx": idx_bytes(np.arange(4))})),
        # ---- report
        Case("report missing dir", ["report", "{d}/nothing"], ["nothing"]),
        Case("report not a results dir", ["report", "{d}/empty"], ["empty", "config.toml"],
             lambda d: (d / "empty").mkdir()),
        Case("report corrupted metrics.csv", ["report", "{d}/res"], ["metrics.csv"],
             results_setup(lambda r: write(r / "isd" / "metrics.csv", "time_ms,replica,kl_nats\n0,zero,x\n"))),
        Case("report empty metrics.csv", ["report", "{d}/res"], ["metrics.csv"],
             results_setup(lambda r: write(r / "twophase" / "metrics.csv", ""))),
        Case("report metrics.csv missing", ["report", "{d}/res"], ["metrics.csv"],
             results_setup(lambda r: (r / "isd" / "metrics.csv").unlink())),
        Case("report corrupted config.toml", ["report", "{d}/res"], ["config.toml"],
             results_setup(lambda r: write(r / "config.toml", "[circuit\nkind = 'rbm'\n"))),
        Case("report config.toml not UTF-8", ["report", "{d}/res"], ["config.toml"],
             results_setup(lambda r: write(r / "config.toml", bad_utf8))),
        Case("report truncated weights.npz", ["report", "{d}/res"], ["weights.npz"],
             results_setup(lambda r: write(r / "isd" / "weights.npz", (r / "isd" / "weights.npz").read_bytes()[:200]))),
        # ---- deploy (every case fails before Lava is imported)
        Case("deploy --sweeps 0", ["deploy", "--target", "lava", "{d}/res", "--sweeps", "0"], ["--sweeps"],
             results_setup()),
        Case("deploy --timeout -1", ["deploy", "{d}/res", "--timeout", "-1"], ["--timeout"], results_setup()),
        Case("deploy weights.npz missing", ["deploy", "{d}/res"], ["twophase/weights.npz"],
             results_setup(lambda r: (r / "twophase" / "weights.npz").unlink())),
        Case("deploy truncated weights.npz", ["deploy", "{d}/res"], ["isd/weights.npz"],
             results_setup(lambda r: write(r / "isd" / "weights.npz", (r / "isd" / "weights.npz").read_bytes()[:300]))),
        Case("deploy empty weights.npz", ["deploy", "{d}/res"], ["isd/weights.npz"],
             results_setup(lambda r: write(r / "isd" / "weights.npz", b""))),
        Case("deploy weights of the wrong shape", ["deploy", "{d}/res"], ["isd/weights.npz", "'W'"],
             results_setup(lambda r: np.savez(r / "isd" / "weights.npz", W=np.zeros((3, 4)), a=np.zeros(4),
                                              c=np.zeros(3)))),
        Case("deploy weights.npz without W", ["deploy", "{d}/res"], ["isd/weights.npz", "'W'"],
             results_setup(lambda r: np.savez(r / "isd" / "weights.npz", a=np.zeros(4), c=np.zeros(3)))),
        Case("deploy --learner unknown", ["deploy", "{d}/res", "--learner", "nope"], ["--learner", "nope"],
             results_setup()),
        Case("deploy not a results dir", ["deploy", "{d}"], ["config.toml"]),
        # ---- check-theory
        Case("check-theory --states 0", ["check-theory", "--states", "0"], ["--states"]),
        Case("check-theory --steps-per-update 0", ["check-theory", "--steps-per-update", "0"], ["--steps-per-update"]),
        Case("check-theory --steps-per-update -1", ["check-theory", "--steps-per-update", "-1"],
             ["--steps-per-update"]),
        Case("check-theory --draws 1", ["check-theory", "--draws", "1"], ["--draws"]),
        Case("check-theory --circuit missing", ["check-theory", "--circuit", "{d}/nope.toml"], ["nope.toml"]),
        Case("check-theory --windows 1", ["check-theory", "--engine", "lava", "--windows", "1"], ["--windows"]),
        Case("check-theory --eta 0", ["check-theory", "--engine", "lava", "--eta", "0"], ["--eta"]),
        # ---- sweeps
        Case("sweep --workers -1", ["sweep", "{d}/w.toml", "--workers", "-1"], ["--workers"],
             file_setup(**{"w.toml": 'name = "w"\nbase = "s.toml"\n[grid]\n"simulation.seed" = [0, 1]\n',
                           "s.toml": GOOD})),
        Case("sweep spec missing", ["sweep", "{d}/nope.toml"], ["nope.toml"]),
        Case("sweep spec not UTF-8", ["sweep", "{d}/w.toml"], ["w.toml"], file_setup(**{"w.toml": bad_utf8})),
        Case("sweep malformed base", ["sweep", "{d}/w.toml", "--out", "{d}/sw"], ["base"],
             file_setup(**{"w.toml": 'name = "w"\nbase = 5\n[grid]\n"simulation.seed" = [0, 1]\n'}),
             needs="sweep validation (base must be a path or a table)"),
        Case("sweep base file malformed", ["sweep", "{d}/w.toml", "--out", "{d}/sw"], ["s.toml"],
             file_setup(**{"w.toml": 'name = "w"\nbase = "s.toml"\n[grid]\n"simulation.seed" = [0, 1]\n',
                           "s.toml": "[circuit\n"})),
        Case("sweep grid key written twice", ["sweep", "{d}/w.toml", "--out", "{d}/sw"], ["w.toml"],
             file_setup(**{"w.toml": 'name = "w"\nbase = "s.toml"\n[grid]\n"simulation.seed" = [0, 1]\n'
                                     '"simulation.seed" = [2]\n', "s.toml": GOOD})),
        Case("sweep key in grid and overrides", ["sweep", "{d}/w.toml", "--out", "{d}/sw"], ["simulation.seed"],
             file_setup(**{"w.toml": 'name = "w"\nbase = "s.toml"\n[grid]\n"simulation.seed" = [0, 1]\n'
                                     '[overrides]\n"simulation.seed" = 3\n', "s.toml": GOOD})),
        Case("sweep unreachable scheduler",
             ["sweep", "{d}/w.toml", "--out", "{d}/sw", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"],
             ["127.0.0.1:9"],
             file_setup(**{"w.toml": 'name = "w"\nbase = "s.toml"\n[grid]\n"simulation.seed" = [0, 1]\n',
                           "s.toml": GOOD}),
             needs="sweep (scheduler connection error names the address)",
             env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}),
    ]
    return cs


# ------------------------------------------------------------------------------- running
REFERENCE_RUN: Path = Path()


@dataclass
class Outcome:
    case: Case
    ok: bool
    why: str
    seconds: float
    line: str


def _make_reference_run(base: Path) -> Path:
    """One finished tiny run that report/deploy/run cases copy and break."""
    write(base / "ref.toml", GOOD)
    out = base / "ref"
    res = subprocess.run([sys.executable, "-m", "neurocl", "run", str(base / "ref.toml"), "--out", str(out),
                          "--no-progress"], capture_output=True, text=True, cwd=base, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"the reference run failed:\n{res.stderr}")
    return out


def run_case(case: Case, base: Path) -> Outcome:
    d = base / case.name.replace(" ", "_").replace("/", "_").replace('"', "").replace("=", "eq")
    d.mkdir(parents=True)
    t0 = time.monotonic()
    try:
        if case.setup is not None:
            case.setup(d)
        args = [a.replace("{d}", str(d)) for a in case.args]
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **case.env}
        env.pop("NEUROCL_MEMORY_BUDGET", None)
        res = subprocess.run([sys.executable, "-m", "neurocl", *args], capture_output=True, text=True, cwd=d,
                             timeout=case.timeout, env=env)
    except subprocess.TimeoutExpired:
        return Outcome(case, False, f"no answer within {case.timeout:g} s", time.monotonic() - t0, "")
    seconds = time.monotonic() - t0
    lines = res.stderr.splitlines()
    line = lines[0] if lines else ""
    problems = []
    if res.returncode != 2:
        problems.append(f"exit status {res.returncode}")
    if len(lines) != 1:
        problems.append(f"{len(lines)} stderr lines")
    if not line.startswith("neurocl: error:"):
        problems.append("stderr does not start with 'neurocl: error:'")
    missing = [n.replace("{d}", str(d)) for n in case.names if n.replace("{d}", str(d)) not in line]
    if missing:
        problems.append(f"does not name {missing}")
    why = "; ".join(problems)
    if problems and len(lines) > 1:
        why += " | stderr tail: " + " / ".join(lines[-3:])
    return Outcome(case, not problems, why, seconds, line)


def run_cases(selected=None, jobs: int = 2, echo=print) -> list:
    """Run the table (``selected``: substring of case names); returns the :class:`Outcome` list."""
    global REFERENCE_RUN
    table = [c for c in cases() if not selected or selected in c.name]
    with tempfile.TemporaryDirectory(prefix="neurocl-faults-") as tmp:
        base = Path(tmp)
        REFERENCE_RUN = _make_reference_run(base)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(lambda c: run_case(c, base), table))
        for p in base.rglob("locked"):
            p.chmod(0o700)
    if echo is not None:
        for o in outcomes:
            mark = "ok  " if o.ok else ("NEED" if o.case.needs else "FAIL")
            echo(f"{mark} {o.case.name:<48} {o.seconds:5.1f}s  {o.line if o.ok else o.why}")
            if not o.ok and o.case.needs:
                echo(f"     (needs {o.case.needs}; stderr: {o.line})")
    return outcomes


def summary(outcomes) -> str:
    ok = sum(o.ok for o in outcomes)
    need = [o for o in outcomes if not o.ok and o.case.needs]
    fail = [o for o in outcomes if not o.ok and not o.case.needs]
    text = f"{len(outcomes)} cases: {ok} ok, {len(fail)} failed, {len(need)} pending other work (needs)"
    if fail:
        text += "\nfailed: " + ", ".join(o.case.name for o in fail)
    if need:
        text += "\npending: " + ", ".join(o.case.name for o in need)
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", dest="select", help="only cases whose name contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="cases run at a time (default 2)")
    ap.add_argument("--strict", action="store_true", help="cases marked 'needs' count as failures")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    outcomes = run_cases(args.select, args.jobs)
    print(summary(outcomes))
    print(f"({time.monotonic() - t0:.0f} s)")
    bad = [o for o in outcomes if not o.ok and (args.strict or not o.case.needs)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
