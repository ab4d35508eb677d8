"""Parameter sweeps: a grid over any config field, one results directory per run, one tidy table.

A sweep spec (TOML)::

    name = "b_sweep"
    base = "../circuits/bas3.toml"          # run config the grid varies (relative to this file,
                                            # or a shipped spec name: base = "bas3")
    [overrides]                             # applied to every run (dotted keys)
    "simulation.duration" = 2000000.0
    [grid]                                  # the Cartesian product of these lists
    "learners.isd.phases.b" = [0.1, 0.3, 0.5]
    "simulation.seed" = [0, 1, 2]

Each run's resolved config is hashed (SHA-256 of its canonical TOML); its results go to
``OUT/runs/<hash>/`` (the format of :func:`neurocl.experiments.run.run`) plus
``OUT/runs/<hash>/run.json`` and a ``DONE`` marker.  Grid points with the same resolved config
(``2e-5`` and ``0.00002``) are one run and one set of rows.  A failed run is recorded in
``OUT/failed/<hash>.json`` with its error (and retried by the next invocation); it does not
stop the sweep.  ``OUT/results.csv`` is the tidy table: one row per run, learner, checkpoint
and replica (grid values that are tables or lists are written as JSON).

Crash safety
------------
* A run is computed in a temporary folder ``OUT/runs/.<hash>.tmp-<host>-<pid>-<start>-<rand>``
  named after its writer (host name, PID and the PID's start time, so a reused PID is not
  mistaken for the writer), with ``DONE`` written last, and renamed into ``OUT/runs/<hash>/``
  only when complete (``config.toml``, ``profile.toml``, ``run.json``, every learner's
  ``metrics.csv`` and ``weights.npz``, ``DONE``).  A run counts as finished only when its folder
  is complete; an incomplete one (left by an older neurocl) is removed and recomputed.  A
  finished run is never recomputed and stays byte-identical.
* A sweep removes a temporary folder only when its writer is gone: same host and that process
  no longer alive (or a zombie).  Folders of live processes, and of other hosts (Dask workers
  elsewhere, whose liveness cannot be checked from here), are left alone; their writers rename
  or remove them.
* One sweep at a time per output folder: the sweep holds an exclusive ``fcntl.flock`` on
  ``OUT/.sweep.lock`` (which records its PID, host and start time) for its whole duration; a
  second sweep on the same folder refuses at once with a :class:`~neurocl.errors.ConfigError`
  naming the folder and the holder.  The kernel releases the lock when the holder dies, even by
  ``kill -9``.  On a file system without locks the sweep warns and goes on: the rules above
  keep concurrent sweeps correct (each run finished once, complete), only work is duplicated.
* Workers die with the sweep: the local executor's worker processes ask Linux for
  ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills them when the main process dies,
  even by ``kill -9``) and also run a watchdog thread that exits when their parent changes
  (``os.getppid()``, polled every second; the only mechanism off Linux).  Runs in flight are
  lost, nothing else.  Dask workers belong to their cluster: tasks already running finish (and
  their results are kept) when the sweep dies.

Executors: ``"local"`` (a ``concurrent.futures.ProcessPoolExecutor`` on this machine, ``workers``
processes, default all cores) or ``"dask"`` (a ``dask.distributed.Client`` on any scheduler
address, e.g. a ``LocalCluster`` or dask-jobqueue on Slurm; without an address, an in-process
cluster of ``workers`` threads).
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

from neurocl.config import parse_config
from neurocl.errors import ConfigError
from neurocl.atomic import write_bytes_atomic, write_text_atomic
from neurocl.tomlio import dumps

__all__ = ["SweepSpec", "load_sweep", "expand", "run_key", "run_sweep"]

LOCK_NAME = ".sweep.lock"
DONE = "DONE"
SCHEDULER_TIMEOUT_S = 5.0  # an unreachable Dask scheduler is an error after this long
EXECUTORS = ("dask", "local")


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


def _read_toml(path: Path, what: str) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{what}: is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what}: malformed TOML: {exc}") from None


def _base_file(sweep_path: Path, base: str) -> Path:
    """The run config a sweep's ``base`` names: a file relative to the sweep file (it wins), else a
    shipped circuit spec name (``"bas3"``, see ``neurocl circuits``); neither is a ConfigError."""
    from neurocl.shipped import resolve_spec

    candidate = (sweep_path.parent / base).resolve()
    if candidate.exists() or base.endswith(".toml") or "/" in base or "\\" in base:
        return candidate   # a path: _read_toml names it if missing
    try:
        return resolve_spec(base).resolve()   # (a file named like that in the working directory would win there)
    except ConfigError as exc:
        raise ConfigError(f"{sweep_path}: base = {exc}") from None


def load_sweep(path) -> SweepSpec:
    """Read and validate a sweep spec: every grid point must be a valid run config."""
    path = Path(path)
    raw = _read_toml(path, str(path))
    unknown = sorted(set(raw) - {"name", "base", "overrides", "grid"})
    if unknown:
        raise ConfigError(f"{path}: unknown key '{unknown[0]}' (allowed: base, grid, name, overrides)")
    if "base" not in raw or "grid" not in raw:
        raise ConfigError(f"{path}: a sweep needs 'base' (a run config) and a [grid] table")
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigError(f"{path}: name = {name!r} must be a non-empty string without path separators")
    if not isinstance(raw["base"], str) or not raw["base"]:
        raise ConfigError(f"{path}: base = {raw['base']!r} must be the path of a run config or the name of a "
                          "shipped circuit spec (a string)")
    base = _read_toml(_base_file(path, raw["base"]), f"{path}: base = {raw['base']!r}")
    overrides = raw.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{path}: [overrides] must be a table of dotted keys")
    grid = raw["grid"]
    if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise ConfigError(f"{path}: [grid] must map dotted keys to non-empty lists")
    both = sorted(g for g in grid for o in overrides if g == o or g.startswith(o + ".") or o.startswith(g + "."))
    if both:   # one would silently replace the other (also a table and a key inside it): ambiguous
        raise ConfigError(f"{path}: '{both[0]}' is both in [grid] and in [overrides] (or one contains the "
                          "other); keep it in one of them")
    spec = SweepSpec(name, base, overrides, grid, str(path))
    for point in expand(spec):
        parse_config(point, f"{path} (grid point)")
    return spec


def expand(spec: SweepSpec) -> list:
    """Every run config of the grid (raw TOML dicts), in grid order (duplicates included)."""
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


# ----------------------------------------------------------------------------------------------
# who writes what: temporary folders named after their writer

def _host() -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "localhost"


def _start_time(pid: int) -> int | None:
    """Start time of a live process (clock ticks since boot; 0 where unknown), None if it is gone.

    A zombie counts as gone: it writes nothing any more.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, no /proc, or hidden (hidepid): ask the kernel
        return _kill0(pid)
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _kill0(pid: int) -> int | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return 0


def _owner_tag() -> str:
    """``<host>-<pid>-<start>-<rand>`` of this process, for the temporary folders it writes."""
    pid = os.getpid()
    return f"{_host()}-{pid}-{_start_time(pid) or 0}-{secrets.token_hex(4)}"


_TMP = re.compile(r"^\.(?P<key>[0-9a-f]+)\.tmp-(?:(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]+|(?P<legacy>\d+))$")


def _writer_alive(name: str) -> bool:
    """Whether the writer of the temporary folder ``name`` may still be writing it."""
    m = _TMP.match(name)
    if m is None:
        return True  # not ours
    if m["legacy"]:  # ``.<hash>.tmp-<pid>`` of older versions: same host
        return _start_time(int(m["legacy"])) is not None
    if m["host"] != _host():
        return True  # cannot tell from here
    now = _start_time(int(m["pid"]))
    return now is not None and (now == 0 or int(m["start"]) in (0, now))


def _clean_stale(runs_dir: Path) -> int:
    """Remove the temporary folders whose writer is gone; returns how many."""
    removed = 0
    for d in runs_dir.glob(".*.tmp-*"):
        if not _writer_alive(d.name):
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    return removed


def _required(labels) -> list:
    return ["config.toml", "profile.toml", "run.json", *(f"{lb}/{f}" for lb in labels
                                                        for f in ("metrics.csv", "weights.npz")), DONE]


def _complete(d: Path, labels) -> bool:
    """A run folder is finished only when every file is there and its ``DONE`` marker names its
    ``config.toml`` (:func:`neurocl.experiments.run.is_complete`)."""
    from neurocl.experiments.run import is_complete

    return all((d / f).is_file() for f in _required(labels)) and is_complete(d)


def _discard(d: Path, key: str) -> None:
    """Remove an incomplete run folder (moved aside first, so that a crash leaves a stale tmp)."""
    trash = d.parent / f".{key}.tmp-{_owner_tag()}"
    try:
        os.rename(d, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def _install(tmp: Path, final: Path, key: str, labels) -> bool:
    """Rename a finished temporary folder into place; False if another writer finished it first."""
    for _ in range(3):
        try:
            os.rename(tmp, final)
            return True
        except OSError:
            if _complete(final, labels):
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            _discard(final, key)  # an incomplete folder where the run belongs: replace it
    raise RuntimeError(f"run {key}: cannot rename {tmp.name} to {final}")


def _run_one(raw: dict, runs_dir: str, key: str, labels: list) -> dict:
    """Worker: run one config into its own temporary folder, then rename it into place."""
    from neurocl.experiments.run import run

    final = Path(runs_dir) / key
    if _complete(final, labels):
        return {"key": key, "status": "done", "cached": True}
    config = parse_config(raw, key)
    tmp = Path(runs_dir) / f".{key}.tmp-{_owner_tag()}"
    tmp.mkdir()
    try:
        run(config, tmp, progress=False, echo=None)  # writes its DONE marker last
        done = (tmp / DONE).read_bytes() if (tmp / DONE).is_file() else None
        write_text_atomic(tmp / "run.json", json.dumps({"key": key}, indent=1) + "\n")
        if done is not None:
            write_bytes_atomic(tmp / DONE, done)  # still the last file written
        if not _complete(tmp, labels):
            missing = [f for f in _required(labels) if not (tmp / f).is_file()]
            raise RuntimeError(f"run {key}: results folder incomplete (missing or stale: "
                               f"{', '.join(missing) or DONE})")
        installed = _install(tmp, final, key, labels)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"key": key, "status": "done", "cached": not installed}


# ----------------------------------------------------------------------------------------------
# workers that die with the sweep

def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the sweep's main process dies, even by ``kill -9``."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="neurocl-watch-parent").start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


# ----------------------------------------------------------------------------------------------
# one sweep per output folder

class _FolderLock:
    """Exclusive ``flock`` on ``OUT/.sweep.lock`` for the sweep's lifetime."""

    def __init__(self, out: Path):
        self.out, self.path, self.fd = out, out / LOCK_NAME, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # not POSIX
            warnings.warn(f"{self.out}: no file locks on this system; a concurrent sweep on this folder "
                          "would duplicate work", stacklevel=3)
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)  # no locks on this file system: the crash-safety rules still hold
                warnings.warn(f"{self.out}: cannot lock {LOCK_NAME} ({exc.strerror}); going on without: "
                              "a concurrent sweep on this folder would duplicate work", stacklevel=3)
                return self
            holder = self._holder(fd)
            os.close(fd)
            raise ConfigError(f"{self.out}: another sweep is running on this folder ({holder}; lock "
                              f"{self.path}); wait for it to finish or choose another output folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n").encode())
        self.fd = fd
        return self

    @staticmethod
    def _holder(fd) -> str:
        try:
            text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
            h = json.loads(text)
            return f"pid {h['pid']} on host {h['host']}, started {h['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder not recorded yet"

    def __exit__(self, *exc):
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)
            finally:
                os.close(self.fd)  # releases the lock
            self.fd = None


# ----------------------------------------------------------------------------------------------

def _check_options(executor, scheduler, workers) -> None:
    if executor not in EXECUTORS:
        raise ConfigError(f"executor = {executor!r} is not one of {list(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers = {workers!r} must be an integer >= 1 (default: all cores)")
    if scheduler is not None:
        if executor != "dask":
            raise ConfigError(f"scheduler = {scheduler!r} is only used with executor = 'dask'")
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise ConfigError(f"scheduler = {scheduler!r} must be a Dask scheduler address (tcp://HOST:PORT)")
        if workers is not None:
            raise ConfigError(f"workers = {workers} applies to the local executor or an in-process Dask cluster; "
                              "with a scheduler, the cluster decides")


def _dask_client(scheduler: str | None, workers: int | None):
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError("executor = 'dask' needs dask.distributed (pip install 'neurocl[dask]')") from None
    if scheduler is None:
        if workers is None:
            return Client(processes=False)
        return Client(processes=False, n_workers=workers, threads_per_worker=1, dashboard_address=None)
    scheduler = scheduler.strip()
    hint = "start one (dask scheduler) or leave the scheduler out for an in-process cluster"
    try:  # fail fast (connection refused, unknown host) before Dask's own retries
        from distributed.comm.addressing import get_address_host_port

        host, port = get_address_host_port(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    except (ImportError, ValueError):
        host = port = None
    if host is not None:
        try:
            socket.create_connection((host, port), timeout=SCHEDULER_TIMEOUT_S).close()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise ConfigError(f"scheduler = {scheduler!r}: cannot reach a Dask scheduler there ({why}); {hint}") from None
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - whatever the address gives, it is not a scheduler
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"scheduler = {scheduler!r}: no Dask scheduler answered within "
                          f"{SCHEDULER_TIMEOUT_S:g} s ({why}); {hint}") from None


def _tidy_table(out: Path, points: list) -> None:
    from neurocl.experiments.run import read_metrics_csv

    buf = io.StringIO()
    writer = None
    for key, values, labels in points:
        d = out / "runs" / key
        if not _complete(d, labels):
            continue
        for label in sorted(labels):
            times, metrics = read_metrics_csv(d / label / "metrics.csv")
            names = sorted(metrics)
            if writer is None:
                writer = csv.writer(buf, lineterminator="\n")
                writer.writerow(["run", *values.keys(), "learner", "time_ms", "replica", *names])
            cells = [json.dumps(v) if isinstance(v, (dict, list)) else v for v in values.values()]
            for i, t in enumerate(times):
                for r in range(metrics[names[0]].shape[1]):
                    writer.writerow([key, *cells, label, f"{t:g}", r,
                                     *(f"{metrics[n][i, r]:.6g}" for n in names)])
    write_text_atomic(out / "results.csv", buf.getvalue())


def run_sweep(spec: SweepSpec, out, executor: str = "local", scheduler: str | None = None,
              workers: int | None = None, progress: bool = True, echo=print) -> dict:
    """Run every grid point not finished yet; returns counts ``{done, cached, failed, merged}``.

    ``merged``: grid points that resolve to the config of an earlier one (run once).  Raises
    :class:`~neurocl.errors.ConfigError` on a bad option, an unreachable scheduler, or when
    another sweep holds ``out``.
    """
    _check_options(executor, scheduler, workers)
    keys = list(spec.grid)
    points, raws, merged = [], {}, 0
    for raw in expand(spec):
        key, resolved = run_key(raw, spec.source)
        if key in raws:
            merged += 1
            continue
        raws[key] = raw
        points.append((key, {k: _get(raw, k) for k in keys}, list(resolved["learners"])))
    out = Path(out)
    runs_dir = out / "runs"
    failed_dir = out / "failed"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"output folder {out}: cannot create it ({exc.strerror or exc})") from None
    with _FolderLock(out):
        runs_dir.mkdir(exist_ok=True)
        failed_dir.mkdir(exist_ok=True)
        client = _dask_client(scheduler, workers) if executor == "dask" else None
        try:
            return _sweep(spec, out, points, raws, merged, client, workers, progress, echo)
        finally:
            if client is not None:
                client.close()
            _clean_stale(runs_dir)  # writers that died while this sweep ran


def _sweep(spec, out, points, raws, merged, client, workers, progress, echo) -> dict:
    from tqdm.auto import tqdm

    runs_dir, failed_dir = out / "runs", out / "failed"
    _clean_stale(runs_dir)  # runs in flight when an earlier sweep died
    todo, redone = [], 0
    for key, _, labels in points:
        final = runs_dir / key
        if _complete(final, labels):
            continue
        if final.exists():  # incomplete: left by an older version, never by this one
            _discard(final, key)
            redone += 1
        todo.append((key, raws[key], labels))
    write_text_atomic(out / "sweep.json", json.dumps(
        {"name": spec.name, "grid": spec.grid, "runs": {k: v for k, v, _ in points}}, indent=1, default=str) + "\n")
    counts = {"done": len(points) - len(todo), "cached": len(points) - len(todo), "failed": 0, "merged": merged}
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

    if client is not None:
        from dask.distributed import as_completed

        futures = {client.submit(_run_one, raw, str(runs_dir), key, labels, pure=False): key
                   for key, raw, labels in todo}
        for fut in as_completed(futures):
            key = futures[fut]
            try:
                fut.result()
                finished(key, None)
            except Exception as exc:  # a failed run is recorded and does not stop the sweep
                finished(key, f"{type(exc).__name__}: {exc}")
    elif todo:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed as done_first

        # spawn, not fork: forked children of a process with numba/BLAS threads can crash
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(todo)), mp_context=ctx,
                                 initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(_run_one, raw, str(runs_dir), key, labels): key for key, raw, labels in todo}
            for fut in done_first(futures):
                key = futures[fut]
                try:
                    fut.result()
                    finished(key, None)
                except Exception as exc:
                    finished(key, f"{type(exc).__name__}: {exc}")
    bar.close()
    _tidy_table(out, points)
    if echo is not None:
        extra = "".join([f", {merged} duplicate grid points merged" if merged else "",
                         f", {redone} incomplete run folders redone" if redone else ""])
        echo(f"sweep {spec.name}: {len(points)} runs{extra}, {counts['done']} done ({counts['cached']} already done "
             f"before), {counts['failed']} failed; table {out / 'results.csv'}")
    return counts


def _get(table: dict, dotted: str):
    node = table
    for k in dotted.split("."):
        node = node[k]
    return node
