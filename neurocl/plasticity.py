"""Plasticity rules (descriptions; the engines implement them).

* :class:`ISD` - importance-sampled, always-on plasticity of Williams, Bredenberg & Lajoie
  (ICML 2023, "Mechanism 1"): at every integration step
  ``dtheta = eta * dt * w(phase) * f(state)`` with ``w = +1/b`` in positive and
  ``-1/(1-b)`` in negative phases, constant ``eta``; nothing is stored across phases.
* :class:`TwoPhase` - the classic, temporally non-local contrastive rule: it averages the
  positive-phase statistic, *stores* it through the following negative phase and updates
  ``dtheta = eta * (T+ + T-) * (mean_+ f - mean_- f)`` at the end of that negative phase.
* :class:`CDk` and :class:`PCD` - discrete-time references (Hinton 2002; Tieleman 2008).

The pure functions :func:`isd_estimate` and :func:`isd_trace_variance` are the estimator
and its variance as closed forms (the variance follows from ``z ~ Bernoulli(b)``:
``E g = mu+ - mu-`` and ``E|g|^2 = M+/b + M-/(1-b)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.schema import Registry
from neurocl.validate import check_fields, positive, positive_int

__all__ = [
    "ISD",
    "TwoPhase",
    "CDk",
    "PCD",
    "OnlineSGD",
    "RULES",
    "isd_weight",
    "isd_estimate",
    "isd_trace_variance",
    "optimal_b",
    "learning_rate_at",
]


def isd_weight(positive_phase, b: float):
    """Importance weight of the current phase: ``+1/b`` if positive else ``-1/(1-b)``.

    Williams et al. 2023, Eq. for the single-phase estimator
    ``g = (z/b) f+ - ((1-z)/(1-b)) f-`` with ``z ~ Bernoulli(b)``.
    """
    positive_phase = np.asarray(positive_phase, dtype=bool)
    return np.where(positive_phase, 1.0 / b, -1.0 / (1.0 - b))


def isd_estimate(z, f_pos, f_neg, b: float) -> np.ndarray:
    """Single-phase importance-sampled estimate ``(z/b) f+ - ((1-z)/(1-b)) f-``.

    Arrays broadcast; ``z`` is 1 for a positive phase, 0 for a negative one.  Its mean over
    ``z ~ Bernoulli(b)`` is ``E f+ - E f-``, the contrastive-learning gradient.
    """
    z = np.asarray(z, dtype=float)
    return (z / b) * f_pos - ((1.0 - z) / (1.0 - b)) * f_neg


def isd_trace_variance(m_pos: float, m_neg: float, mean_diff_sq: float, b) -> np.ndarray:
    """``tr Var(g) = M+/b + M-/(1-b) - |mu+ - mu-|^2``: ``E|g|^2 = M+/b + M-/(1-b)`` for ``z ~ Bernoulli(b)``,
    minus ``|E g|^2``.

    ``M+ = E|f+|^2`` and ``M- = E|f-|^2`` are second moments of the phase statistics,
    ``mean_diff_sq = |mu+ - mu-|^2``.
    """
    b = np.asarray(b, dtype=float)
    return m_pos / b + m_neg / (1.0 - b) - mean_diff_sq


def optimal_b(m_pos: float, m_neg: float) -> float:
    """Variance-optimal proportion of positive phases ``b* = sqrt(M+)/(sqrt(M+)+sqrt(M-))``.

    Minimiser of :func:`isd_trace_variance` over ``b`` in (0, 1) (Williams et al. 2023,
    "Mechanism 3": the trace variance is convex in ``b``).
    """
    rp, rn = np.sqrt(m_pos), np.sqrt(m_neg)
    return float(rp / (rp + rn))


def learning_rate_at(eta: float, t, decay_time: float | None):
    """``eta / (1 + t / decay_time)`` (Robbins-Monro decay), or ``eta`` when ``decay_time`` is None."""
    if decay_time is None:
        return eta
    return eta / (1.0 + np.asarray(t, dtype=float) / decay_time)


#: rules by the ``rule`` key of a ``[learners.X]`` table.  Every rule declares ``name`` and
#: ``time``: ``"continuous"`` (runs with a phase process on the time axis) or ``"discrete"``
#: (one update per ``dt``, no phases).
RULES = Registry("rule", key_attr="name")


@RULES.register
@dataclass(frozen=True)
class ISD:
    """Always-on importance-sampled plasticity.

    Parameters
    ----------
    learning_rate : float
        Constant ``eta`` in ms^-1: ``dtheta/dt = eta * w(phase) * f(state)``.
    mean_field : bool
        Use ``E[h | v]`` for hidden units in the statistic (see ``RBM.statistic``).
    """

    learning_rate: float
    mean_field: bool = True

    name = "isd"
    time = "continuous"
    always_on = True

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "learning_rate", positive("learning_rate", self.learning_rate))


@RULES.register
@dataclass(frozen=True)
class TwoPhase:
    """Classic two-phase contrastive learning that stores the positive statistics.

    Parameters
    ----------
    learning_rate : float
        ``eta`` in ms^-1; each update is ``eta(t) * (T+ + T-) * (mean_+ f - mean_- f)`` so that
        the expected drift per ms equals :class:`ISD`'s.
    decay_time : float or None
        If set, ``eta(t) = eta / (1 + t / decay_time)`` (ms).
    """

    learning_rate: float
    decay_time: float | None = None
    mean_field: bool = True

    name = "twophase"
    time = "continuous"
    always_on = False

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "learning_rate", positive("learning_rate", self.learning_rate))
        if self.decay_time is not None:
            object.__setattr__(self, "decay_time", positive("decay_time", self.decay_time))


@RULES.register
@dataclass(frozen=True)
class OnlineSGD:
    """Online stochastic gradient descent on the full loss, one fresh sample per step
    (discrete time, no phases): the reference of view-based circuits (Meng & Wang,
    arXiv:2406.06909), with per-step rate ``learning_rate`` (``tau``; the limit time is ``t = steps / N``)."""

    learning_rate: float

    name = "sgd"
    time = "discrete"

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "learning_rate", positive("learning_rate", self.learning_rate))


@RULES.register
@dataclass(frozen=True)
class CDk:
    """Contrastive divergence with ``k`` block-Gibbs sweeps from the data (Hinton 2002).

    Discrete time: each update uses a minibatch of ``batch_size`` data vectors and is
    ``theta += learning_rate * (mean_data f - mean_k f)``.
    """

    learning_rate: float
    k: int = 1
    batch_size: int = 10

    name = "cdk"
    time = "discrete"
    persistent = False

    def __post_init__(self):
        check_fields(self)
        object.__setattr__(self, "learning_rate", positive("learning_rate", self.learning_rate))
        object.__setattr__(self, "k", positive_int("k", self.k))
        object.__setattr__(self, "batch_size", positive_int("batch_size", self.batch_size))


@RULES.register
@dataclass(frozen=True)
class PCD(CDk):
    """Persistent contrastive divergence (Tieleman 2008): the negative chains carry over."""

    name = "pcd"
    persistent = True
