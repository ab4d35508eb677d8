"""Views of a sample for view-based contrastive learning: noise, pixel dropout, small shifts.

A view is ``x' = shift(mask * x + noise)``, applied per sample with an explicit generator:

- **additive noise** ``noise ~ N(0, noise^2)`` per pixel (in the data's units);
- **pixel dropout**: each pixel set to 0 with probability ``dropout`` (``mask ~ Bernoulli(1 -
  dropout)``; no rescaling, as in masking augmentations);
- **small shifts**: a translation by an integer ``delta`` drawn uniformly from
  ``-max_shift..max_shift``, along each spatial axis of the sample's ``shape`` (``(8, 8)`` for
  digits: rows and columns; ``(40,)`` for MNIST-1D: time), with zero fill (not wrap-around).

Defaults per dataset (:data:`VIEW_DEFAULTS`) are chosen so that the views keep the class
(a one-pixel shift of an 8x8 digit; up to 12 of the 40 samples of an MNIST-1D signal, whose
generator itself translates the templates by up to about 25 samples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.errors import ConfigError

__all__ = ["ViewSpec", "make_views", "shift", "VIEW_DEFAULTS"]


@dataclass(frozen=True)
class ViewSpec:
    """Augmentation parameters: ``noise`` (std, data units, >= 0), ``dropout`` (probability in
    [0, 1)), ``max_shift`` (pixels, >= 0), ``shape`` (spatial shape of one sample)."""

    shape: tuple
    noise: float = 0.1
    dropout: float = 0.1
    max_shift: int = 1

    def __post_init__(self):
        if self.noise < 0:
            raise ConfigError(f"views noise = {self.noise} must be >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"views dropout = {self.dropout} must be in [0, 1)")
        if self.max_shift < 0 or int(self.max_shift) != self.max_shift:
            raise ConfigError(f"views max_shift = {self.max_shift} must be an integer >= 0")
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))


VIEW_DEFAULTS = {
    "digits": dict(shape=(8, 8), noise=0.1, dropout=0.1, max_shift=1),
    "mnist1d": dict(shape=(40,), noise=0.3, dropout=0.05, max_shift=12),
}


def shift(x: np.ndarray, shape: tuple, deltas: np.ndarray) -> np.ndarray:
    """Translate each sample of ``x`` ``(m, prod(shape))`` by integer ``deltas`` ``(m, len(shape))``
    along its spatial axes, filling with zeros."""
    m = x.shape[0]
    img = x.reshape((m,) + tuple(shape))
    out = np.zeros_like(img)
    for i in range(m):
        src = [slice(None)]
        dst = [slice(None)]
        for ax, size in enumerate(shape):
            d = int(deltas[i, ax])
            if d >= 0:
                src.append(slice(0, size - d))
                dst.append(slice(d, size))
            else:
                src.append(slice(-d, size))
                dst.append(slice(0, size + d))
        out[i][tuple(dst[1:])] = img[i][tuple(src[1:])]
    return out.reshape(m, -1)


def make_views(x: np.ndarray, spec: ViewSpec, rng: np.random.Generator) -> np.ndarray:
    """One random view of every row of ``x`` (``(m, prod(spec.shape))``), as documented above."""
    x = np.asarray(x, dtype=float)
    if x.shape[1] != int(np.prod(spec.shape)):
        raise ConfigError(f"views shape = {spec.shape} does not match samples of {x.shape[1]} values")
    v = x.copy()
    if spec.dropout > 0:
        v *= rng.random(v.shape) >= spec.dropout
    if spec.noise > 0:
        v += spec.noise * rng.standard_normal(v.shape)
    if spec.max_shift > 0:
        deltas = rng.integers(-spec.max_shift, spec.max_shift + 1, size=(x.shape[0], len(spec.shape)))
        v = shift(v, spec.shape, deltas)
    return v
