"""Lava Processes of neurocl circuits (the model definition; behaviour is in
:mod:`neurocl.engines.lava.models`, as Lava separates ``Process`` from ``ProcessModel``).

Lava's process library has no stochastic binary (Gibbs) unit, no hard-sigmoid rate unit and no
stochastic phase process, so neurocl defines them here:

* :class:`GibbsUnits` -- stochastic binary units, ``P(s = 1) = sigmoid(u + bias)``, one layer of
  an RBM (``block`` 0 updates on even time steps, 1 on odd ones: block Gibbs sampling through
  Lava's one-step ``Dense`` delay).  Optionally clamped by a :class:`PhaseProcess`, optionally
  learning their biases (ISD, Williams et al. 2023) and, as post-synaptic *learning neurons*,
  sending the third factor (the phase) to a learning connection (``LearningSparse``) on ``y2``/``y3``.
* :class:`PhaseProcess` -- the stochastic phase process (positive with probability ``b``, phase
  lengths from a :mod:`neurocl.phases` law) that clamps the data layer and sets the phase.
* :class:`HardSigmoidUnits` and :class:`ImageSource` -- the layered Hopfield network's rate
  units (Euler relaxation of ``tau ds/dt = -dE/ds`` with projection on ``[0, 1]``, Scellier &
  Bengio 2017, Eq. 1) and the image input that holds each test image for a read-out window.
"""

from __future__ import annotations

import neurocl.engines.lava.compat as compat

compat.install()

import numpy as np  # noqa: E402
from lava.magma.core.process.ports.ports import InPort, OutPort  # noqa: E402
from lava.magma.core.process.process import AbstractProcess  # noqa: E402
from lava.magma.core.process.variable import Var  # noqa: E402

__all__ = ["GibbsUnits", "PhaseProcess", "HardSigmoidUnits", "ImageSource"]


class GibbsUnits(AbstractProcess):
    """A layer of stochastic binary units (``R`` replicas of ``n`` units, flattened).

    Parameters
    ----------
    n, replicas : int
        Units per replica and replicas.
    bias : (R * n,) array
        Biases in network units (the fixed-point model stores them in field units).
    block : {0, 1}
        Update parity: block 0 resamples on even time steps, block 1 on odd ones.
    clamped : bool
        Reads ``clamp_in``: a non-negative message clamps the unit to it (positive phase).
    learning : dict or None
        ``{"eta_dt": float, "b": float, "y1": int, "y2": int, "y3": int}``: learn the biases
        (ISD) and, with ``y1 > 0``, act as the post-synaptic learning neuron of a
        learning connection (ports ``s_out_bap``, ``s_out_y1..3``, ``phase_in``).
    record : int
        Unit states of ``record`` updates are kept in ``history`` (0: none).
    histogram : bool
        Count the visited configurations of each replica in ``counts`` (``n <= 16``).
    start : int
        Updates before recording and counting start (burn-in).
    seed : int
        Seed of this layer's random number generator.
    """

    def __init__(self, *, n: int, replicas: int, bias, block: int, clamped: bool = False,
                 learning: dict | None = None, record: int = 0, histogram: bool = False, start: int = 0,
                 seed: int = 0, name: str | None = None):
        shape = (replicas * n,)
        super().__init__(shape=shape, n=n, replicas=replicas, block=block, clamped=clamped,
                         learning=learning, record=record, histogram=histogram, start=start, seed=seed,
                         name=name)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.s = Var(shape=shape, init=0)
        self.bias = Var(shape=shape, init=np.asarray(bias, float))
        self.history = Var(shape=(max(record, 1), replicas * n), init=0)
        self.counts = Var(shape=(replicas * 2 ** (n if histogram else 0),), init=0)
        # every port exists (a ProcessModel declares them all); unused ones stay unconnected
        self.clamp_in = InPort(shape=shape)
        self.phase_in = InPort(shape=shape)
        self.s_out_bap = OutPort(shape=shape)
        self.s_out_y1 = OutPort(shape=shape)
        self.s_out_y2 = OutPort(shape=shape)
        self.s_out_y3 = OutPort(shape=shape)


class PhaseProcess(AbstractProcess):
    """The stochastic phase process of ``R`` replicas (Williams et al. 2023, Sec. 3).

    Each replica's phase is positive with probability ``b``; phase lengths (ms) are drawn from
    ``law`` (a :mod:`neurocl.phases` law) and rounded to time steps of ``step_ms``.  A
    positive phase that starts at least ``presentation`` ms after the last fresh pattern draws
    a fresh data pattern.  Sends to the data layer (``clamp_out``: the pattern value, or -1 in
    negative phases) and to the learning layers (``phase_out_v``, ``phase_out_h``: 1 positive, 0 negative).
    """

    def __init__(self, *, replicas: int, patterns, b: float, law, step_ms: float,
                 presentation: float = 0.0, n_hidden: int = 1, seed: int = 0, record: int = 0,
                 name: str | None = None):
        patterns = np.asarray(patterns, np.int32)
        n_vis = patterns.shape[1]
        super().__init__(replicas=replicas, patterns=patterns, b=b, law=law, step_ms=step_ms,
                         presentation=presentation, n_hidden=n_hidden, seed=seed,
                         record=record, name=name)
        self.clamp_out = OutPort(shape=(replicas * n_vis,))
        self.phase_out_v = OutPort(shape=(replicas * n_vis,))
        self.phase_out_h = OutPort(shape=(replicas * n_hidden,))
        self.z = Var(shape=(replicas,), init=0)
        self.history = Var(shape=(max(record, 1), replicas), init=0)


class HardSigmoidUnits(AbstractProcess):
    """A layer of the layered Hopfield network: ``s <- clip(s + k (drive - s), 0, 1)`` inside
    the box, ``drive = a_in + bias`` (Scellier & Bengio 2017, Eq. 1; ``k = dt / tau_n``).

    Time is cut into read-out windows of ``window`` steps (one test image each): the state
    rests at 0 on the window's first step, relaxes for ``window - 2`` steps, and on the last
    step the layer stores its ``drive`` in ``scores`` (the class scores of an output layer).
    ``s_out`` sends ``rho(s) = s`` (graded).
    """

    def __init__(self, *, n: int, bias, k: float, window: int, n_windows: int, name: str | None = None):
        shape = (n,)
        super().__init__(shape=shape, k=k, window=window, n_windows=n_windows, name=name)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.s = Var(shape=shape, init=0)
        self.bias = Var(shape=shape, init=np.asarray(bias, float))
        self.scores = Var(shape=(n_windows, n), init=0)


class ImageSource(AbstractProcess):
    """Sends image ``i`` (graded, values in ``[0, 1]``) during read-out window ``i``."""

    def __init__(self, *, images, window: int, name: str | None = None):
        images = np.asarray(images, float)
        super().__init__(images=images, window=window, name=name)
        self.s_out = OutPort(shape=(images.shape[1],))
