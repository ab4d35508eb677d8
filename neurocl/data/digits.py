"""scikit-learn's 8x8 handwritten digits (shipped with scikit-learn, no download)."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits_split", "one_hot"]


def load_digits_split(test_fraction: float = 0.2, seed: int = 0):
    """Digits scaled to [0, 1] with a stratified held-out split.

    Returns ``(x_train, y_train, x_test, y_test)``; ``y`` are integer labels 0-9.  The split
    is ``sklearn.model_selection.train_test_split(..., test_size=test_fraction,
    stratify=labels, random_state=seed)`` (1437 train / 360 test at the default 0.2).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, digits.target, test_size=test_fraction, stratify=digits.target, random_state=seed
    )
    return x_tr, y_tr.astype(int), x_te, y_te.astype(int)


def one_hot(labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """``(N, n_classes)`` one-hot float array."""
    out = np.zeros((len(labels), n_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out
