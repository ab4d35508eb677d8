"""A config's data section -> the :class:`~neurocl.simulation.Task` a circuit learns.

The dataset is loaded by :func:`neurocl.data.load_dataset`; what a circuit clamps and which
metrics it records are the circuit's own (``circuit.task(dataset)``).  Before anything is
generated or loaded, :func:`check_task_cost` estimates the data's size and the cost of the
circuit's exact metrics and refuses (one-line :class:`~neurocl.errors.ConfigError` naming the
field and the estimate) what would take too long or too much memory.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

from neurocl.data.spec import DataSpec, load_dataset
from neurocl.errors import ConfigError, NeuroclError
from neurocl.resources import check_memory, format_bytes
from neurocl.simulation import Task

__all__ = ["make_task", "load_dataset", "load_data", "check_task_cost", "data_shape"]

#: Bars-and-Stripes sizes whose generator loops over more than 2^this row subsets are refused
MAX_BAS_BITS = 20

#: float copies of the data held while a dataset is loaded and binarised
DATA_COPIES = 4

#: copies of the weights a run holds (parameters, accumulators, kernel buffers, the saved arrays)
WEIGHT_COPIES = 6


def _idx_shape(path) -> tuple | None:
    """The shape in an IDX file's header (``None`` if it cannot be read: the loader reports it)."""
    if not path:
        return None
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] or head[1]:
                return None
            dims = fh.read(4 * head[3])
            if len(dims) < 4 * head[3]:
                return None
            return struct.unpack(f">{head[3]}I", dims)
    except (OSError, EOFError, ValueError):
        return None


def _weight_count(circuit) -> tuple:
    """``(weights, the fields that set their number)`` of an RBM or Boltzmann machine
    (``(0, "")`` for other circuits: not estimated)."""
    if circuit.kind == "rbm":
        nv, nh = circuit.n_visible, circuit.n_hidden
        return nv * nh + nv + nh, f"circuit.n_visible x circuit.n_hidden = {nv} x {nh}"
    n = getattr(circuit, "n_units", None)
    if circuit.kind == "boltzmann" and isinstance(n, int):
        return n * (n + 1), f"circuit.n_units^2 = {n}^2"
    return 0, ""


def data_shape(spec: DataSpec) -> tuple | None:
    """``(rows, columns)`` of the training data ``spec`` names, without loading it (``None``:
    not known before loading)."""
    if spec.name == "bars_and_stripes":
        return 2 ** (spec.size + 1) - 2, spec.size**2
    if spec.name == "idx":
        shape = _idx_shape(spec.images)
        if not shape:
            return None
        cols = 1
        for d in shape[1:]:
            cols *= d
        return shape[0], cols
    return None


def check_task_cost(circuit, spec: DataSpec, replicas: int = 1, checkpoints: int = 0) -> None:
    """Refuse, before anything is generated or loaded, data or exact metrics that are too
    costly: the Bars-and-Stripes generator (``2^size`` subsets), the loaded data (memory),
    a data dimension that does not match the circuit, and the circuit's exact metrics
    (``replicas`` x (``checkpoints`` + 1) evaluations; see
    :func:`neurocl.measure.exact.check_rbm_exact`)."""
    from neurocl.measure.exact import check_boltzmann_exact, check_rbm_exact

    if spec.name == "bars_and_stripes" and spec.size > MAX_BAS_BITS:
        rows = 2 ** (spec.size + 1) - 2
        raise ConfigError(f"data.size = {spec.size}: Bars-and-Stripes of this size has 2^{spec.size + 1} - 2 = "
                          f"{rows:.3g} patterns of {spec.size ** 2} pixels (about "
                          f"{format_bytes(8.0 * rows * spec.size ** 2)}); the limit is size <= {MAX_BAS_BITS}")
    shape = data_shape(spec)
    if shape is not None:
        rows, cols = shape
        if rows == 0:
            raise ConfigError(f"data.images = {spec.images}: the IDX file holds 0 samples")
        field = "data.size" if spec.name == "bars_and_stripes" else "data.images"
        check_memory(8.0 * DATA_COPIES * rows * cols, f"{field}: {rows} samples of {cols} values (the dataset)")
        n_data = getattr(circuit, "n_visible", None)
        if circuit.kind in ("rbm", "boltzmann") and isinstance(n_data, int) and n_data != cols:
            raise ConfigError(f"circuit.n_visible = {n_data} does not match the data dimension {cols}")
    n_weights, fields = _weight_count(circuit)
    if n_weights:
        check_memory(8.0 * WEIGHT_COPIES * max(1, replicas) * n_weights,
                     f"{fields} weights, simulation.replicas = {replicas}: holding the weights")
    evaluations = 2 * max(1, replicas) * (checkpoints + 1)
    n_patterns = shape[0] if shape is not None else 0
    if circuit.kind == "rbm":
        check_rbm_exact(circuit.n_visible, circuit.n_hidden, n_patterns, evaluations)
    elif circuit.kind == "boltzmann" and isinstance(getattr(circuit, "n_units", None), int):
        check_boltzmann_exact(circuit.n_units, evaluations)


def make_task(circuit, spec: DataSpec, sim=None) -> Task:
    """Data and checkpoint metrics for ``circuit`` on the dataset ``spec`` (``sim``: the
    :class:`~neurocl.simulation.Simulation` whose replicas and checkpoints the exact metrics
    will be evaluated at, for the cost check)."""
    replicas = sim.replicas if sim is not None else 1
    checkpoints = sim.checkpoints if sim is not None else 0
    check_task_cost(circuit, spec, replicas, checkpoints)
    return circuit.task(load_data(spec))


def load_data(spec: DataSpec):
    """:func:`load_dataset`, with a read failure (truncated ``.gz``, bad values) turned into a
    one-line :class:`ConfigError` naming the data files."""
    import zlib

    try:
        return load_dataset(spec)
    except NeuroclError:
        raise
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        files = ", ".join(f"data.{f} = {getattr(spec, f)}" for f in ("images", "labels", "test_images",
                                                                       "test_labels") if getattr(spec, f))
        raise ConfigError(f"cannot load the data ({files or 'data.name = ' + spec.name}): "
                          f"{type(exc).__name__}: {exc}") from None
