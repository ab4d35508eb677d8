"""Downstream accuracy of frozen features: a linear probe and a 1-nearest-neighbour classifier.

Both are the evaluation of paper 002 (LP and 1-NN test accuracy on frozen encoder outputs).

- :func:`linear_probe_accuracy`: multinomial logistic regression (scikit-learn,
  L-BFGS, L2 penalty ``C``) on the training features, standardised with the training mean and
  standard deviation; returns the fraction of test samples classified correctly.
- :func:`knn1_accuracy`: each test sample takes the label of its nearest training sample,
  by cosine similarity (``metric="cosine"``, the geometry of the normalised contrastive
  embedding) or Euclidean distance.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["linear_probe_accuracy", "knn1_accuracy"]


def linear_probe_accuracy(f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray,
                          C: float = 1.0, max_iter: int = 1000) -> float:
    """Test accuracy (fraction in [0, 1]) of logistic regression on standardised frozen features."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    f_train = np.asarray(f_train, dtype=float)
    f_test = np.asarray(f_test, dtype=float)
    mu = f_train.mean(axis=0)
    sd = f_train.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    clf = LogisticRegression(C=C, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit((f_train - mu) / sd, y_train)
    return float(np.mean(clf.predict((f_test - mu) / sd) == np.asarray(y_test)))


def knn1_accuracy(f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray,
                  metric: str = "cosine") -> float:
    """Test accuracy (fraction in [0, 1]) of the 1-nearest-neighbour classifier."""
    a = np.asarray(f_train, dtype=float)
    b = np.asarray(f_test, dtype=float)
    if metric == "cosine":
        a = a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-12)
        b = b / (np.linalg.norm(b, axis=1, keepdims=True) + 1e-12)
        nearest = np.argmax(b @ a.T, axis=1)
    elif metric == "euclidean":
        d2 = (b**2).sum(1)[:, None] - 2 * b @ a.T + (a**2).sum(1)[None, :]
        nearest = np.argmin(d2, axis=1)
    else:
        raise ValueError(f"metric = {metric!r} is not one of ['cosine', 'euclidean']")
    return float(np.mean(np.asarray(y_train)[nearest] == np.asarray(y_test)))
