"""One consistent figure style: labelled axes with units, legends, mean +- standard error."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neurocl.atomic import write_bytes_atomic, write_text_atomic
from neurocl.measure.exact import all_states, rbm_visible_log_probs
from neurocl.schema import Registry

__all__ = ["new_figure", "plot_curves", "image_grid", "save", "save_with_numbers", "saved_or_computed", "shade_phases",
           "raster_figure", "PANELS"]

METRIC_LABELS = {
    "kl_nats": "KL(data || model) (nats)",
    "nll_nats": "negative log-likelihood (nats)",
    "test_accuracy_pct": "test accuracy (%)",
    "train_accuracy_pct": "train accuracy (%)",
}

COLORS = {"isd": "#1f77b4", "twophase": "#d62728", "cdk": "#2ca02c", "pcd": "#9467bd"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 110})
    return plt


def new_figure(ncols: int, width: float = 4.2, height: float = 3.4):
    """A row of ``ncols`` axes in the package style."""
    plt = _plt()
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def mean_se(values: np.ndarray):
    """Mean and standard error over the last axis (replicas); se is 0 for one replica."""
    values = np.asarray(values, dtype=float)
    n = values.shape[-1]
    se = values.std(-1, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(values.shape[:-1])
    return values.mean(-1), se


def plot_curves(ax, curves: dict, metric: str, reference: float | None = None, ref_label: str = ""):
    """Mean +- s.e. band of ``metric`` against simulated time for each learner.

    ``curves`` maps a learner label to ``(times_ms, values[checkpoint, replica])``.
    """
    for i, (label, (t, v)) in enumerate(curves.items()):
        m, se = mean_se(v)
        color = COLORS.get(label, f"C{i}")
        n = np.asarray(v).shape[-1]
        ax.plot(t / 1000.0, m, color=color, label=f"{label} (mean of {n})")
        ax.fill_between(t / 1000.0, m - se, m + se, color=color, alpha=0.25, lw=0)
    if reference is not None:
        ax.axhline(reference, color="0.4", ls="--", lw=1, label=ref_label)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.legend(frameon=True, framealpha=0.9, loc="best")


def image_grid(ax, images: np.ndarray, shape: tuple, ncols: int, title: str, cmap="gray_r",
               symmetric: bool = False):
    """Tile flattened ``images`` of ``shape`` into one picture with a one-pixel gap
    (``symmetric``: colour scale centred on 0, for weights)."""
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    h, w = shape
    lo, hi = float(np.min(images)), float(np.max(images))
    if symmetric:
        hi = max(abs(lo), abs(hi))
        lo = -hi
    canvas = np.full((nrows * (h + 1) + 1, ncols * (w + 1) + 1), 0.0 if symmetric else lo + 0.3 * (hi - lo))
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = img.reshape(shape)
    ax.imshow(canvas, cmap=cmap, interpolation="nearest", vmin=lo, vmax=hi)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def shade_phases(ax, t_ms: np.ndarray, z: np.ndarray, color="#f4c542", label="positive (clamped) phase"):
    """Shade the time spans where ``z`` (the phase sign per recorded step) is positive."""
    z = np.asarray(z) > 0.5
    if not len(t_ms):
        return
    dt = float(t_ms[1] - t_ms[0]) if len(t_ms) > 1 else 1.0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], z.astype(int), [0]])))
    for k, (lo, hi) in enumerate(zip(edges[::2], edges[1::2])):
        ax.axvspan(t_ms[lo], t_ms[hi - 1] + dt, color=color, alpha=0.35, lw=0, label=label if k == 0 else None)


def raster_figure(raster: dict, params: dict, label: str, path) -> None:
    """Unit raster of replica 0 (``"start"`` and ``"end"`` windows of learning) with positive
    phases shaded, and the learned weights ``W`` (visible x hidden) of replica 0.

    ``raster[window]`` holds ``t_ms``, the phase sign ``z`` and one ``(units, steps)`` array per
    layer: unit states (Glauber) or spikes (spiking units).
    """
    windows = [w for w in ("start", "end") if w in raster]
    fig, axes = new_figure(len(windows) + 1, width=4.6, height=3.6)
    for ax, window in zip(axes, windows):
        rec = raster[window]
        t0 = float(rec["t_ms"][0])
        t = rec["t_ms"] - t0
        shade_phases(ax, t, rec["z"])
        offset = 0
        layers = [k for k in rec if k not in ("t_ms", "z")]
        for i, layer in enumerate(layers):
            events = np.asarray(rec[layer]) > 0.5
            units, steps = np.nonzero(events)
            ax.scatter(t[steps], units + offset, s=3, marker="|", color=f"C{i}", label=f"layer {layer}")
            offset += events.shape[0] + 1
        ax.set_xlabel(f"time since t = {t0 / 1000:g} s (ms)")
        ax.set_ylabel("unit (visible below, hidden above)")
        ax.set_title(f"{label}: {window} of learning (replica 0)")
        ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
        ax.grid(False)
    W = np.asarray(params["W"])[0]
    ax = axes[-1]
    lim = float(np.abs(W).max()) or 1.0
    im = ax.imshow(W, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xlabel("hidden unit")
    ax.set_ylabel("visible unit")
    ax.set_title(f"{label}: learned weights W (replica 0)")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="weight (dimensionless, energy units)")
    save(fig, path)


def save(fig, path) -> None:
    """Save as PNG atomically and close."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    _plt().close(fig)
    write_bytes_atomic(path, buf.getvalue())


def numbers_path(figure_path) -> Path:
    """Where a gallery figure's numbers live: the figure's path with ``.json``."""
    return Path(figure_path).with_suffix(".json")


def save_with_numbers(fig, path, numbers: dict, echo: Callable[[str], object] | None = print) -> Path:
    """Save a gallery figure and its numbers.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, saved at ``path`` (:func:`save`; atomic write).
    path : str or os.PathLike
        The PNG's path; the numbers go beside it (:func:`numbers_path`, atomic write).
    numbers : dict
        JSON-serialisable numbers the figure shows.
    echo : callable or None, optional
        Receives the line ``wrote <png> and <json>`` (the gallery scripts' output, which their
        smoke tests look for); ``None``: silent.

    Returns
    -------
    pathlib.Path
        The JSON's path.
    """
    save(fig, path)
    out = numbers_path(path)
    write_text_atomic(out, json.dumps(numbers, indent=1) + "\n")
    if echo is not None:
        echo(f"wrote {path} and {out}")
    return out


def saved_or_computed(path, replot: bool, compute: Callable[[], dict]) -> dict:
    """A gallery figure's numbers: read back from the JSON beside ``path`` with ``replot``
    (redraw without simulating), otherwise ``compute()``-d and saved there first."""
    out = numbers_path(path)
    if replot:
        return json.loads(out.read_text())
    numbers = compute()
    write_text_atomic(out, json.dumps(numbers, indent=1) + "\n")
    return numbers


#: summary panels by name (a circuit's ``summary_panel``): ``panel(ax, circuit, params, label, rng)``
#: draws one learner's panel of ``summary.png`` (``params`` with a replica axis).
PANELS = Registry("summary panel")


@PANELS.register("model_samples")
def model_samples_panel(ax, circuit, params, label, rng) -> None:
    """24 exact samples of replica 0's visible marginal (square visible layers only)."""
    side = int(round(np.sqrt(circuit.n_visible)))
    if side * side != circuit.n_visible:
        ax.set_axis_off()
        return
    W, a, c = params["W"][0], params["a"][0], params["c"][0]
    states = all_states(W.shape[0])
    logp = rbm_visible_log_probs(W, a, c, states)
    p = np.exp(logp - logp.max())
    samples = states[rng.choice(len(states), size=24, p=p / p.sum())]
    image_grid(ax, samples, (side, side), 6, f"{label}: exact samples of replica 0")


@PANELS.register("input_weights")
def input_weights_panel(ax, circuit, params, label, rng) -> None:
    """Input weights of 24 hidden units of replica 0 (square input layers only)."""
    side = int(round(np.sqrt(circuit.sizes[0])))
    if side * side != circuit.sizes[0]:
        ax.set_axis_off()
        return
    image_grid(ax, params["W0"][0].T[:24], (side, side), 6, f"{label}: input weights of 24 hidden units",
               cmap="RdBu_r", symmetric=True)
