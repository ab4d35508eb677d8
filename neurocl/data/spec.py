"""Which dataset a run uses (:class:`DataSpec`, the ``[data]`` table) and the arrays it loads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.data.bars_and_stripes import bars_and_stripes
from neurocl.data.digits import load_digits_split
from neurocl.data.idx import read_idx
from neurocl.errors import ConfigError
from neurocl.validate import check_fields, non_negative, non_negative_int, one_of, positive, positive_int

__all__ = ["DataSpec", "Dataset", "load_dataset"]


@dataclass(frozen=True)
class DataSpec:
    """Which dataset a run uses.

    ``name``: ``"bars_and_stripes"`` (needs ``size``), ``"digits"`` (scikit-learn's 8x8
    digits, ``test_fraction``, ``split_seed``) or ``"idx"`` (user's MNIST-format files:
    ``images`` and, for supervised circuits, ``labels``; ``test_images``/``test_labels``
    optional; refused with a one-line :class:`ConfigError` naming the file: unreadable or
    truncated files, no items, NaN/inf, pixels outside [0, 1] and [0, 255], non-integer or
    negative labels).  ``presentation`` (ms, >= 0): how long a sample stays clamped before the
    next positive phase may draw a fresh one (0: a fresh sample at every positive phase).
    """

    name: str
    size: int | None = None
    presentation: float = 0.0
    test_fraction: float = 0.2
    split_seed: int = 0
    images: str | None = None
    labels: str | None = None
    test_images: str | None = None
    test_labels: str | None = None

    def __post_init__(self):
        check_fields(self)
        one_of("name", self.name, {"bars_and_stripes", "digits", "idx"})
        object.__setattr__(self, "presentation", non_negative("presentation", self.presentation))
        if self.name == "bars_and_stripes":
            if self.size is None:
                raise ConfigError("name = 'bars_and_stripes' needs size (an integer >= 2)")
            size = positive_int("size", self.size)
            if size < 2:
                raise ConfigError(f"size = {size} must be >= 2")
        if not 0.0 < positive("test_fraction", self.test_fraction) < 1.0:
            raise ConfigError(f"test_fraction = {self.test_fraction:g} is outside (0, 1)")
        object.__setattr__(self, "split_seed", non_negative_int("split_seed", self.split_seed))
        if self.name == "idx" and not self.images:
            raise ConfigError("name = 'idx' needs images (path to an IDX file)")
        if self.test_labels and not self.test_images:
            raise ConfigError("test_labels needs test_images")
        if self.labels and self.test_images and not self.test_labels:
            raise ConfigError("test_images needs test_labels when labels is given")


@dataclass(frozen=True)
class Dataset:
    """Loaded arrays: rows are samples; labels are ``None`` for unlabelled data.

    ``presentation`` (ms) is carried from the :class:`DataSpec` for the task.
    """

    x: np.ndarray
    y: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    presentation: float = 0.0


def _read_images(path) -> np.ndarray:
    """Images of an IDX file as ``(N, pixels)`` floats in [0, 1]: values in [0, 1] are kept,
    values in [0, 255] (with some above 1) are divided by 255; anything else is refused."""
    x = read_idx(path).astype(float)
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 255.0:
        raise ConfigError(f"{path}: pixel values span [{lo:g}, {hi:g}]; expected values in [0, 1] or [0, 255]")
    return x.reshape(len(x), -1) / (255.0 if hi > 1 else 1.0)


def _read_labels(path) -> np.ndarray:
    """Labels of an IDX file: one non-negative integer per item."""
    y = read_idx(path)
    if y.ndim != 1:
        raise ConfigError(f"{path}: labels have shape {y.shape}; expected one label per item (1 dimension)")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ConfigError(f"{path}: labels hold non-integer values; expected class indices 0, 1, 2, ...")
    if y.min() < 0:
        raise ConfigError(f"{path}: labels hold negative values ({y.min():g}); expected class indices 0, 1, 2, ...")
    return y.astype(int)


def load_dataset(spec: DataSpec) -> Dataset:
    """The arrays ``spec`` names (generated or shipped in a package: nothing is downloaded)."""
    if spec.name == "bars_and_stripes":
        x = bars_and_stripes(spec.size)
        return Dataset(x, None, x, None, spec.presentation)
    if spec.name == "digits":
        return Dataset(*load_digits_split(spec.test_fraction, spec.split_seed), spec.presentation)
    x = _read_images(spec.images)
    y = _read_labels(spec.labels) if spec.labels else None
    if y is not None and len(y) != len(x):
        raise ConfigError(f"data.labels has {len(y)} entries but data.images has {len(x)}")
    if spec.test_images:
        xt = _read_images(spec.test_images)
        yt = _read_labels(spec.test_labels) if spec.test_labels else None
        if yt is not None and len(yt) != len(xt):
            raise ConfigError(f"data.test_labels has {len(yt)} entries but data.test_images has {len(xt)}")
    else:
        xt, yt = x, y
    return Dataset(x, y, xt, yt, spec.presentation)
