"""config -> engine.run per learner -> results directory -> table and figure.

Results format (read by other tools; documented in the README)::

    DIR/config.toml            resolved config (every default filled in; data and profile paths
                               absolute, so the directory reads the same from any working directory)
    DIR/profile.toml           the resolved hardware profile the weights ran on
    DIR/<learner>/metrics.csv  time_ms, replica, one column per metric (unit in the name)
    DIR/<learner>/weights.npz  final parameters of replica 0 (RBM: W visible x hidden, a, c)
                               and of all replicas under the same names with suffix ``_all``
    DIR/<learner>/DONE         the learner finished (its files are complete): the config hash
    DIR/summary.png            metric against simulated time (mean +- s.e.) and model samples
    DIR/<learner>/raster.png   (Brian2 engine) unit raster with phase shading at the start and
                               end of learning, and the learned weights
    DIR/DONE                   written last: the run finished.  TOML: ``config_hash`` (SHA-256 of
                               config.toml, first 16 hex digits), ``finished`` (UTC time),
                               ``origin`` (working directory of the run), ``learners``

Every file is written atomically.  A directory without ``DONE`` holds a partial run (killed or
failed); ``report`` and ``deploy`` warn about it.  :func:`run` refuses a non-empty ``out`` that
holds a different run unless ``overwrite`` (clears it first, only if it holds nothing but
results files) and continues the same run with ``resume`` (learners with their ``DONE`` are
kept).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np

from neurocl.atomic import savez_atomic, write_text_atomic
from neurocl.config import parse_config
from neurocl.engines import get_engine
from neurocl.errors import ConfigError
from neurocl.experiments.tasks import make_task
from neurocl.plotting import PANELS, mean_se, new_figure, plot_curves, raster_figure, save
from neurocl.schema import as_table
from neurocl.simulation import Trajectory
from neurocl.tomlio import dumps

__all__ = ["run", "report", "summarise", "main_metric", "table_metrics", "metric_definition", "format_table", "write_metrics_csv", "read_metrics_csv",
           "DONE_MARKER", "config_hash", "is_complete", "read_results_config", "load_weights", "read_done"]

#: name of the marker file written last into a finished results directory (and into each
#: finished learner's folder)
DONE_MARKER = "DONE"

#: files a results directory holds at its top level (``run.json``: written by sweeps)
RESULT_FILES = frozenset({"config.toml", "profile.toml", "summary.png", DONE_MARKER, "run.json"})
#: files a learner folder holds
LEARNER_FILES = frozenset({"metrics.csv", "weights.npz", "raster.png", DONE_MARKER})

_DATA_PATHS = ("images", "labels", "test_images", "test_labels")


def config_hash(text: str) -> str:
    """SHA-256 (first 16 hex digits) of the text of ``config.toml``."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _warn(message: str) -> None:
    """A ``UserWarning`` for the caller of the public function (the CLI shows it as one line
    ``neurocl: warning: ...`` on stderr)."""
    warnings.warn(message, UserWarning, stacklevel=3)


def _read_text(path, what: str = "file") -> str:
    """UTF-8 text of ``path``; errors are one-line :class:`ConfigError` naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                          f"expected a {what}") from None


def _read_toml(path, what: str) -> dict:
    text = _read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML ({exc}); expected a {what}") from None


def read_done(out) -> dict | None:
    """The ``DONE`` marker of a results directory as a dict (``None``: no marker)."""
    path = Path(out) / DONE_MARKER
    if not path.is_file():
        return None
    try:
        return _read_toml(path, "DONE marker")
    except ConfigError:
        return {}


def is_complete(out) -> bool:
    """``True`` if ``out`` holds a finished run: its ``DONE`` marker names the hash of its
    ``config.toml``."""
    out = Path(out)
    done = read_done(out)
    if not done:
        return False
    try:
        return done.get("config_hash") == config_hash((out / "config.toml").read_text())
    except (OSError, UnicodeDecodeError):
        return False


def _absolute(path_text: str, origin: Path) -> str:
    p = Path(path_text).expanduser()
    return str(p if p.is_absolute() else (origin / p).resolve())


def _with_absolute_paths(config, origin: Path):
    """``config`` with relative data paths and a profile path made absolute against ``origin``."""
    from neurocl.hardware import shipped_profiles

    changes = {f: _absolute(getattr(config.data, f), origin) for f in _DATA_PATHS if getattr(config.data, f)}
    changes = {f: v for f, v in changes.items() if v != getattr(config.data, f)}
    if changes:
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, **changes))
    if str(config.profile) not in shipped_profiles():
        config = dataclasses.replace(config, profile=_absolute(str(config.profile), origin))
    return config


def read_results_config(out):
    """The :class:`~neurocl.config.RunConfig` of a results directory, as the run saw it: the
    saved ``profile.toml`` stands for the profile, relative data paths are resolved against the
    run's recorded ``origin`` (its ``DONE`` marker) or else the directory's parent.  Errors
    name the file."""
    out = Path(out)
    if not out.is_dir():
        raise ConfigError(f"{out}: not a directory" if out.exists() else f"{out}: no such results directory")
    path = out / "config.toml"
    if not path.is_file():
        raise ConfigError(f"{out}: not a results directory (no config.toml); run `neurocl run` first")
    raw = _read_toml(path, "resolved run config (config.toml)")
    if (out / "profile.toml").is_file():
        _read_toml(out / "profile.toml", "hardware profile (profile.toml)")
        raw["profile"] = str((out / "profile.toml").resolve())
    done = read_done(out) or {}
    origin = Path(done["origin"]) if isinstance(done.get("origin"), str) else out.resolve().parent
    data = raw.get("data")
    if isinstance(data, dict):
        for f in _DATA_PATHS:
            if isinstance(data.get(f), str) and data[f]:
                data[f] = _absolute(data[f], origin)
    return parse_config(raw, str(path))


def _check_learner_label(label: str) -> None:
    if not label or label in (".", "..") or "/" in label or "\\" in label or label in RESULT_FILES:
        raise ConfigError(f"[learners.{label}]: a learner label names its results folder: it must be a plain "
                          f"folder name (no '/', not {sorted(RESULT_FILES)})")


def metric_unit(metric: str) -> str:
    """The unit a metric's name states: ``*_nats`` -> ``(nats)``, ``*_pct`` -> ``(%)``, anything
    else is dimensionless (cosines, overlaps)."""
    if metric.endswith("_nats"):
        return "(nats)"
    return "(%)" if metric.endswith("_pct") else "(dimensionless)"


def main_metric(circuit) -> str:
    """The metric a run reports first (the circuit's ``main_metric``)."""
    return circuit.main_metric


def write_metrics_csv(path, traj) -> None:
    """One row per checkpoint and replica: ``time_ms, replica, <metric>...``."""
    names = list(traj.metrics)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time_ms", "replica"] + names)
    R = traj.metrics[names[0]].shape[1]
    for i, t in enumerate(traj.times):
        for r in range(R):
            w.writerow([f"{t:g}", r] + [f"{traj.metrics[n][i, r]:.6g}" for n in names])
    write_text_atomic(path, buf.getvalue())


def read_metrics_csv(path):
    """Inverse of :func:`write_metrics_csv`: ``(times_ms, {metric: array[checkpoint, replica]})``.

    Raises :class:`ConfigError` naming the file for anything that is not such a table.
    """
    path = Path(path)
    text = _read_text(path, "metrics table (metrics.csv)")
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows:
            raise ValueError("no data rows")
        names = [k for k in rows[0] if k not in ("time_ms", "replica")]
        if "time_ms" not in rows[0] or "replica" not in rows[0] or not names:
            raise ValueError(f"header {list(rows[0])}")
        times = np.array(sorted({float(r["time_ms"]) for r in rows}))
        replicas = [int(r["replica"]) for r in rows]
        if min(replicas) < 0:
            raise ValueError(f"replica {min(replicas)}")
        R = max(replicas) + 1
        out = {n: np.full((len(times), R), np.nan) for n in names}
        index = {t: i for i, t in enumerate(times)}
        for r, rep in zip(rows, replicas):
            for n in names:
                out[n][index[float(r["time_ms"])], rep] = float(r[n])
    except (ValueError, TypeError, KeyError, csv.Error) as exc:
        raise ConfigError(f"{path}: malformed metrics table ({exc}); expected the columns time_ms, replica, "
                          f"<metric>... that `neurocl run` writes") from None
    return times, out


def load_weights(path, circuit, replicas: int | None = None, all_replicas: bool = False) -> dict:
    """The parameters saved in a learner's ``weights.npz``, checked against ``circuit``.

    ``all_replicas``: the ``<name>_all`` arrays (leading replica axis; ``replicas`` of them if
    given) under their plain names; else replica 0's.  A missing, truncated or foreign file,
    a missing array or one of the wrong shape raises :class:`ConfigError` naming the file and
    the array.
    """
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file (the learner's weights; is the run partial?)")
    expected = {k: v.shape[1:] for k, v in circuit.init_params(np.random.default_rng(0), 1).items()}
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = set(npz.files)
            out = {}
            for name, shape in expected.items():
                key = f"{name}_all" if all_replicas else name
                if key not in files:
                    raise ConfigError(f"{path}: no array '{key}' (found {', '.join(sorted(files)) or 'none'}; "
                                      f"a {circuit.kind} circuit saves {', '.join(expected)})")
                arr = npz[key]
                if all_replicas:
                    ok = arr.ndim == len(shape) + 1 and arr.shape[1:] == shape and arr.shape[0] >= 1 \
                        and (replicas is None or arr.shape[0] == replicas)
                    need = (replicas or "replicas",) + shape
                else:
                    ok, need = arr.shape == shape, shape
                if not ok:
                    raise ConfigError(f"{path}: array '{key}' has shape {arr.shape}, the {circuit.kind} circuit "
                                      f"in config.toml needs {need}")
                if not np.issubdtype(arr.dtype, np.number):
                    raise ConfigError(f"{path}: array '{key}' has dtype {arr.dtype}, expected numbers")
                out[name] = np.asarray(arr, dtype=float)
    except ConfigError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        raise ConfigError(f"{path}: not a readable .npz archive of weights ({type(exc).__name__}: {exc})") from None
    return out


def table_metrics(circuit) -> tuple:
    """The metrics the checkpoint table of ``circuit`` shows: its ``table_metrics`` class
    attribute (names of ``task(...).evaluate``'s metrics), else just its main metric."""
    return tuple(getattr(circuit, "table_metrics", None) or (circuit.main_metric,))


def metric_definition(circuit, metric: str) -> str:
    """What a table column means: the circuit's ``metric_definitions[metric]`` if it states
    one, else the unit the name implies (:func:`metric_unit`)."""
    return dict(getattr(circuit, "metric_definitions", None) or {}).get(metric, metric_unit(metric))


def _cell(values, width: int) -> str:
    m, se = mean_se(values)
    return f"{m:>{width}.3f} +- {se:<5.3f}" if np.size(values) > 1 else f"{m:>{width}.3f}"


def format_table(curves: dict, metric, unit: str = "", definitions: dict | None = None) -> str:
    """Text table: one row per checkpoint time (the union over learners, aligned by
    ``time_ms``), ``mean +- s.e.`` over replicas per learner (``-`` where a learner has no
    value at that time).

    ``metric`` a name: ``curves`` maps a learner to ``(times_ms, values[checkpoint, replica])``
    and each learner has one column headed ``<learner> <unit>``.  ``metric`` a sequence of
    names: ``curves`` maps a learner to ``(times_ms, {metric: values})``, one column per learner
    and metric headed ``<learner> <metric>``, and a legend line per metric follows the table
    (``definitions[metric]``, default its unit, :func:`metric_unit`).
    """
    labels = list(curves)
    times = sorted({float(t) for lab in labels for t in np.asarray(curves[lab][0])})
    index = {lab: {float(t): i for i, t in enumerate(np.asarray(curves[lab][0]))} for lab in labels}
    if isinstance(metric, str):
        columns = [(lab, None, f"{lab} {unit}") for lab in labels]
    else:
        columns = [(lab, m, f"{lab} {m}") for lab in labels for m in metric]
    head = f"{'time (ms)':>12} " + " ".join(f"{title:>22}" for _, _, title in columns)
    lines = [head, "-" * len(head)]
    for ti in times:
        cells = []
        for lab, m, _ in columns:
            i = index[lab].get(ti)
            values = curves[lab][1] if m is None else curves[lab][1].get(m)
            if i is None or values is None:
                cells.append(f"{'-':>13}")
                continue
            cells.append(_cell(values[i], 13))
        lines.append(f"{ti:>12.0f} " + " ".join(f"{c:>22}" for c in cells))
    if not isinstance(metric, str):
        definitions = definitions or {}
        lines.extend(f"  {m}: {definitions.get(m, metric_unit(m))}" for m in metric)
    return "\n".join(lines)


def _summary_figure(config, curves, params_by_label, metric, path, reference=None):
    circuit = config.circuit
    panel = PANELS[circuit.summary_panel] if circuit.summary_panel is not None else None
    extra = list(params_by_label) if panel is not None else []
    fig, axes = new_figure(1 + len(extra))
    ref, ref_label = reference if reference is not None else (None, "")
    plot_curves(axes[0], curves, metric, ref, ref_label)
    R = len(next(iter(curves.values()))[1][0])
    axes[0].set_title(f"{config.name}: {R} replica{'s' if R > 1 else ''}")
    rng = np.random.default_rng(config.simulation.seed)
    for ax, label in zip(axes[1:], extra):
        try:
            panel(ax, circuit, params_by_label[label], label, rng)
        except ConfigError as exc:   # e.g. too many states to draw exact samples from
            ax.clear()
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"{label}: no panel\n({exc})", ha="center", va="center", fontsize=7, wrap=True)
    save(fig, path)


# ---------------------------------------------------------------------------- the results directory
def _is_tmp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _foreign_entries(out: Path) -> list:
    """Entries of ``out`` that a results directory does not hold (empty: it looks like one)."""
    foreign = []
    for p in sorted(out.iterdir()):
        if p.is_symlink():
            foreign.append(p.name)
        elif p.is_file() and (p.name in RESULT_FILES or _is_tmp(p.name)):
            continue
        elif p.is_dir() and p.name not in RESULT_FILES:
            inner = [q for q in p.iterdir() if q.is_symlink() or not q.is_file()
                     or not (q.name in LEARNER_FILES or _is_tmp(q.name))]
            foreign.extend(f"{p.name}/{q.name}" for q in inner)
        else:
            foreign.append(p.name)
    return foreign


def _check_clearable(out: Path) -> None:
    """Raise unless ``out`` holds nothing but results files (``--overwrite`` may clear it)."""
    foreign = _foreign_entries(out)
    if not (out / "config.toml").is_file() or foreign:
        what = f"it holds {', '.join(repr(f) for f in foreign[:3])}" + (" ..." if len(foreign) > 3 else "") \
            if foreign else "it has no config.toml"
        raise ConfigError(f"{out}: --overwrite refused: this does not look like a neurocl results directory "
                          f"({what}); remove it yourself or choose another --out")


def _clear_results_dir(out: Path) -> None:
    """Delete the results files of ``out`` (only those: no recursive delete of anything else)."""
    _check_clearable(out)
    for p in sorted(out.iterdir()):
        if p.is_dir():
            for q in p.iterdir():
                q.unlink()
            p.rmdir()
        else:
            p.unlink()


def _first_difference(old, new, prefix=""):
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            if old.get(k) != new.get(k):
                return _first_difference(old.get(k), new.get(k), f"{prefix}.{k}" if prefix else k)
        return None
    return f"{prefix}: {old!r} there, {new!r} now"


def _inspect_out(out: Path, text: str, overwrite: bool, resume: bool) -> str:
    """What to do with ``out``: ``"new"`` (missing or empty), ``"same"`` (holds this run),
    ``"overwrite"``; raises :class:`ConfigError` for everything else.  Changes nothing."""
    if overwrite and resume:
        raise ConfigError("--overwrite and --resume exclude each other")
    for parent in [out, *out.parents]:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                where = "is a file" if parent == out else f"lies under {parent}, which is a file"
                raise ConfigError(f"{out}: the results directory {where}; choose another --out")
            break
    if not out.is_dir() or not any(out.iterdir()):
        return "new"
    cfg = out / "config.toml"
    try:
        old = tomllib.loads(cfg.read_text()) if cfg.is_file() else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        old = {}
    same = old == tomllib.loads(text)
    if overwrite:
        _check_clearable(out)
        return "overwrite"
    if same:
        return "same"
    if old is None:
        why = "is not empty and holds no neurocl run (no config.toml)"
    else:
        diff = _first_difference(old, tomllib.loads(text)) if old else "config.toml is unreadable"
        why = f"holds a different run ({diff})"
    hint = ("--resume continues only the same run; " if resume else "") + \
        "pass --overwrite to replace it or choose another --out"
    raise ConfigError(f"{out}: the results directory {why}; {hint}")


def _learner_complete(d: Path, key: str) -> bool:
    try:
        done = tomllib.loads((d / DONE_MARKER).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return done.get("config_hash") == key and (d / "metrics.csv").is_file() and (d / "weights.npz").is_file()


def _marker(key: str, **extra) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return dumps({"config_hash": key, "finished": stamp, **extra})


def _resumed(path: Path, config) -> Trajectory:
    times, metrics = read_metrics_csv(path / "metrics.csv")
    params = load_weights(path / "weights.npz", config.circuit, config.simulation.replicas, all_replicas=True)
    return Trajectory(times, metrics, params, {"resumed": True})


def _preflight(config, engine) -> None:
    """Memory estimates of what the engine allocates up front (numpy: the phase tables)."""
    if config.engine != "numpy":
        return
    from neurocl.engines.numpy.schedule import check_phase_table

    for spec in config.learners:
        if spec.phases is not None:
            check_phase_table(spec.phases, config.simulation, f"[learners.{spec.label}]")


def run(config, out_dir, progress: bool = True, echo=print, overwrite: bool = False, resume: bool = False) -> dict:
    """Run every learner of ``config`` at equal simulated time and write the results directory.

    Returns ``{learner label: Trajectory}``.  All learners share the seed, hence the initial
    weights.  ``echo`` receives the printed summary (``None`` for silence).

    ``out_dir`` must be missing, empty or hold the same run (same resolved config); a
    different run is refused unless ``overwrite`` (its results files are deleted first; a
    directory holding anything else is refused).  ``resume``: learners of the same run that
    finished (their ``DONE`` marker) are read back instead of run again.  ``DONE`` is
    written last.
    """
    out = Path(out_dir)
    origin = Path.cwd()
    config = _with_absolute_paths(config, origin)
    for spec in config.learners:
        _check_learner_label(spec.label)
    text = dumps(config.to_table())
    key = config_hash(text)
    action = _inspect_out(out, text, overwrite, resume)
    engine = get_engine(config.engine, **config.engine_options)
    profile = config.hardware()
    for spec in config.learners:   # every learner is checked before anything is simulated
        engine.check(config.circuit, spec.rule, spec.phases, profile, config.simulation)
    _preflight(config, engine)
    task = make_task(config.circuit, config.data, config.simulation)
    if action == "overwrite":
        _clear_results_dir(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot create the results directory ({exc.strerror})") from None
    (out / DONE_MARKER).unlink(missing_ok=True)
    complete = set()
    for spec in config.learners:
        d = out / spec.label
        if resume and action == "same" and _learner_complete(d, key):
            complete.add(spec.label)
        elif (d / DONE_MARKER).is_file():
            (d / DONE_MARKER).unlink()
    write_text_atomic(out / "config.toml", text)
    write_text_atomic(out / "profile.toml", dumps(as_table(profile)))
    metric = main_metric(config.circuit)
    shown = table_metrics(config.circuit)
    trajs, curves, tables = {}, {}, {}
    for spec in config.learners:
        d = out / spec.label
        if spec.label in complete:
            traj = _resumed(d, config)
            if echo is not None:
                echo(f"{spec.label}: complete in {out} (--resume), not run again")
        else:
            traj = engine.run(config.circuit, spec.rule, spec.phases, task, config.simulation,
                              progress=progress, desc=spec.label, profile=profile)
        trajs[spec.label] = traj
        curves[spec.label] = (traj.times, traj.metrics[metric])
        tables[spec.label] = (traj.times, {m: traj.metrics[m] for m in shown if m in traj.metrics})
        if spec.label in complete:
            continue
        write_metrics_csv(d / "metrics.csv", traj)
        arrays = {k: v[0] for k, v in traj.params.items()}
        arrays.update({f"{k}_all": v for k, v in traj.params.items()})
        savez_atomic(d / "weights.npz", **arrays)
        if traj.info.get("raster"):
            raster_figure(traj.info["raster"], traj.params, spec.label, d / "raster.png")
        write_text_atomic(d / DONE_MARKER, _marker(key, learner=spec.label))
    summarise(config, out, curves, {k: t.params for k, t in trajs.items()}, echo, task.reference, tables)
    write_text_atomic(out / DONE_MARKER, _marker(key, origin=str(origin),
                                                 learners=[s.label for s in config.learners]))
    return trajs


def summarise(config, out, curves: dict, params_by_label: dict, echo=print, reference=None,
              tables: dict | None = None) -> None:
    """Write ``out/summary.png`` and echo the checkpoint table of the main metric (of the
    circuit's :func:`table_metrics` where it declares more than that, given ``tables``).

    ``curves``: ``{learner: (times_ms, values[checkpoint, replica])}``; ``params_by_label``:
    ``{learner: params with a replica axis}``; ``reference``: ``(value, label)`` of the
    main metric's baseline line (``Task.reference``); ``tables``: ``{learner: (times_ms,
    {metric: values[checkpoint, replica]})}`` for the table metrics.
    """
    out = Path(out)
    metric = main_metric(config.circuit)
    _summary_figure(config, curves, params_by_label, metric, out / "summary.png", reference)
    if echo is not None:
        unit = metric_unit(metric)
        R = len(next(iter(curves.values()))[1][0])
        shown = table_metrics(config.circuit)
        if tables is not None and shown != (metric,):
            echo(", ".join(shown) + " at checkpoints" +
                 (f", mean +- standard error over {R} replicas:" if R > 1 else ":"))
            echo(format_table(tables, shown, definitions={m: metric_definition(config.circuit, m) for m in shown}))
        else:
            echo(f"{metric} at checkpoints" + (f", mean +- standard error over {R} replicas:" if R > 1 else ":"))
            echo(format_table(curves, metric, unit))
        echo(f"results written to {out}/ (config.toml, <learner>/metrics.csv, "
             f"<learner>/weights.npz, summary.png)")


def check_complete(out, echo_warning=_warn) -> bool:
    """Warn (``UserWarning``; the CLI prints ``neurocl: warning: ...``) if ``out`` holds a partial run;
    ``True`` if complete."""
    out = Path(out)
    done = read_done(out)
    if done is None:
        echo_warning(f"{out}: no {DONE_MARKER} marker: the run did not finish (killed, failed or still "
                     f"running) or was written by an older neurocl; showing what is there")
        return False
    if not is_complete(out):
        raise ConfigError(f"{out / DONE_MARKER}: does not match {out / 'config.toml'} (config_hash differs): "
                          f"config.toml was changed after the run; run it again")
    return True


def report(out_dir, echo=print):
    """Re-plot and summarise a saved results directory (``neurocl report DIR``).

    Learners are the ones ``config.toml`` names (aligned by ``time_ms``); the saved
    ``profile.toml`` and absolute data paths are used, so it works from any directory.
    """
    out = Path(out_dir)
    config = read_results_config(out)
    metric = main_metric(config.circuit)
    shown = table_metrics(config.circuit)
    curves, params, tables = {}, {}, {}
    for spec in config.learners:
        d = out / spec.label
        if not (d / "metrics.csv").is_file():
            raise ConfigError(f"{d / 'metrics.csv'}: missing (learner '{spec.label}' did not finish; "
                              f"`neurocl run --resume` completes the run)")
        times, metrics = read_metrics_csv(d / "metrics.csv")
        if metric not in metrics:
            raise ConfigError(f"{d / 'metrics.csv'}: no column '{metric}' (has {', '.join(metrics)})")
        curves[spec.label] = (times, metrics[metric])
        tables[spec.label] = (times, {m: metrics[m] for m in shown if m in metrics})
        params[spec.label] = load_weights(d / "weights.npz", config.circuit, all_replicas=True)
    check_complete(out)
    try:
        reference = make_task(config.circuit, config.data).reference
    except ConfigError as exc:
        _warn(f"no reference line: cannot load the run's data ({exc})")
        reference = None
    summarise(config, out, curves, params, echo, reference, tables)
