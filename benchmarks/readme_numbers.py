"""The README's measured numbers outside the gallery, saved to ``benchmarks/readme_numbers.json``.

Three parts, each rerunnable on its own (``--part``; the JSON keeps the other parts):

``table``
    The README's results table: the shipped specs ``bas3``, ``bas4`` and ``digits`` run as
    ``make demo`` / ``make bas4`` / ``make digits`` do (results in ``results/<name>``, which
    ``examples/isd_vs_twophase.py`` then plots), final main metric per learner (mean and
    standard error over replicas: ``std(ddof=1)/sqrt(R)``), CPU time (s, ``time.process_time``:
    every thread of this process) and wall time (s) per spec.
``api``
    The README's Python API example, with the same calls: ``bas3`` ISD for 2,000 s simulated
    on the ``ideal`` profile; the KL (nats) it prints and its CPU time.
``fallback``
    The CPU cost of a profile that moves a run off the fused kernel: ``bas3`` ISD, 5 replicas,
    ``--time`` ms simulated, on ``ideal`` (fused kernel) and on each shipped non-ideal profile
    (reference path); CPU seconds and the ratio to ``ideal``.  A short run first compiles the
    kernels (excluded).

Wall times depend on the machine's load (recorded as ``os.getloadavg`` before and after);
CPU times much less.

Run:  make readme-numbers   (or: python benchmarks/readme_numbers.py [--part table|api|fallback|all])
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import neurocl

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "readme_numbers.json"
SPECS = ("bas3", "bas4", "digits")
FALLBACK_PROFILES = ("rram_hfo2", "pcm", "ecram", "loihi2")


def _stats(values) -> dict:
    v = np.asarray(values, dtype=float)
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "se": se, "replicas": [float(x) for x in v]}


def _timed(fn):
    load0, c0, w0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
    out = fn()
    return out, {"cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - w0,
                 "loadavg_1min_before": load0, "loadavg_1min_after": os.getloadavg()[0]}


def _finished(spec, out: Path) -> str | None:
    """When ``out``'s run finished (its last learner's DONE marker), if it is complete (every
    learner of ``spec`` and the run's DONE marker present; ``neurocl.run(..., resume=True)``
    then checks that it is the same run and reads the learners back)."""
    from neurocl.experiments.run import DONE_MARKER, is_complete, read_done

    if is_complete(out) and all((out / s.label / DONE_MARKER).is_file() for s in spec.learners):
        return max(str(read_done(out / s.label).get("finished", "unknown")) for s in spec.learners)
    return None


def part_table(results: Path, specs, reuse: bool, save, overwrite: bool = False) -> dict:
    """Each shipped spec as the Makefile runs it; final main metric per learner.  ``save(rows)``
    is called after each spec (a killed run keeps the specs already done).  With ``reuse``, a
    spec whose results directory already holds its finished run is read back, not rerun (no
    timing then: ``cpu_s``/``wall_s`` are null and ``reused`` names the run's finish time).
    A results directory holding another run is refused (as ``neurocl run`` does) unless
    ``overwrite``."""
    rows = {}
    for name in specs:
        spec = neurocl.load_spec(name)
        out = results / name
        finished = _finished(spec, out) if reuse else None
        if finished is not None:   # resume: the same run's learners are read back (a different run is refused)
            res = neurocl.run(spec, out=out, resume=True)
            timing = {"cpu_s": None, "wall_s": None, "reused": finished}
        else:
            res, timing = _timed(lambda: neurocl.run(spec, out=out, overwrite=overwrite))
        metric = res.main_metric
        rows[name] = {"metric": metric, "duration_ms": spec.simulation.duration,
                      "results": str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out),
                      "replicas": spec.simulation.replicas, **timing,
                      "learners": {lab: _stats(res[lab].final(metric)) for lab in res}}
        for lab in res:
            s = rows[name]["learners"][lab]
            print(f"{name} {lab}: final {metric} {s['mean']:.4g} +- {s['se']:.2g} "
                  f"({spec.simulation.replicas} replicas, {spec.simulation.duration / 1e3:g} s simulated)")
        if timing["cpu_s"] is None:
            print(f"{name}: read back from {out} (finished {timing['reused']}), not timed")
        else:
            print(f"{name}: {timing['cpu_s']:.0f} s CPU, {timing['wall_s']:.0f} s wall for all learners")
        save(rows)
    return rows


def part_api() -> dict:
    """The README's API example (same calls), without the save."""
    spec = neurocl.load_spec("bas3", {"simulation.duration": 2e6}, learners=["isd"])
    result, timing = _timed(lambda: neurocl.run(spec, profile="ideal"))
    isd = result["isd"]
    kl = isd.final("kl_nats")
    line = f"KL after {isd.times_ms[-1] / 1e3:g} s simulated: {kl.mean():.2f} +- {kl.std(ddof=1) / len(kl) ** 0.5:.2f} nats"
    print(line)
    print(f"api example: {timing['cpu_s']:.1f} s CPU, {timing['wall_s']:.1f} s wall")
    return {"printed": line, "time_s": float(isd.times_ms[-1] / 1e3), "kl_nats": _stats(kl), **timing}


def part_fallback(duration_ms: float) -> dict:
    """CPU time of bas3 ISD on ideal (fused kernel) vs the non-ideal profiles (reference path)."""
    def spec(t):
        return neurocl.load_spec("bas3", {"simulation.duration": t}, learners=["isd"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for prof in ("ideal",) + FALLBACK_PROFILES:   # compile every kernel first (numba caches on disk)
            neurocl.run(spec(2000.0), profile=prof)
        rows = {}
        for prof in ("ideal",) + FALLBACK_PROFILES:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                _, timing = _timed(lambda: neurocl.run(spec(duration_ms), profile=prof))
            rows[prof] = {**timing, "fallback_warning": any("fused" in str(w.message) or "reference" in str(w.message)
                                                            for w in caught)}
    ideal = rows["ideal"]["cpu_s"]
    for prof, r in rows.items():
        r["cpu_ratio_to_ideal"] = r["cpu_s"] / ideal
        print(f"fallback {prof}: {r['cpu_s']:.1f} s CPU ({r['cpu_ratio_to_ideal']:.1f} x ideal), "
              f"warned: {r['fallback_warning']}")
    ratios = [rows[p]["cpu_ratio_to_ideal"] for p in FALLBACK_PROFILES]
    print(f"fallback cost: {min(ratios):.1f}-{max(ratios):.1f} x the CPU time of the fused kernel")
    return {"duration_ms": duration_ms, "replicas": spec(duration_ms).simulation.replicas, "profiles": rows,
            "cpu_ratio_min": min(ratios), "cpu_ratio_max": max(ratios)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("table", "api", "fallback", "all"), default="all")
    ap.add_argument("--specs", default=",".join(SPECS), help="table part: which shipped specs (comma-separated)")
    ap.add_argument("--reuse", action="store_true",
                    help="table part: read back a spec's finished run in --results instead of running it (untimed)")
    ap.add_argument("--results", default=str(ROOT / "results"), help="where the table's runs go (results/<name>)")
    ap.add_argument("--overwrite", action="store_true",
                    help="table part: replace a results directory that holds another run (default: refuse)")
    ap.add_argument("--time", type=float, default=500_000.0, help="fallback part: simulated ms per run")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    out = Path(args.out)
    specs = [x for x in args.specs.split(",") if x]
    command = " ".join(["python", "benchmarks/readme_numbers.py"] + (sys.argv[1:] if argv is None else list(argv)))

    def save(part, numbers, merge=False):
        """Write one part into the JSON (read late, so that parts written meanwhile are kept);
        ``merge``: update the part's entries (the table's specs) instead of replacing them."""
        saved = json.loads(out.read_text()) if out.is_file() else {}
        old = saved.get(part, {}).get("numbers", {}) if merge else {}
        entry = {"numbers": {**old, **numbers}, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
                            f"{platform.python_version()}, numpy {np.__version__}, neurocl {neurocl.__version__}",
                 "env": {k: os.environ[k] for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ},
                 "command": command}
        if merge:
            entry["commands"] = {**saved.get(part, {}).get("commands", {}), **{k: command for k in numbers}}
        saved[part] = entry
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(saved, indent=1) + "\n")
        tmp.replace(out)
        print(f"wrote {out} ({part})")

    parts = ("table", "api", "fallback") if args.part == "all" else (args.part,)
    for part in parts:
        if part == "table":
            part_table(Path(args.results), specs, args.reuse, lambda rows: save("table", rows, merge=True),
                       overwrite=args.overwrite)
        else:
            save(part, part_api() if part == "api" else part_fallback(args.time))


if __name__ == "__main__":
    from neurocl.errors import NeuroclError

    try:
        main()
    except NeuroclError as exc:   # a user's mistake (e.g. a results directory holding another run): one line
        print(f"readme_numbers: error: {exc}", file=sys.stderr)
        sys.exit(2)
