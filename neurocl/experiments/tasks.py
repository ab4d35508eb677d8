"""Turn a config's data section into the :class:`~neurocl.engines.base.Task` a circuit learns."""

from __future__ import annotations

import numpy as np

from neurocl.circuits import RBM, BoltzmannMachine, LayeredHopfield
from neurocl.data import bars_and_stripes, load_digits_split, one_hot, read_idx
from neurocl.engines.base import Task
from neurocl.errors import ConfigError
from neurocl.measure import all_states, boltzmann_distribution, rbm_kl, rbm_nll

__all__ = ["make_task", "load_dataset"]


def load_dataset(spec):
    """``(x_train, y_train, x_test, y_test)``; labels are ``None`` for unlabelled data."""
    if spec.name == "bars_and_stripes":
        x = bars_and_stripes(spec.size)
        return x, None, x, None
    if spec.name == "digits":
        return load_digits_split(spec.test_fraction, spec.split_seed)
    x = read_idx(spec.images).astype(float)
    x = x.reshape(len(x), -1) / (255.0 if x.max() > 1 else 1.0)
    y = read_idx(spec.labels).astype(int) if spec.labels else None
    if y is not None and len(y) != len(x):
        raise ConfigError(f"data.labels has {len(y)} entries but data.images has {len(x)}")
    if spec.test_images:
        xt = read_idx(spec.test_images).astype(float)
        xt = xt.reshape(len(xt), -1) / (255.0 if xt.max() > 1 else 1.0)
        yt = read_idx(spec.test_labels).astype(int) if spec.test_labels else None
    else:
        xt, yt = x, y
    return x, y, xt, yt


def _check_dim(name, expected, got):
    if expected != got:
        raise ConfigError(f"circuit.{name} = {expected} does not match the data dimension {got}")


def _binary(x):
    return (x > 0.5).astype(float)


def _bm_visible_kl(W, a, nv, data):
    p = boltzmann_distribution(W, a).reshape(2**nv, -1).sum(1)
    patterns, counts = np.unique(data, axis=0, return_counts=True)
    q = counts / counts.sum()
    idx = (patterns > 0.5).astype(int) @ (2 ** np.arange(nv - 1, -1, -1))
    return float(np.sum(q * (np.log(q) - np.log(p[idx]))))


def make_task(circuit, spec) -> Task:
    """Data and checkpoint metrics for ``circuit`` on the dataset ``spec``.

    Metrics, per replica: RBM: ``kl_nats`` (exact KL(data || model)) and ``nll_nats`` (exact
    mean negative log-likelihood); Boltzmann machine: ``kl_nats`` of the visible marginal;
    layered Hopfield: ``test_accuracy_pct`` and ``train_accuracy_pct`` (first 500 training
    images), read out after ``eval_time`` ms of free relaxation.
    """
    x, y, xt, yt = load_dataset(spec)
    if isinstance(circuit, RBM):
        data = _binary(x)
        _check_dim("n_visible", circuit.n_visible, data.shape[1])

        def evaluate(p):
            R = p["W"].shape[0]
            return {
                "kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], data) for r in range(R)],
                "nll_nats": [rbm_nll(p["W"][r], p["a"][r], p["c"][r], data) for r in range(R)],
            }

        return Task(clamp=data, evaluate=evaluate, presentation=spec.presentation)
    if isinstance(circuit, BoltzmannMachine):
        data = _binary(x)
        _check_dim("n_visible", circuit.n_visible, data.shape[1])
        all_states(circuit.n_units)  # raises if too large to evaluate exactly

        def evaluate(p):
            R = p["W"].shape[0]
            return {"kl_nats": [_bm_visible_kl(p["W"][r], p["a"][r], circuit.n_visible, data) for r in range(R)]}

        return Task(clamp=data, evaluate=evaluate, presentation=spec.presentation)
    if isinstance(circuit, LayeredHopfield):
        if y is None:
            raise ConfigError("a layered Hopfield circuit needs labelled data (data.labels)")
        _check_dim("sizes[0]", circuit.sizes[0], x.shape[1])
        n_classes = circuit.sizes[-1]
        if max(y.max(), yt.max()) >= n_classes:
            raise ConfigError(f"labels go up to {max(y.max(), yt.max())} but circuit.sizes[-1] = {n_classes}")
        dt_eval = min(0.5, circuit.tau_n / 2)
        xs, ys = x[:500], y[:500]

        def accuracy(p, r, xx, yy):
            return 100.0 * float(np.mean(circuit.predict(p, xx, dt_eval, r).argmax(1) == yy))

        def evaluate(p):
            R = next(iter(p.values())).shape[0]
            return {
                "test_accuracy_pct": [accuracy(p, r, xt, yt) for r in range(R)],
                "train_accuracy_pct": [accuracy(p, r, xs, ys) for r in range(R)],
            }

        return Task(clamp=one_hot(y, n_classes), inputs=x, evaluate=evaluate, presentation=spec.presentation)
    raise ConfigError(f"no task for circuit kind {circuit.kind!r}")
