"""A layered Hopfield network as a Lava network: an :class:`ImageSource`, one
:class:`HardSigmoidUnits` process per layer and graded ``Dense`` connections both ways.

Each test image gets a read-out window of ``eval_time / dt + 2`` steps: rest, ``eval_time /
dt`` Euler steps of every layer from the previous step's neighbour states (the same Jacobi
update as :meth:`neurocl.circuits.LayeredHopfield.predict`), then the output layer stores its
total input as the class scores.  In ``fixed_pt`` each weight matrix is an 8-bit mantissa with a
shared power-of-two scale (``2^ceil(log2 max|W|)``) and a ``Dense`` ``weight_exp`` that brings
its output to the units' ``2^-8`` state resolution.
"""

from __future__ import annotations

import numpy as np

from neurocl.engines.lava.fixed_point import WEIGHT_LEVELS, weight_to_int

__all__ = ["build_hopfield", "matrix_scale"]

STATE_BITS = 8


def matrix_scale(W) -> float:
    """Shared power-of-two scale of one weight matrix: ``2^ceil(log2 max|W|)``."""
    m = float(np.max(np.abs(W)))
    return 2.0 ** np.ceil(np.log2(m)) if m > 0 else 1.0


def _dense(W_post_pre, tag, name):
    from lava.proc.dense.process import Dense

    if tag != "fixed_pt":
        return Dense(weights=np.asarray(W_post_pre, float), num_message_bits=24, name=name)
    scale = matrix_scale(W_post_pre)
    w_int = weight_to_int(W_post_pre, scale)
    # w_int * s_int is in units of scale / 256 * 2^-8; the units want 2^-8
    exp = int(round(np.log2(scale / WEIGHT_LEVELS)))
    return Dense(weights=w_int, num_message_bits=24, weight_exp=exp, num_weight_bits=8, name=name)


def build_hopfield(params: dict, sizes, images, *, k: float, eval_steps: int, tag: str):
    """Processes reading out ``images`` (``(N, sizes[0])``) with the network ``params``
    (``W{i}``, ``b{i}`` of one replica).  Returns ``(source, layers, window)``; the class scores
    are ``layers[-1].scores`` after ``len(images) * window`` steps."""
    import neurocl.engines.lava.processes as P

    window = eval_steps + 2
    src = P.ImageSource(images=images, window=window, name="images")
    layers = [P.HardSigmoidUnits(n=n, bias=np.asarray(params[f"b{i}"], float).reshape(-1), k=k, window=window,
                                 n_windows=len(images), name=f"layer{i}")
              for i, n in enumerate(sizes) if i > 0]
    senders = [src] + layers
    for i in range(len(sizes) - 1):
        W = np.asarray(params[f"W{i}"], float).reshape(sizes[i], sizes[i + 1])
        up = _dense(W.T, tag, f"W{i}_up")
        senders[i].s_out.connect(up.s_in)
        up.a_out.connect(layers[i].a_in)
        if i > 0:   # feedback to the layer below (the input layer is clamped)
            down = _dense(W, tag, f"W{i}_down")
            layers[i].s_out.connect(down.s_in)
            down.a_out.connect(layers[i - 1].a_in)
    return src, layers, window
