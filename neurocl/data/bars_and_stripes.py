"""Bars-and-Stripes (MacKay 2003): generated, no download."""

from __future__ import annotations

import itertools

import numpy as np

from neurocl.validate import positive_int

__all__ = ["bars_and_stripes"]


def bars_and_stripes(size: int) -> np.ndarray:
    """All distinct ``size x size`` Bars-and-Stripes patterns, flattened row-major.

    Every subset of rows switched on (stripes) and every subset of columns (bars); the
    all-off and all-on patterns arise both ways and are kept once, so there are
    ``2^(size+1) - 2`` patterns (14 for 3x3, 30 for 4x4).  Returns a ``(P, size*size)``
    float array of {0, 1}.
    """
    size = positive_int("size", size)
    patterns = set()
    for bits in itertools.product((0, 1), repeat=size):
        rows = np.repeat(np.array(bits)[:, None], size, axis=1)
        patterns.add(tuple(rows.ravel()))
        patterns.add(tuple(rows.T.ravel()))
    return np.array(sorted(patterns), dtype=float)
