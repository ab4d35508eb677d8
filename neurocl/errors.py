"""Exceptions raised by neurocl.

Every user-facing error derives from :class:`NeuroclError` and, where it makes
sense, from the matching builtin too (as nengo does), so ``except ValueError``
keeps working for callers who do not know about neurocl.  Validation never uses
``assert`` (it disappears under ``python -O``).
"""

from __future__ import annotations

__all__ = ["NeuroclError", "ConfigError", "DivergenceError", "UnsupportedFeatureError"]


class NeuroclError(Exception):
    """Base class of every error neurocl raises on purpose."""


class ConfigError(NeuroclError, ValueError):
    """A configuration value is missing, unknown, malformed or out of range.

    The message names the field (``section.key``) and the allowed range.
    """


class DivergenceError(NeuroclError, FloatingPointError):
    """A simulation diverged: it produced NaN or inf, or its parameters left the range where
    the circuit still computes something meaningful (each circuit defines that range in its
    docstring and checks it at every checkpoint through ``Task.check``).

    Attributes
    ----------
    what : str
        What diverged (``"weights"``, ``"the parameters"``, ...).
    time : float
        Simulated time (ms) of the first integration step whose result was not finite, or of
        the first checkpoint at which the parameters were out of range.
    step : int
        Index of that integration step.
    reason : str
        What happened to it (``"became NaN/inf"``, or what left which range).
    """

    def __init__(self, what: str, time: float, step: int, reason: str = "became NaN/inf"):
        self.what = what
        self.time = float(time)
        self.step = int(step)
        self.reason = str(reason)
        super().__init__(
            f"simulation diverged: {what} {reason} at simulated time t = {time:g} ms "
            f"(integration step {step}); lower the learning rate or the integration step dt"
        )

    def __reduce__(self):  # picklable across processes (sweeps)
        return (type(self), (self.what, self.time, self.step, self.reason))


class UnsupportedFeatureError(NeuroclError, NotImplementedError):
    """An engine was asked to run a feature it does not implement."""

    def __init__(self, engine: str, feature: str):
        self.engine = engine
        self.feature = feature
        super().__init__(f"engine '{engine}' does not support {feature}")

    def __reduce__(self):
        return (type(self), (self.engine, self.feature))
