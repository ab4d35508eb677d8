"""Parameter sweeps: a grid over any config field, one results directory per run, one tidy table.

A sweep spec (TOML)::

    name = "b_sweep"
    base = "../circuits/bas3.toml"          # run config the grid varies (relative to this file)
    [overrides]                             # applied to every run (dotted keys)
    "simulation.duration" = 2000000.0
    [grid]                                  # the Cartesian product of these lists
    "learners.isd.phases.b" = [0.1, 0.3, 0.5]
    "simulation.seed" = [0, 1, 2]

Each run's resolved config is hashed (SHA-256 of its canonical TOML); its results go to
``OUT/runs/<hash>/`` (the format of :func:`neurocl.experiments.run.run`) plus
``OUT/runs/<hash>/run.json``.  A run is computed in a temporary folder and renamed into place
when finished, so a finished run is never recomputed and stays byte-identical, and a killed
sweep loses only the runs in flight.  A failed run is recorded in ``OUT/failed/<hash>.json``
with its error (and retried by the next invocation); it does not stop the sweep.
``OUT/results.csv`` is the tidy table: one row per run, learner, checkpoint and replica
(grid values that are tables or lists are written as JSON).

Executors: ``"local"`` (a ``concurrent.futures.ProcessPoolExecutor`` on this machine) or
``"dask"`` (a ``dask.distributed.Client`` on any scheduler address, e.g. a ``LocalCluster`` or
dask-jobqueue on Slurm).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from neurocl.config import parse_config
from neurocl.errors import ConfigError
from neurocl.atomic import write_text_atomic
from neurocl.tomlio import dumps

__all__ = ["SweepSpec", "load_sweep", "expand", "run_key", "run_sweep"]


@dataclass(frozen=True)
class SweepSpec:
    name: str
    base: dict
    overrides: dict
    grid: dict
    source: str


def _set(table: dict, dotted: str, value, what: str) -> None:
    keys = dotted.split(".")
    node = table
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            raise ConfigError(f"{what} key {dotted!r}: no table {k!r} in the base config")
        node = node[k]
    node[keys[-1]] = value


def load_sweep(path) -> SweepSpec:
    """Read and validate a sweep spec: every grid point must be a valid run config."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    unknown = sorted(set(raw) - {"name", "base", "overrides", "grid"})
    if unknown:
        raise ConfigError(f"{path}: unknown key '{unknown[0]}' (allowed: base, grid, name, overrides)")
    if "base" not in raw or "grid" not in raw:
        raise ConfigError(f"{path}: a sweep needs 'base' (a run config) and a [grid] table")
    base_path = (path.parent / raw["base"]).resolve()
    try:
        base = tomllib.loads(base_path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: base = {raw['base']!r}: no such file") from None
    grid = raw["grid"]
    if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise ConfigError(f"{path}: [grid] must map dotted keys to non-empty lists")
    spec = SweepSpec(raw.get("name", path.stem), base, raw.get("overrides", {}), grid, str(path))
    for point in expand(spec):
        parse_config(point, f"{path} (grid point)")
    return spec


def expand(spec: SweepSpec) -> list:
    """Every run config of the grid (raw TOML dicts), in grid order."""
    keys = list(spec.grid)
    out = []
    for values in itertools.product(*(spec.grid[k] for k in keys)):
        table = json.loads(json.dumps(spec.base))
        for k, v in spec.overrides.items():
            _set(table, k, v, "[overrides]")
        for k, v in zip(keys, values):
            _set(table, k, v, "[grid]")
        out.append(table)
    return out


def run_key(raw: dict, source: str = "<sweep>") -> tuple:
    """``(hash, resolved table)``: SHA-256 (first 16 hex digits) of the canonical resolved config."""
    resolved = parse_config(raw, source).to_table()
    text = dumps(resolved)
    return hashlib.sha256(text.encode()).hexdigest()[:16], resolved


def _run_one(raw: dict, runs_dir: str, key: str) -> dict:
    """Worker: run one config into a temporary folder, then rename it into place."""
    from neurocl.experiments.run import run

    final = Path(runs_dir) / key
    if final.is_dir():
        return {"key": key, "status": "done", "cached": True}
    tmp = Path(runs_dir) / f".{key}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    config = parse_config(raw, key)
    try:
        run(config, tmp, progress=False, echo=None)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_text_atomic(tmp / "run.json", json.dumps({"key": key}, indent=1) + "\n")
    try:
        os.rename(tmp, final)
    except OSError:  # another worker finished the same run first
        shutil.rmtree(tmp, ignore_errors=True)
    return {"key": key, "status": "done", "cached": False}


def _tidy_table(out: Path, points: list) -> None:
    from neurocl.experiments.run import read_metrics_csv

    buf = io.StringIO()
    writer = None
    for key, values in points:
        d = out / "runs" / key
        if not d.is_dir():
            continue
        for learner_dir in sorted(p for p in d.iterdir() if (p / "metrics.csv").is_file()):
            times, metrics = read_metrics_csv(learner_dir / "metrics.csv")
            names = sorted(metrics)
            if writer is None:
                writer = csv.writer(buf, lineterminator="\n")
                writer.writerow(["run", *values.keys(), "learner", "time_ms", "replica", *names])
            cells = [json.dumps(v) if isinstance(v, (dict, list)) else v for v in values.values()]
            for i, t in enumerate(times):
                for r in range(metrics[names[0]].shape[1]):
                    writer.writerow([key, *cells, learner_dir.name, f"{t:g}", r,
                                     *(f"{metrics[n][i, r]:.6g}" for n in names)])
    write_text_atomic(out / "results.csv", buf.getvalue())


def run_sweep(spec: SweepSpec, out, executor: str = "local", scheduler: str | None = None,
              workers: int | None = None, progress: bool = True, echo=print) -> dict:
    """Run every grid point not finished yet; returns counts ``{done, cached, failed}``."""
    from tqdm.auto import tqdm

    out = Path(out)
    runs_dir = out / "runs"
    failed_dir = out / "failed"
    runs_dir.mkdir(parents=True, exist_ok=True)
    failed_dir.mkdir(exist_ok=True)
    for stale in runs_dir.glob(".*.tmp-*"):  # runs in flight when a previous sweep was killed
        shutil.rmtree(stale, ignore_errors=True)
    keys = list(spec.grid)
    points, todo = [], []
    for raw in expand(spec):
        key, _ = run_key(raw, spec.source)
        values = {k: _get(raw, k) for k in keys}
        points.append((key, values))
        if (runs_dir / key).is_dir():
            continue
        todo.append((key, raw))
    write_text_atomic(out / "sweep.json", json.dumps(
        {"name": spec.name, "grid": spec.grid, "runs": {k: v for k, v in points}}, indent=1, default=str) + "\n")
    counts = {"done": len(points) - len(todo), "cached": len(points) - len(todo), "failed": 0}
    bar = tqdm(total=len(points), initial=counts["done"], desc=f"sweep {spec.name}", unit="run",
               disable=None if progress else True)

    def finished(key, error):
        if error is None:
            counts["done"] += 1
            (failed_dir / f"{key}.json").unlink(missing_ok=True)
        else:
            counts["failed"] += 1
            write_text_atomic(failed_dir / f"{key}.json", json.dumps({"key": key, "error": error}, indent=1) + "\n")
        bar.update(1)
        bar.set_postfix(done=counts["done"], failed=counts["failed"],
                        remaining=len(points) - counts["done"] - counts["failed"])
        _tidy_table(out, points)

    if executor == "dask":
        from dask.distributed import Client, as_completed

        client = Client(scheduler) if scheduler else Client(processes=False)
        try:
            futures = {client.submit(_run_one, raw, str(runs_dir), key, pure=False): key for key, raw in todo}
            for fut in as_completed(futures):
                key = futures[fut]
                try:
                    fut.result()
                    finished(key, None)
                except Exception as exc:  # a failed run is recorded and does not stop the sweep
                    finished(key, f"{type(exc).__name__}: {exc}")
        finally:
            client.close()
    elif executor == "local":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed as done_first

        # spawn, not fork: forked children of a process with numba/BLAS threads can crash
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=ctx) as pool:
            futures = {pool.submit(_run_one, raw, str(runs_dir), key): key for key, raw in todo}
            for fut in done_first(futures):
                key = futures[fut]
                try:
                    fut.result()
                    finished(key, None)
                except Exception as exc:
                    finished(key, f"{type(exc).__name__}: {exc}")
    else:
        raise ConfigError(f"executor = {executor!r} is not one of ['dask', 'local']")
    bar.close()
    _tidy_table(out, points)
    if echo is not None:
        echo(f"sweep {spec.name}: {len(points)} runs, {counts['done']} done ({counts['cached']} already done before), "
             f"{counts['failed']} failed; table {out / 'results.csv'}")
    return counts


def _get(table: dict, dotted: str):
    node = table
    for k in dotted.split("."):
        node = node[k]
    return node
