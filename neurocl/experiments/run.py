"""config -> engine.run per learner -> results directory -> table and figure.

Results format (read by other tools; documented in the README)::

    DIR/config.toml            resolved config (every default filled in)
    DIR/profile.toml           the resolved hardware profile the weights ran on
    DIR/<learner>/metrics.csv  time_ms, replica, one column per metric (unit in the name)
    DIR/<learner>/weights.npz  final parameters of replica 0 (RBM: W visible x hidden, a, c)
                               and of all replicas under the same names with suffix ``_all``
    DIR/summary.png            metric against simulated time (mean +- s.e.) and model samples
    DIR/<learner>/raster.png   (Brian2 engine) unit raster with phase shading at the start and
                               end of learning, and the learned weights

Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from neurocl.atomic import savez_atomic, write_text_atomic
from neurocl.config import parse_config
from neurocl.engines import get_engine
from neurocl.errors import ConfigError
from neurocl.experiments.tasks import make_task
from neurocl.plotting import PANELS, mean_se, new_figure, plot_curves, raster_figure, save
from neurocl.schema import as_table
from neurocl.tomlio import dumps

__all__ = ["run", "report", "summarise", "main_metric", "format_table", "write_metrics_csv", "read_metrics_csv"]


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
    """Inverse of :func:`write_metrics_csv`: ``(times_ms, {metric: array[checkpoint, replica]})``."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    times = np.array(sorted({float(r["time_ms"]) for r in rows}))
    R = max(int(r["replica"]) for r in rows) + 1
    names = [k for k in rows[0] if k not in ("time_ms", "replica")]
    out = {n: np.full((len(times), R), np.nan) for n in names}
    index = {t: i for i, t in enumerate(times)}
    for r in rows:
        for n in names:
            out[n][index[float(r["time_ms"])], int(r["replica"])] = float(r[n])
    return times, out


def format_table(curves: dict, metric: str, unit: str) -> str:
    """Text table: one row per checkpoint, ``mean +- s.e.`` over replicas per learner."""
    labels = list(curves)
    t = next(iter(curves.values()))[0]
    head = f"{'time (ms)':>12} " + " ".join(f"{lab + ' ' + unit:>22}" for lab in labels)
    lines = [head, "-" * len(head)]
    for i, ti in enumerate(t):
        cells = []
        for lab in labels:
            values = curves[lab][1][i]
            m, se = mean_se(values)
            cells.append(f"{m:>13.3f} +- {se:<5.3f}" if np.size(values) > 1 else f"{m:>13.3f}")
        lines.append(f"{ti:>12.0f} " + " ".join(f"{c:>22}" for c in cells))
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
        panel(ax, circuit, params_by_label[label], label, rng)
    save(fig, path)


def run(config, out_dir, progress: bool = True, echo=print) -> dict:
    """Run every learner of ``config`` at equal simulated time and write the results directory.

    Returns ``{learner label: Trajectory}``.  All learners share the seed, hence the initial
    weights.  ``echo`` receives the printed summary (``None`` for silence).
    """
    out = Path(out_dir)
    engine = get_engine(config.engine, **config.engine_options)
    profile = config.hardware()
    for spec in config.learners:   # every learner is checked before anything is simulated
        engine.check(config.circuit, spec.rule, spec.phases, profile)
    task = make_task(config.circuit, config.data)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "config.toml", dumps(config.to_table()))
    write_text_atomic(out / "profile.toml", dumps(as_table(profile)))
    metric = main_metric(config.circuit)
    trajs, curves = {}, {}
    for spec in config.learners:
        traj = engine.run(config.circuit, spec.rule, spec.phases, task, config.simulation,
                          progress=progress, desc=spec.label, profile=profile)
        trajs[spec.label] = traj
        curves[spec.label] = (traj.times, traj.metrics[metric])
        d = out / spec.label
        write_metrics_csv(d / "metrics.csv", traj)
        arrays = {k: v[0] for k, v in traj.params.items()}
        arrays.update({f"{k}_all": v for k, v in traj.params.items()})
        savez_atomic(d / "weights.npz", **arrays)
        if traj.info.get("raster"):
            raster_figure(traj.info["raster"], traj.params, spec.label, d / "raster.png")
    summarise(config, out, curves, {k: t.params for k, t in trajs.items()}, echo, task.reference)
    return trajs


def summarise(config, out, curves: dict, params_by_label: dict, echo=print, reference=None) -> None:
    """Write ``out/summary.png`` and echo the checkpoint table of the main metric.

    ``curves``: ``{learner: (times_ms, values[checkpoint, replica])}``; ``params_by_label``:
    ``{learner: params with a replica axis}``; ``reference``: ``(value, label)`` of the
    main metric's baseline line (``Task.reference``).
    """
    out = Path(out)
    metric = main_metric(config.circuit)
    _summary_figure(config, curves, params_by_label, metric, out / "summary.png", reference)
    if echo is not None:
        unit = "(nats)" if metric.endswith("nats") else "(%)"
        R = len(next(iter(curves.values()))[1][0])
        echo(f"{metric} at checkpoints" + (f", mean +- standard error over {R} replicas:" if R > 1 else ":"))
        echo(format_table(curves, metric, unit))
        echo(f"results written to {out}/ (config.toml, <learner>/metrics.csv, "
             f"<learner>/weights.npz, summary.png)")


def report(out_dir, echo=print):
    """Re-plot and summarise a saved results directory (``neurocl report DIR``)."""
    import tomllib

    out = Path(out_dir)
    try:
        config = parse_config(tomllib.loads((out / "config.toml").read_text()), str(out / "config.toml"))
    except FileNotFoundError:
        raise ConfigError(f"{out}: not a results directory (no config.toml)") from None
    metric = main_metric(config.circuit)
    curves, params = {}, {}
    for spec in config.learners:
        d = out / spec.label
        if not (d / "metrics.csv").is_file():
            raise ConfigError(f"{d}: missing metrics.csv (run unfinished?)")
        times, metrics = read_metrics_csv(d / "metrics.csv")
        curves[spec.label] = (times, metrics[metric])
        w = np.load(d / "weights.npz")
        params[spec.label] = {k[: -len("_all")]: w[k] for k in w.files if k.endswith("_all")}
    summarise(config, out, curves, params, echo, make_task(config.circuit, config.data).reference)
