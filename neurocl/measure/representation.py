"""Opt-in metrics of a circuit's representation, recorded at every checkpoint by any circuit.

A circuit that supports them has a ``metrics`` field (``[circuit] metrics = ["alpha_req"]`` in
a spec; default none) and a method ``representation(params, r) -> (m, k)`` array: the
representation of its evaluation inputs by replica ``r`` (RBM: hidden means ``p(h = 1 | v)``
of the data; layered Hopfield network: the first hidden layer after the read-out relaxation, on
the test images; two-branch network: the ``K`` outputs of one branch on views of the sphere
model; sample-contrastive encoder: its frozen features on the test set).  Its ``task()`` passes
its metric function through :func:`with_representation_metrics`, which adds the columns of the
named metrics to every checkpoint; its ``table_metrics`` (the run table's columns) come from
:func:`table_columns`.

A metric is one registration in :data:`REPRESENTATION_METRICS`: a
:class:`RepresentationMetric` with its columns, their definitions and a function of the
features.  Registered:

``alpha_req``
    the power-law decay exponent of the eigenspectrum of the centred representation (thesis
    Part II, ``papers/003_*``; :func:`neurocl.measure.alpha_req.alpha_req`: weighted least
    squares of ``log lambda_k`` against ``log k``, weights ``1/k``, ranks 4-100, window halved
    while ``R^2 < 0.95``), columns ``alpha_req`` (dimensionless) and ``alpha_r2`` (the fit's
    weighted R^2, dimensionless).  With fewer than 3 positive eigenvalues (a representation
    of 1-2 effective dimensions) both are NaN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import numpy as np

from neurocl.errors import ConfigError
from neurocl.schema import Registry

__all__ = ["RepresentationMetric", "REPRESENTATION_METRICS", "check_metric_names", "table_columns",
           "column_definitions", "with_representation_metrics", "metrics_field", "RecordsRepresentationMetrics"]


@dataclass(frozen=True)
class RepresentationMetric:
    """``name``; ``columns``: the metric keys it adds; ``definitions``: column -> meaning and unit;
    ``fn``: features ``(m, k)`` -> ``{column: float}``."""

    name: str
    columns: tuple
    definitions: MappingProxyType
    fn: Callable


#: metric name -> :class:`RepresentationMetric` (``REPRESENTATION_METRICS.register(name, metric)``)
REPRESENTATION_METRICS = Registry("representation metric")


def _alpha_req(features: np.ndarray) -> dict:
    from neurocl.measure.alpha_req import alpha_req

    a = alpha_req(features)
    return {"alpha_req": a.alpha, "alpha_r2": a.r2}


REPRESENTATION_METRICS.register("alpha_req", RepresentationMetric(
    "alpha_req", ("alpha_req", "alpha_r2"),
    MappingProxyType({
        "alpha_req": "alpha-ReQ: power-law decay exponent of the representation's eigenspectrum, dimensionless",
        "alpha_r2": "weighted R^2 of the alpha-ReQ fit (log lambda_k vs log k), dimensionless"}),
    _alpha_req))

def metrics_field():
    """The ``metrics`` field of a circuit dataclass, ``metrics: tuple = metrics_field()``: empty
    by default; its metadata ``omit_if_default`` asks config writers to leave it out of a
    resolved config while it is empty (so that adding it changes no existing run's config)."""
    return dataclasses.field(default=(), metadata={"omit_if_default": True})


def check_metric_names(names) -> tuple:
    """The ``metrics`` field as a tuple of registered names (``ConfigError`` naming the field
    and the allowed names otherwise; duplicates dropped, order kept)."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(f"metrics = {names!r} must be a list of names from {sorted(REPRESENTATION_METRICS)}")
    out = []
    for n in names:
        if not isinstance(n, str) or n not in REPRESENTATION_METRICS:
            raise ConfigError(f"metrics: {n!r} is not one of {sorted(REPRESENTATION_METRICS)}")
        if n not in out:
            out.append(n)
    return tuple(out)


def table_columns(base: tuple, names) -> tuple:
    """``base`` columns followed by those of the metrics ``names`` not already in ``base``."""
    out = list(base)
    for n in names:
        out += [c for c in REPRESENTATION_METRICS[n].columns if c not in out]
    return tuple(out)


def column_definitions(base: dict, names) -> MappingProxyType:
    """``base`` definitions updated with those of the metrics ``names``."""
    out = dict(base)
    for n in names:
        out.update(REPRESENTATION_METRICS[n].definitions)
    return MappingProxyType(out)


class RecordsRepresentationMetrics:
    """Mixin of a circuit with one main metric and a ``metrics`` field: its run-table columns
    (the main metric, then the opt-in metrics' columns) and their definitions."""

    @property
    def table_metrics(self) -> tuple:
        """The run table's columns: the main metric, then the opt-in metrics' columns."""
        return table_columns((self.main_metric,), self.metrics)

    @property
    def metric_definitions(self) -> MappingProxyType:
        """Column -> meaning and unit, for the opt-in metrics' columns."""
        return column_definitions({}, self.metrics)


def with_representation_metrics(task, names, representation: Callable):
    """``task`` whose ``evaluate`` also returns the columns of the metrics ``names`` (per
    replica), computed on ``representation(params, r)``; ``task`` itself when ``names`` is empty."""
    names = tuple(names)
    if not names:
        return task
    inner = task.evaluate

    def evaluate(p):
        out = dict(inner(p))
        R = next(iter(p.values())).shape[0]
        cols = {c: np.full(R, np.nan) for n in names for c in REPRESENTATION_METRICS[n].columns}
        for r in range(R):
            feats = np.asarray(representation(p, r), dtype=float)
            for n in names:
                for c, v in REPRESENTATION_METRICS[n].fn(feats).items():
                    cols[c][r] = v
        for c, v in cols.items():
            out.setdefault(c, v)
        return out

    return dataclasses.replace(task, evaluate=evaluate)
