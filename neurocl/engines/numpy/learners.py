"""Continuous-time rules applied step by step by the numpy engine's reference path.

:data:`LEARNERS` maps a rule name (``neurocl.plasticity.RULES``) to its step-by-step
implementation; a rule without one here is not run by the reference path (the engine's
runner registry says so before anything is simulated).
"""

from __future__ import annotations

import numpy as np

from neurocl.plasticity import ISD, TwoPhase, isd_weight, learning_rate_at
from neurocl.schema import Registry

__all__ = ["LEARNERS", "make_learner", "ISDLearner", "TwoPhaseLearner"]

#: rule name -> learner class ``(rule, b, params)`` with ``step(params, stat, positive, start, t, dt)``
LEARNERS = Registry("rule (numpy reference path)")


def _expand(w: np.ndarray, ndim: int) -> np.ndarray:
    return w.reshape(w.shape + (1,) * (ndim - 1))


@LEARNERS.register("isd")
class ISDLearner:
    """``theta += eta * dt * w(phase) * f(state)`` at every step (Williams et al. 2023)."""

    def __init__(self, rule: ISD, b: float, params):
        self.rule, self.b = rule, b

    def step(self, params, stat, positive, phase_start, t, dt):
        w = isd_weight(positive, self.b) * (self.rule.learning_rate * dt)
        for k, f in stat.items():
            params[k] += _expand(w, f.ndim) * f


@LEARNERS.register("twophase")
class TwoPhaseLearner:
    """Average the statistic over positive and negative phases; at the first step of a
    positive phase that follows a negative one, apply
    ``theta += eta(t) * (T+ + T-) * (mean_+ f - mean_- f)`` and clear the stores."""

    def __init__(self, rule: TwoPhase, b: float, params):
        self.rule = rule
        R = next(iter(params.values())).shape[0]
        self.pos = {k: np.zeros_like(v) for k, v in params.items()}
        self.neg = {k: np.zeros_like(v) for k, v in params.items()}
        self.t_pos = np.zeros(R)
        self.t_neg = np.zeros(R)
        self.updates = 0

    def step(self, params, stat, positive, phase_start, t, dt):
        ready = positive & phase_start & (self.t_pos > 0) & (self.t_neg > 0)
        if ready.any():
            eta = learning_rate_at(self.rule.learning_rate, t, self.rule.decay_time)
            total = np.where(ready, self.t_pos + self.t_neg, 0.0)
            tp = np.where(ready, self.t_pos, 1.0)
            tn = np.where(ready, self.t_neg, 1.0)
            for k in params:
                nd = params[k].ndim
                delta = self.pos[k] / _expand(tp, nd) - self.neg[k] / _expand(tn, nd)
                params[k] += _expand(eta * total, nd) * delta
                self.pos[k][ready] = 0.0
                self.neg[k][ready] = 0.0
            self.t_pos[ready] = 0.0
            self.t_neg[ready] = 0.0
            self.updates += int(ready.sum())
        wp = positive * dt
        wn = (~positive) * dt
        for k, f in stat.items():
            self.pos[k] += _expand(wp, f.ndim) * f
            self.neg[k] += _expand(wn, f.ndim) * f
        self.t_pos += wp
        self.t_neg += wn


def make_learner(rule, b: float, params):
    """The step-by-step implementation of ``rule`` (registered in :data:`LEARNERS`)."""
    return LEARNERS[rule.name](rule, b, params)
