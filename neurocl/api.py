"""Python API for simulation scripts: load a spec, change it, run it on a profile, read results.

The command line's ``neurocl run`` as functions with typed results::

    import neurocl

    spec = neurocl.load_spec("bas3", overrides={"simulation.duration": 200_000.0,
                                                 "simulation.replicas": 2})
    result = neurocl.run(spec, profile="rram_hfo2")        # a shipped profile, or a TOML file
    isd = result["isd"]
    print(isd.times_ms[-1], isd.final("kl_nats"))           # ms; KL(data || model) per replica, nats
    result.save("results/bas3-rram")                        # the `neurocl run` results directory
    again = neurocl.load_result("results/bas3-rram")

A spec is a validated :class:`~neurocl.config.RunConfig` (frozen); :func:`load_spec` takes
a shipped name (``neurocl circuits`` lists them) or a TOML file and applies dotted-key
overrides, validated exactly as a TOML file would be.  :func:`run` runs every learner of the
spec at equal simulated time (the method of Williams, Bredenberg & Lajoie, *Flexible Phase
Dynamics for Bio-Plausible Contrastive Learning*, ICML 2023, for ISD learners) and returns a
:class:`RunResult` holding, per learner, the checkpoint times, the metric values per
checkpoint and replica and the final parameters, all as numpy arrays.  Results are written
by :func:`neurocl.experiments.run.run` (the format ``neurocl report`` and ``neurocl deploy``
read) and read back by :func:`load_result`.  All times are in ms.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from neurocl.config import RunConfig, load_config, parse_config
from neurocl.errors import ConfigError
from neurocl.hardware.profile import HardwareProfile, load_profile

__all__ = ["load_spec", "run", "load_result", "save_profile", "LearnerResult", "RunResult"]


def _set_dotted(table: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    if not all(keys):
        raise ConfigError(f"override key {dotted!r}: empty part (write e.g. 'simulation.duration')")
    node = table
    for i, k in enumerate(keys[:-1]):
        child = node.get(k)
        if isinstance(child, str) and k == "engine" and i == 0:   # engine = "numpy" -> [engine] name = ...
            child = node[k] = {"name": child}
        if not isinstance(child, dict):
            where = ".".join(keys[: i + 1])
            raise ConfigError(f"override key {dotted!r}: the spec has no table {where!r}")
        node = child
    node[keys[-1]] = value


def load_spec(spec: str | os.PathLike | RunConfig, overrides: Mapping[str, object] | None = None,
              learners: Sequence[str] | None = None) -> RunConfig:
    """A validated run spec from a shipped name or a TOML file, with fields overridden.

    Parameters
    ----------
    spec : str, os.PathLike or RunConfig
        A shipped spec name (``"bas3"``; ``neurocl circuits`` lists them), a TOML file, or
        an already loaded spec (copied, with ``overrides`` applied).  An existing file wins
        over a shipped name.
    overrides : mapping of str to object, optional
        Dotted keys into the spec's TOML tables and their new values, e.g.
        ``{"simulation.duration": 2e5, "learners.isd.learning_rate": 1e-4,
        "learners.isd.phases.b": 0.3, "profile": "pcm"}``.  The changed spec is validated
        as a file would be: a bad key or value raises :class:`~neurocl.errors.ConfigError`
        naming the field and its allowed range.
    learners : sequence of str, optional
        Keep only these learners (labels of ``[learners.<label>]``), in this order.

    Returns
    -------
    RunConfig
        The validated, frozen spec (``to_table()`` shows every resolved field).

    Raises
    ------
    neurocl.errors.ConfigError
        Unknown name or missing file, malformed TOML, an override key the spec does not have,
        a value out of range, or an unknown learner label.

    Examples
    --------
    >>> spec = load_spec("bas3", {"simulation.duration": 2000.0, "simulation.replicas": 1})
    >>> spec.simulation.duration
    2000.0
    """
    config = spec if isinstance(spec, RunConfig) else load_config(spec)
    source = f"{config.name} (overridden)"
    raw = copy.deepcopy(config.to_table())
    changed = False
    for key, value in (overrides or {}).items():
        if not isinstance(key, str):
            raise ConfigError(f"override keys must be dotted strings such as 'simulation.duration', got {key!r}")
        _set_dotted(raw, key, value)
        changed = True
    if learners is not None:
        labels = [learners] if isinstance(learners, str) else list(learners)
        unknown = [lab for lab in labels if lab not in raw["learners"]]
        if unknown or not labels:
            raise ConfigError(f"learners: {unknown[0] if unknown else 'none'!r} is not a learner of {config.name} "
                              f"(it has {', '.join(raw['learners'])})")
        raw["learners"] = {lab: raw["learners"][lab] for lab in labels}
        changed = True
    return parse_config(raw, source) if changed else config


def save_profile(profile: HardwareProfile, path: str | os.PathLike) -> Path:
    """Write a :class:`~neurocl.hardware.HardwareProfile` built in Python to a TOML file.

    A run names its profile by a shipped name or a file (the results directory records
    it), so a profile made in a script is saved first and then passed by path.

    Parameters
    ----------
    profile : HardwareProfile
        The profile, e.g. ``HardwareProfile(w_min=-1, w_max=1, dw_min=0.01)``.
    path : str or os.PathLike
        The TOML file to write (replaced atomically if it exists).

    Returns
    -------
    pathlib.Path
        ``path``, to pass as ``profile=``.
    """
    from neurocl.atomic import write_text_atomic
    from neurocl.schema import as_table
    from neurocl.tomlio import dumps

    if not isinstance(profile, HardwareProfile):
        raise ConfigError(f"profile must be a HardwareProfile, got {type(profile).__name__}")
    path = Path(path)
    write_text_atomic(path, dumps(as_table(profile)))
    return path


@dataclasses.dataclass(frozen=True)
class LearnerResult:
    """What one learner of a run produced (every replica).

    Attributes
    ----------
    label : str
        The learner's label (``[learners.<label>]``).
    times_ms : numpy.ndarray
        Checkpoint times, shape ``(C,)``, in ms of simulated time (``0`` is the initial state).
    metrics : dict of str to numpy.ndarray
        Metric values, each of shape ``(C, R)`` (checkpoint, replica); the name states the
        unit (``kl_nats``: KL(data || model) in nats, ``*_pct``: percent, others
        dimensionless).
    params : dict of str to numpy.ndarray
        Final parameters of every replica, each with a leading replica axis ``R`` (RBM:
        ``W`` of shape ``(R, n_visible, n_hidden)``, biases ``a`` and ``c``).
    info : dict
        Engine extras of an in-memory run (e.g. Brian2's raster); empty when loaded from disk.
    """

    label: str
    times_ms: np.ndarray
    metrics: dict
    params: dict
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def replicas(self) -> int:
        """Number of replicas ``R``."""
        return int(next(iter(self.metrics.values())).shape[1])

    def _metric(self, metric: str) -> np.ndarray:
        if metric not in self.metrics:
            raise KeyError(f"learner {self.label!r} has no metric {metric!r} (it has {', '.join(self.metrics)})")
        return self.metrics[metric]

    def final(self, metric: str) -> np.ndarray:
        """The metric at the last checkpoint, one value per replica, shape ``(R,)``."""
        return self._metric(metric)[-1]

    def mean(self, metric: str) -> np.ndarray:
        """The metric's mean over replicas at each checkpoint, shape ``(C,)``."""
        return self._metric(metric).mean(axis=1)

    def sem(self, metric: str) -> np.ndarray:
        """Standard error of the mean over replicas (``std(ddof=1) / sqrt(R)``; 0 for one replica), shape ``(C,)``."""
        values = self._metric(metric)
        R = values.shape[1]
        return values.std(axis=1, ddof=1) / np.sqrt(R) if R > 1 else np.zeros(values.shape[0])


@dataclasses.dataclass(frozen=True)
class RunResult:
    """The learners of one run, its spec and profile, and where its results directory is.

    Index by learner label (``result["isd"]``) for a :class:`LearnerResult`.

    Attributes
    ----------
    config : RunConfig
        The resolved spec that ran.
    profile : HardwareProfile
        The hardware profile the weights ran on.
    learners : dict of str to LearnerResult
        Per learner, in the spec's order.
    out : pathlib.Path
        The results directory (format of :func:`neurocl.experiments.run.run`); a temporary
        one, deleted with this object, for a :func:`run` without ``out`` (use :meth:`save`).
    """

    config: RunConfig
    profile: HardwareProfile
    learners: dict
    out: Path
    _tmp: object = dataclasses.field(default=None, repr=False, compare=False)

    def __getitem__(self, label: str) -> LearnerResult:
        if label not in self.learners:
            raise KeyError(f"no learner {label!r} (this run has {', '.join(self.learners)})")
        return self.learners[label]

    def __iter__(self):
        return iter(self.learners)

    def __len__(self) -> int:
        return len(self.learners)

    @property
    def main_metric(self) -> str:
        """The metric the circuit reports first (``kl_nats`` for an RBM, ``test_acc_pct`` for digits)."""
        return self.config.circuit.main_metric

    def metrics_table(self) -> np.ndarray:
        """All learners' metrics as one numpy structured array (a tidy table, no pandas).

        Returns
        -------
        numpy.ndarray
            One row per learner, checkpoint and replica, with fields ``learner`` (str),
            ``time_ms`` (float), ``replica`` (int) and one float field per metric (the union
            over learners; NaN where a learner lacks it).
        """
        names = list(dict.fromkeys(m for lr in self.learners.values() for m in lr.metrics))
        width = max(1, max(len(lab) for lab in self.learners))
        dtype = [("learner", f"<U{width}"), ("time_ms", float), ("replica", int)] + [(m, float) for m in names]
        rows = []
        for lab, lr in self.learners.items():
            C, R = len(lr.times_ms), lr.replicas
            block = np.zeros(C * R, dtype=dtype)
            block["learner"] = lab
            block["time_ms"] = np.repeat(lr.times_ms, R)
            block["replica"] = np.tile(np.arange(R), C)
            for m in names:
                block[m] = lr.metrics[m].reshape(-1) if m in lr.metrics else np.nan
            rows.append(block)
        return np.concatenate(rows)

    def summary(self) -> str:
        """The checkpoint table ``neurocl run`` prints: main metric, mean +- s.e. over replicas."""
        from neurocl.experiments.run import format_table, metric_unit

        metric = self.main_metric
        curves = {lab: (lr.times_ms, lr.metrics[metric]) for lab, lr in self.learners.items()}
        return format_table(curves, metric, metric_unit(metric))

    def save(self, out: str | os.PathLike) -> Path:
        """Copy the results directory to ``out`` (which must be missing or empty).

        Parameters
        ----------
        out : str or os.PathLike
            Target directory; ``neurocl report``, ``neurocl deploy`` and :func:`load_result`
            read it.

        Returns
        -------
        pathlib.Path
            ``out``.
        """
        out = Path(out)
        if out.resolve() == self.out.resolve():
            return out
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(f"{out}: exists and is not an empty directory; choose another directory")
        if out.is_dir():
            out.rmdir()
        shutil.copytree(self.out, out)
        return out


def _learner(label: str, times, metrics, params, info=None) -> LearnerResult:
    return LearnerResult(label, np.asarray(times, dtype=float), {k: np.asarray(v) for k, v in metrics.items()},
                         {k: np.asarray(v) for k, v in params.items()}, dict(info or {}))


def run(spec: str | os.PathLike | RunConfig, *, profile: str | os.PathLike | None = None,
        engine: str | None = None, out: str | os.PathLike | None = None, overwrite: bool = False,
        resume: bool = False, progress: bool = False, echo=None) -> RunResult:
    """Run every learner of a spec and return its results as numpy arrays.

    Parameters
    ----------
    spec : str, os.PathLike or RunConfig
        A shipped name, a TOML file or a spec from :func:`load_spec`.
    profile : str or os.PathLike, optional
        Hardware profile: a shipped name (``"ideal"``, ``"rram_hfo2"``, ...;
        :func:`neurocl.hardware.shipped_profiles`) or a TOML file (:func:`save_profile`
        writes one); default: the spec's ``profile``.
    engine : str, optional
        Engine name (``"numpy"``, ``"brian2"``, ``"lava"``) with its default options;
        default: the spec's.
    out : str or os.PathLike, optional
        Results directory to write (missing, empty, or holding the same run); default: a
        temporary directory that lives as long as the result (:meth:`RunResult.save` keeps it).
    overwrite, resume : bool
        As ``neurocl run --overwrite`` / ``--resume`` (only with ``out``).
    progress : bool
        Show a progress bar (simulated ms) per learner.
    echo : callable, optional
        Receives the printed summary lines (``print`` shows them); default: silent.

    Returns
    -------
    RunResult
        Per learner the checkpoint times (ms), the metrics ``(checkpoint, replica)`` and the
        final parameters ``(replica, ...)``, in float64 as the engine returned them.

    Raises
    ------
    neurocl.errors.ConfigError
        Bad spec, profile or results directory.
    neurocl.errors.UnsupportedFeatureError
        The engine cannot run the circuit, rule, phases or profile (before anything runs).
    neurocl.errors.DivergenceError
        A learner's parameters left the circuit's sane range.
    """
    from neurocl.experiments.run import run as run_to_dir

    config = load_spec(spec).replace(profile=None if profile is None else str(profile), engine=engine)
    tmp = None
    if out is None:
        if overwrite or resume:
            raise ConfigError("overwrite and resume need an out directory")
        tmp = tempfile.TemporaryDirectory(prefix=f"neurocl-{config.name}-")
        out = Path(tmp.name) / config.name
    out = Path(out)
    trajs = run_to_dir(config, out, progress=progress, echo=echo, overwrite=overwrite, resume=resume)
    learners = {lab: _learner(lab, t.times, t.metrics, t.params, t.info) for lab, t in trajs.items()}
    return RunResult(config, config.hardware(), learners, out, tmp)


def load_result(out: str | os.PathLike) -> RunResult:
    """Read a results directory written by ``neurocl run`` or :func:`run`.

    Parameters
    ----------
    out : str or os.PathLike
        The directory.

    Returns
    -------
    RunResult
        Its spec (``config.toml``), profile (``profile.toml``) and per learner the metrics
        (``metrics.csv``: 6 significant digits) and final parameters of every replica
        (``weights.npz``).

    Raises
    ------
    neurocl.errors.ConfigError
        Not a results directory, a learner's files missing or malformed (names the file).

    Notes
    -----
    A directory without its ``DONE`` marker (a killed run) is read with a ``UserWarning``.
    """
    from neurocl.experiments.run import check_complete, load_weights, read_metrics_csv, read_results_config

    out = Path(out)
    config = read_results_config(out)
    learners = {}
    for spec in config.learners:
        d = out / spec.label
        times, metrics = read_metrics_csv(d / "metrics.csv")
        params = load_weights(d / "weights.npz", config.circuit, all_replicas=True)
        learners[spec.label] = _learner(spec.label, times, metrics, params)
    check_complete(out)
    return RunResult(config, load_profile(config.profile), learners, out)
