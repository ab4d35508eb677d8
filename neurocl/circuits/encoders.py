"""Encoders for sample-contrastive learning, in numpy with exact (backprop) gradients.

Three families, all with a flat parameter vector so that the variance/bias theory (Lemma 2.1
of the ICLR 2023 paper, ``papers/003_*`` Part IV) can treat them as points ``w in R^N``:

- ``linear``: ``h = W x + c`` (``activation = "identity"``);
- ``single``: a nonlinear single layer ``h = sigma(W x + c)``, ``sigma`` tanh or ReLU (the
  branch of the two-branch issue, with a bias);
- ``mlp``: one hidden layer, ``h = W2 sigma(W1 x + c1) + c2``.

``forward(w, x)`` returns the outputs and a cache; ``backward(w, cache, dL/dh)`` returns
``dL/dw`` (flat).  The outputs are normalised by the objective, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.errors import ConfigError
from neurocl.schema import Registry

__all__ = ["Encoder", "ENCODER_KINDS", "ACTIVATIONS", "make_encoder"]

ENCODER_KINDS = ("linear", "single", "mlp")


def _tanh(a):
    """``tanh(a) = 2 / (1 + exp(-2a)) - 1`` and ``1 - tanh^2``, computed in place on ``a``.

    numpy's float64 ``tanh`` is a scalar libm loop on AVX2 machines (no SIMD kernel), about 4x
    slower than its vectorised ``exp``; this form uses ``exp`` and is within 4e-16 (absolute)
    of ``np.tanh`` (``exp`` overflows to ``inf`` for ``a < -354``, giving exactly -1).
    """
    y = np.multiply(a, -2.0, out=a)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1.0
    np.divide(2.0, y, out=y)
    y -= 1.0
    dy = np.multiply(y, y)
    np.subtract(1.0, dy, out=dy)
    return y, dy


def _relu(a):
    return np.maximum(a, 0.0), (a > 0).astype(float)


def _identity(a):
    return a, np.ones_like(a)


#: activation name -> function returning ``(sigma(a), sigma'(a))``; it may overwrite ``a`` (a fresh array)
ACTIVATIONS = Registry("activation")
ACTIVATIONS.register("tanh", _tanh)
ACTIVATIONS.register("relu", _relu)
ACTIVATIONS.register("identity", _identity)


@dataclass(frozen=True)
class Encoder:
    """Shapes of an encoder ``d_in -> d_out`` (``hidden`` units for ``mlp``).

    Parameters
    ----------
    kind : ``"linear"``, ``"single"`` or ``"mlp"``
    d_in, d_out : input and output dimensions
    hidden : hidden units of ``mlp`` (ignored otherwise)
    activation : ``"tanh"``, ``"relu"`` (``linear`` always uses the identity)
    """

    kind: str
    d_in: int
    d_out: int
    hidden: int = 0
    activation: str = "tanh"

    def __post_init__(self):
        if self.kind not in ENCODER_KINDS:
            raise ConfigError(f"encoder kind = {self.kind!r} is not one of {list(ENCODER_KINDS)}")
        if self.d_in < 1 or self.d_out < 1:
            raise ConfigError(f"encoder d_in = {self.d_in}, d_out = {self.d_out} must be >= 1")
        if self.kind == "mlp" and self.hidden < 1:
            raise ConfigError(f"encoder hidden = {self.hidden} must be >= 1 for kind 'mlp'")
        ACTIVATIONS[self.activation]  # raises ConfigError for an unknown name

    # --- layout of the flat parameter vector -------------------------------------------
    def _shapes(self):
        if self.kind == "mlp":
            return [("W1", (self.hidden, self.d_in)), ("c1", (self.hidden,)),
                    ("W2", (self.d_out, self.hidden)), ("c2", (self.d_out,))]
        return [("W", (self.d_out, self.d_in)), ("c", (self.d_out,))]

    @property
    def n_params(self) -> int:
        return self._layout()[-1][2]

    def _layout(self):
        layout = self.__dict__.get("_layout_cache")
        if layout is None:
            layout, i = [], 0
            for name, shape in self._shapes():
                k = int(np.prod(shape))
                layout.append((name, i, i + k, shape))
                i += k
            object.__setattr__(self, "_layout_cache", layout)
        return layout

    def unpack(self, w: np.ndarray) -> dict:
        """Views into the flat vector ``w`` by name."""
        return {name: w[a:b].reshape(shape) for name, a, b, shape in self._layout()}

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """LeCun-normal weights (variance ``1 / fan_in``), zero biases; flat float64 vector."""
        w = np.zeros(self.n_params)
        p = self.unpack(w)
        for name, arr in p.items():
            if name.startswith("W"):
                arr[...] = rng.standard_normal(arr.shape) / np.sqrt(arr.shape[1])
        return w

    # --- forward / backward -------------------------------------------------------------
    def forward(self, w: np.ndarray, x: np.ndarray):
        """``h = f_w(x)`` for ``x`` of shape ``(m, d_in)``; returns ``(h, cache)``."""
        p = self.unpack(w)
        x = np.asarray(x, dtype=float)
        if self.kind == "mlp":
            a = x @ p["W1"].T
            a += p["c1"]
            y, dy = ACTIVATIONS[self.activation](a)
            h = y @ p["W2"].T
            h += p["c2"]
            return h, (x, y, dy)
        act = "identity" if self.kind == "linear" else self.activation
        a = x @ p["W"].T
        a += p["c"]
        h, dh = ACTIVATIONS[act](a)
        return h, (x, dh)

    def backward(self, w: np.ndarray, cache, gh: np.ndarray) -> np.ndarray:
        """Exact ``dL/dw`` (flat) given ``dL/dh`` ``(m, d_out)`` and the cache of :meth:`forward`."""
        p = self.unpack(w)
        g = np.zeros_like(w)
        gp = self.unpack(g)
        if self.kind == "mlp":
            x, y, dy = cache
            np.matmul(gh.T, y, out=gp["W2"])
            gp["c2"][...] = gh.sum(axis=0)
            ga = gh @ p["W2"]
            ga *= dy
            np.matmul(ga.T, x, out=gp["W1"])
            gp["c1"][...] = ga.sum(axis=0)
            return g
        x, dh = cache
        ga = gh * dh
        np.matmul(ga.T, x, out=gp["W"])
        gp["c"][...] = ga.sum(axis=0)
        return g


def make_encoder(kind: str, d_in: int, d_out: int, hidden: int = 0, activation: str = "tanh") -> Encoder:
    """Build an :class:`Encoder` (validated)."""
    return Encoder(kind=kind, d_in=int(d_in), d_out=int(d_out), hidden=int(hidden), activation=activation)
