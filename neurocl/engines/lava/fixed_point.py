"""Fixed-point encodings of the Lava engine (pure functions, no Lava import).

Loihi stores a synaptic weight as an 8-bit mantissa with a shared exponent per synapse group
(Davies et al. 2018, IEEE Micro 38(1), Sec. "Learning engine"; Lava 0.10
``lava.utils.weightutils``): in Lava's mixed-sign mode the integer weight is an even number in
``[-256, 254]`` (8-bit mantissa times 2), and the learning engine accumulates it with
``W_WEIGHTS_S = 9`` signed bits (integers in ``[-256, 254]``, step 1) and stochastic rounding
that draws one random number per time step for all synapses (``lava.magma.core.learning``).

Network weights map to integers as ``w_int = W / weight_scale * 256`` (``weight_scale``: the
``loihi2`` profile's, the network weight of a full-scale device weight), so one integer step
is ``weight_scale / 256``: the ``loihi2`` profile's learning grid ``(w_max - w_min) / 2^9``
(measured with ``neurocl check-theory --engine lava``); deployed static weights use the even
integers (every other level).

Stochastic binary units (Glauber / Gibbs units, ``P(s = 1) = sigmoid(u)``) compare their
integer field with integer logistic noise: ``s = [u_int + n_int > 0]`` with
``n_int = round(2^F logit(r))`` and ``r`` a ``RANDOM_BITS``-bit uniform integer, so that
``P(s = 1) = sigmoid(u)`` up to the ``2^-F`` field resolution (a noisy threshold unit as
Loihi's compartments with noise, Davies et al. 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.errors import ConfigError

__all__ = ["WEIGHT_LEVELS", "FIELD_BITS", "RANDOM_BITS", "weight_to_int", "int_to_weight",
           "logistic_noise_table", "IsdScaling", "isd_scaling", "shift_for_scale", "tag_carry_rules",
           "MAX_ACCUMULATOR_BITS"]

WEIGHT_LEVELS = 256        # integer weight units per weight_scale (mixed sign: [-256, 254])
W_INT_MIN, W_INT_MAX = -256, 254
FIELD_BITS = 6             # unit fields are integers in units of 2^-6 (network units)
RANDOM_BITS = 16           # uniform random integers of the noise generator
ACCUMULATOR_PER_WEIGHT = 128   # Lava learning accumulator: 2^(W_ACCUMULATOR_U - W_WEIGHTS_U)


def weight_to_int(W, weight_scale: float, deploy: bool = True) -> np.ndarray:
    """Integer Lava weights of network weights ``W``: ``round(W / weight_scale * 256)``,
    saturated to ``[-256, 254]``; ``deploy`` rounds to the even 8-bit-mantissa grid that
    Lava's ``Dense`` keeps (``truncate_weights`` would floor odd values)."""
    x = np.asarray(W, float) / weight_scale * WEIGHT_LEVELS
    if deploy:
        x = 2 * np.round(x / 2)
    return np.clip(np.round(x), W_INT_MIN, W_INT_MAX).astype(np.int32)


def int_to_weight(w_int, weight_scale: float) -> np.ndarray:
    """Network weights of integer Lava weights (inverse of :func:`weight_to_int` on the grid)."""
    return np.asarray(w_int, float) * weight_scale / WEIGHT_LEVELS


def shift_for_scale(weight_scale: float) -> int:
    """Lava ``weight_exp`` that brings ``w_int * s`` (``s`` in {0, 1}) to field units
    ``2^-FIELD_BITS``: ``weight_scale / 256 = 2^(exp - FIELD_BITS)`` (``weight_scale`` must be a
    power of two)."""
    e = np.log2(weight_scale)
    if weight_scale <= 0 or abs(e - round(e)) > 1e-12:
        raise ConfigError(f"profile.weight_scale = {weight_scale!r} must be a power of two for Lava's "
                          "shared weight exponent")
    return int(round(e)) - 8 + FIELD_BITS


def logistic_noise_table(field_bits: int = FIELD_BITS, random_bits: int = RANDOM_BITS) -> np.ndarray:
    """``n[r] = round(2^F logit((r + 1/2) / 2^B))`` for every ``B``-bit random integer ``r``.

    A unit with integer field ``u`` fires when ``u + n[r] > 0``: ``P = #{r: n[r] > -u} / 2^B``,
    which equals ``sigmoid(u / 2^F)`` up to the table's resolution (Devroye 1986, inversion
    method for the logistic law).
    """
    r = (np.arange(2**random_bits) + 0.5) / 2**random_bits
    return np.round(2**field_bits * np.log(r / (1 - r))).astype(np.int32)


@dataclass(frozen=True)
class IsdScaling:
    """Integer encoding of ISD (Williams et al. 2023) for Lava's learning engine.

    The on-chip rule is ``dw = 2^e * x0 * y1 * y2 - 2^e * x0 * y1 * y3`` (``Loihi3FLearningRule``),
    with ``x0`` the pre-synaptic spike (visible unit on), ``y1 = Y * h`` the post-synaptic spike
    scaled, ``y2 = 8 P`` in positive phases and ``y3 = 8 N`` in negative phases (0 otherwise),
    set every step by the post-synaptic learning neuron.  Lava computes ``(y1 y2) >> 3 << e``
    accumulator units (1/128 of an integer weight), so a coincidence changes the weight by
    ``Y P 2^e / 128`` integer steps in positive phases and ``-Y N 2^e / 128`` in negative ones:
    the importance weights ``1/b``, ``-1/(1-b)`` are ``P : N = (1 - b) : b``.

    With ``accumulator_bits = m > 0`` the same products go, in units of ``2^-m`` integer
    weights, into the synaptic tag ``t`` (``dt`` rule) instead of the weight, and whole integer
    steps are carried from the tag to the weight by :func:`tag_carry_rules` (error feedback:
    ``2^m w + t`` is the exact running sum of the tag's updates).
    """

    Y: int
    P: int
    N: int
    exp: int
    eta: float         # effective learning rate (ms^-1)
    b: float           # effective phase probability P / (P + N)
    accumulator_bits: int = 0

    @property
    def isd_products(self) -> str:
        """The ISD products (``x0 y1 y2`` and ``x0 y1 y3`` terms) in units of the target variable
        (the weight, or the tag when ``accumulator_bits > 0``)."""
        e = self.exp - 7   # Lava's scaling exponent counts in target integers; 2^-7 = one accumulator unit
        return f"2^{e} * x0 * y1 * y2 - 2^{e} * x0 * y1 * y3"

    @property
    def rule(self) -> str:
        """The ``dw`` learning-rule string for ``Loihi3FLearningRule(dw=...)``."""
        if self.accumulator_bits:
            return tag_carry_rules(self.accumulator_bits)["dw"]
        return self.isd_products

    @property
    def rules(self) -> dict:
        """Keyword arguments ``dw`` (and ``dt``, ``dd`` with a tag accumulator) of
        ``Loihi3FLearningRule``."""
        if not self.accumulator_bits:
            return {"dw": self.isd_products}
        r = tag_carry_rules(self.accumulator_bits)
        return {"dw": r["dw"], "dd": r["dd"], "dt": f"{self.isd_products} {r['dt_carry']}"}

    @property
    def step(self) -> float:
        """Mean change per coincidence in a positive phase, in integer weights
        (``Y P 2^exp / 128 / 2^m``)."""
        return self.Y * self.P * 2.0**self.exp / ACCUMULATOR_PER_WEIGHT / 2**self.accumulator_bits


#: largest tag accumulator: the 9-bit signed tag must hold ``2^(m-1) + 2`` fine steps of update
MAX_ACCUMULATOR_BITS = 7


def tag_carry_rules(m: int) -> dict:
    """Learning-rule strings that make Loihi's synaptic tag ``t`` an ``m``-bit error-feedback
    accumulator below the weight, with the delay variable ``d`` as a carry register.

    One integer weight is ``2^m`` tag units; ``K = 2^(m-1)``.  Lava's rule language has no
    comparison, only ``sgn(var + const)`` factors, and ``sgn`` is 0 *at* the threshold, so a
    carry decision ``[t > K] - [t < -K]`` from single ``sgn`` terms would carry half a step at
    ``t = K``.  Instead, on the steps the post-synaptic neurons mark with ``y0`` (the odd,
    learning steps), ``d`` is overwritten with

        ``D(t) = 4 + sgn(t - K) + sgn(t - K - 1) + sgn(t + K) + sgn(t + K + 1)``

    which is 7 or 8 for ``t > K``, 3, 4 or 5 for ``|t| <= K`` and 0 or 1 for ``t < -K``
    (``d`` is kept non-negative: Lava saturates negative delays at 0); on the other (even)
    steps the ``u1`` dependency carries ``c = (sgn(d - 6) + sgn(d - 2)) / 2`` (never a half:
    ``d`` is never 2 or 6) into the weight and removes ``2^m c`` from the tag.  The carry
    decision therefore always sees the tag after the previous carry (no double carry), every
    product is a whole number of the target's integer units (no rounding), and
    ``2^m w + t`` changes exactly by the ISD products added to ``t`` (invariant; the weight
    lags that sum by ``|t| <= K + 2`` tag units).

    Returns ``{"dw", "dd", "dt_carry"}`` (``dt_carry``: the carry terms appended to the ISD
    products of the ``dt`` rule).
    """
    m = int(m)
    if not 1 <= m <= MAX_ACCUMULATOR_BITS:
        raise ConfigError(f"accumulator_bits = {m} must be in [1, {MAX_ACCUMULATOR_BITS}] for Lava's 9-bit tag")
    K = 2 ** (m - 1)
    dd = (f"-y0 * d + y0 * sgn(t - {K}) + y0 * sgn(t - {K + 1}) + y0 * sgn(t + {K}) + y0 * sgn(t + {K + 1})"
          " + 4 * y0")
    dw = "2^-1 * u1 * sgn(d - 6) + 2^-1 * u1 * sgn(d - 2)"
    dt = f"- 2^{m - 1} * u1 * sgn(d - 6) - 2^{m - 1} * u1 * sgn(d - 2)"
    return {"dw": dw, "dd": dd, "dt_carry": dt}


def isd_scaling(eta: float, dt: float, b: float, weight_scale: float, max_ratio: int = 15,
                accumulator_bits: int = 0) -> IsdScaling:
    """The :class:`IsdScaling` closest to ISD with learning rate ``eta`` (ms^-1), step ``dt`` (ms)
    and positive-phase probability ``b``; with ``accumulator_bits = m`` the products are in
    units of the tag, ``2^-m`` integer weights (:func:`tag_carry_rules`).

    The ideal per-coincidence change is ``eta dt / b`` network units in positive phases
    (Williams et al. 2023, Eq. 6: importance weight ``1/b``), i.e. ``eta dt / b * 256 /
    weight_scale * 128`` accumulator units.  Raises :class:`ConfigError` when ``eta`` or ``b`` is
    not representable within 10 % (``b`` within 0.01).
    """
    if not 0.0 < b < 1.0:
        raise ConfigError(f"phases.b = {b!r} must be in (0, 1)")
    best = None
    for N in range(1, max_ratio + 1):
        P = int(round(N * (1 - b) / b))
        if 1 <= P <= max_ratio:
            err = abs(N / (P + N) - b)
            if best is None or err < best[0] - 1e-12:
                best = (err, P, N)
    if best is None or best[0] > 0.01:
        raise ConfigError(f"phases.b = {b!r}: Lava's importance weights are a ratio P:N of integers <= "
                          f"{max_ratio}; use b in [{1 / (1 + max_ratio):.3f}, {max_ratio / (1 + max_ratio):.3f}]")
    _, P, N = best
    b_eff = N / (P + N)
    m = int(accumulator_bits)
    if m:
        tag_carry_rules(m)                             # ConfigError if out of range
    unit = WEIGHT_LEVELS / weight_scale * ACCUMULATOR_PER_WEIGHT * 2**m     # accumulator units per network unit
    target = eta * dt / b_eff * unit / P            # = Y * 2^e
    if target <= 0:
        raise ConfigError(f"learning_rate = {eta!r} must be > 0")
    exp = max(0, int(np.floor(np.log2(target / 127)) + 1)) if target > 127 else 0
    Y = int(round(target / 2**exp))
    if Y < 1 or Y > 127 or abs(Y * 2**exp - target) > 0.1 * target:
        lo = 1 / unit * b_eff * P / dt
        raise ConfigError(f"learning_rate = {eta!r} ms^-1 is not representable on Lava's learning engine "
                          f"within 10 % (with dt = {dt} ms, b = {b}: use >= {0.95 * lo:.3g} ms^-1, in steps "
                          f"of {lo:.3g})")
    eta_eff = Y * 2**exp * P * b_eff / (dt * unit)
    return IsdScaling(Y, P, N, exp, eta_eff, b_eff, m)
