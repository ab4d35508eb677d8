"""Online SGD (and its always-on phase-switching version) of the two-branch / multi-view
network on the sphere model, vectorised over replicas (numpy engine).

The model, loss and update are those of :mod:`neurocl.circuits.two_branch`; one fresh sample
per step; ``t = steps / N``.  :class:`OnlineLearner` holds the state and advances it (the
engine's runner drives it through the shared checkpoint loop); :func:`simulate_online`
records the overlaps ``M = W^T U / sqrt(N)`` and ``Q = W^T W / N`` at given times for
comparison with :mod:`neurocl.theory_two_branch`.

Speed (issue 14, "Speed").  The update is exact online SGD -- sample ``k`` sees the weights
after step ``k - 1`` -- and runs in two numba kernels per block of ``block`` samples:

1. :func:`_fill_chunk` draws the block's views, fixed chunks of the block in parallel threads
   (the kernels release the GIL); with one replica the next block's chunks are filled in the
   pool while the update kernel runs on the current block (two buffers), since the views
   (``A N`` normals per sample) cost several times the update.
   Per coordinate the ``A`` views of one sample are jointly Gaussian outside ``span(U)``:
   ``x^(k) = g + s xi^(k)`` there has covariance ``J + s^2 R`` across views (``J`` all ones,
   ``R`` the view correlation matrix), so ``A`` standard normals per coordinate mixed by a
   factor ``L L^T = J + s^2 R`` give the right law; the component in ``span(U)`` is then
   replaced exactly: ``x^(k) <- x^(k) - U U^T x^(k) + U (c + s zeta^(k))`` with ``zeta`` of
   covariance ``R`` across views (``A d1`` extra normals).  Why this is the model's law:
   ``Z L^T`` (``Z`` i.i.d. ``N(0, 1)``, shape ``N x A``) has covariance ``I_N (x) (J + s^2 R)``;
   its projection on the complement of ``U`` has covariance ``P_perp (x) (J + s^2 R)``, which
   is that of ``P_perp (g + s xi^(k))``, and is independent of its ``span(U)`` projection
   (Gaussian, orthogonal projections), which is discarded; the new ``span(U)`` part
   ``c + s U^T xi^(k)`` (``U^T xi`` has covariance ``I_d1 (x) R``) is independent of the rest,
   as in the model.  Cost: ``A N`` normals per sample instead of ``(1 + A) N``.
   With a finite training set (``train_size``) the stored inputs ``x_i`` carry ``c`` and the
   background, and only the view noise ``s xi^(k)`` (factor of ``s^2 R``) is drawn.
2. :func:`_sgd_steps` runs the per-sample recursion ``h = W^T x^(k) / sqrt(N)``,
   ``e = dL/dh`` (:func:`_errors`, the formulas of
   :func:`neurocl.circuits.two_branch.output_errors`),
   ``W <- (1 - tau mu / N) W - tau / sqrt(N) sum_k x^(k) e^(k)T`` sample by sample, on the
   transposed weights (rows of length ``N``, contiguous); with two views the update of
   sample ``t`` and the fields of sample ``t + 1`` share one pass over each row.

Measured alternative, not used: the exact block recursion ``h_t = x_t W_0 + (Gram matrix of
the block) x (earlier errors)`` with one BLAS call per block was 3-5 times slower per sample
than the per-sample kernel at ``N = 8000, K = 4`` (the Gram matrix costs ``B A^2 N / 2``
flops per sample, the skinny ``K = 4`` products are memory-bound either way).

Normals: a ziggurat (Marsaglia and Tsang 2000, 256 boxes, the construction of numpy's
``random_standard_normal_f``) driven by interleaved SFC64 streams; the candidate uses 32
random bits (23-bit mantissa: the resolution of a float32 normal, stored in float64), the
wedge and tail tests 53-bit uniforms, so the law is the standard normal up to that
resolution.  Every chunk of every block has its own streams seeded from
``SeedSequence([seed, 3, block index])``, so a trajectory depends neither on the number of
threads nor on where the run is cut into ``advance`` calls (checkpoints).

Hardware profiles: a non-ideal profile holds ``W`` in the device models of
:mod:`neurocl.hardware.device` (every field; the per-sample numpy update, see
:class:`OnlineLearner`).

``kernel="numpy"`` runs the same samples through the plain per-sample numpy update
(:meth:`OnlineLearner._numpy_steps`, the reference the tests compare the kernel with).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

from neurocl.circuits.two_branch import frame, output_errors, overlaps, sample_features, view_noise_factor
from neurocl.engines.loop import run_checkpointed
from neurocl.engines.numpy.schedule import phase_table
from neurocl.errors import ConfigError, DivergenceError, UnsupportedFeatureError

__all__ = ["OnlineLearner", "OverlapTrajectory", "simulate_online", "run_two_branch", "block_views",
           "gaussian_fill", "mixing_factor", "step_rate"]

# ----------------------------------------------------------------------------- normals
_ZIG_R = 3.6541528853610088        # right edge of the base strip of the 256-box ziggurat
_ZIG_V = 4.92867323399e-3          # area of each box


def _ziggurat_tables():
    """``(ki, wi, fi)`` of the 256-box ziggurat for 23-bit candidates (Marsaglia and Tsang 2000;
    the construction numpy uses for ``ziggurat_constants.h``): box ``i`` spans ``[0, x_i)``,
    ``wi[i] = x_i / 2^23``, ``fi[i] = exp(-x_i^2 / 2)``, ``ki[i] = 2^23 x_{i-1} / x_i``."""
    m1 = 2.0 ** 23
    dn = tn = _ZIG_R
    ki, wi, fi = np.zeros(256, np.int64), np.zeros(256), np.zeros(256)
    q = _ZIG_V / math.exp(-0.5 * dn * dn)
    ki[0], ki[1] = int((dn / q) * m1), 0
    wi[0], wi[255] = q / m1, dn / m1
    fi[0], fi[255] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_ZIG_V / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = int((dn / tn) * m1)
        tn = dn
        fi[i], wi[i] = math.exp(-0.5 * dn * dn), dn / m1
    return ki, wi, fi


_KI, _WI, _FI = _ziggurat_tables()
_KI = _KI.astype(np.int32)
_LANES = 8            # interleaved SFC64 streams per chunk
_TILE = 512           # 64-bit draws per lane per tile (raw scratch: _TILE x _LANES uint64)
_CHUNKS = 2           # chunks per replica and block (the parallel unit; fixed, not the thread count)
_AHEAD = 2            # blocks filled ahead of the kernel (one replica with a thread pool)
_U64 = np.uint64
_FAST = {"reassoc", "contract", "arcp", "nsz"}   # reorder sums (vectorise); no nnan/ninf (divergence checks)


@njit(cache=True, nogil=True)
def _sfc64_next(s, lane):
    """One SFC64 output of lane ``lane`` of the states ``s`` (4, L) (a, b, c, counter)."""
    a, b, c, w = s[0, lane], s[1, lane], s[2, lane], s[3, lane]
    tmp = a + b + w
    s[0, lane] = b ^ (b >> _U64(11))
    s[1, lane] = c + (c << _U64(3))
    s[2, lane] = ((c << _U64(24)) | (c >> _U64(40))) + tmp
    s[3, lane] = w + _U64(1)
    return tmp


@njit(cache=True, nogil=True)
def _uniform53(s):
    return np.int64(_sfc64_next(s, 0) >> _U64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _zig_slow(r, s, ki, wi, fi):
    """The ziggurat for a 32-bit candidate ``r`` that left the rectangles (wedge or tail test,
    then fresh candidates from lane 0 until one is accepted)."""
    while True:
        idx = r & 0xff
        neg = (r >> 8) & 1
        rabs = (r >> 9) & 0x7fffff
        x = rabs * wi[idx]
        if rabs < ki[idx]:
            return -x if neg else x
        if idx == 0:                                   # the tail beyond _ZIG_R (Marsaglia 1964)
            while True:
                xx = -math.log1p(-_uniform53(s)) / _ZIG_R
                yy = -math.log1p(-_uniform53(s))
                if yy + yy > xx * xx:
                    return -(_ZIG_R + xx) if neg else _ZIG_R + xx
        elif (fi[idx - 1] - fi[idx]) * _uniform53(s) + fi[idx] < math.exp(-0.5 * x * x):
            return -x if neg else x
        r = np.int64(_sfc64_next(s, 0) & _U64(0xffffffff))


@njit(cache=True, nogil=True)
def _normals(out, start, stop, s, raw, ki, wi, fi):
    """Standard normals into ``out[start:stop]`` from the lane states ``s`` (4, L); ``raw``
    (T, L) uint64 scratch.  Two 32-bit candidates per 64-bit draw; the candidates that leave
    the rectangles (about 1.5 %) are finished afterwards from lane 0 (:func:`_zig_slow`)."""
    T, L = raw.shape
    a, b, c, w = s[0].copy(), s[1].copy(), s[2].copy(), s[3].copy()
    rej = np.empty(2 * T * L, np.int64)
    u = raw.reshape(-1).view(np.uint32)
    pos = start
    while pos < stop:
        m = min(2 * T * L, stop - pos)
        rows = (m + 2 * L - 1) // (2 * L)
        for i in range(rows):
            for lane in range(L):
                tmp = a[lane] + b[lane] + w[lane]
                a[lane] = b[lane] ^ (b[lane] >> _U64(11))
                b[lane] = c[lane] + (c[lane] << _U64(3))
                c[lane] = ((c[lane] << _U64(24)) | (c[lane] >> _U64(40))) + tmp
                w[lane] += _U64(1)
                raw[i, lane] = tmp
        n_rej = 0
        for i in range(m):
            r = u[i]
            idx = r & np.uint32(0xff)
            rabs = np.int32((r >> np.uint32(9)) & np.uint32(0x7fffff))
            out[pos + i] = rabs * wi[idx] * (1.0 - 2.0 * ((r >> np.uint32(8)) & np.uint32(1)))
            if rabs >= ki[idx]:
                rej[n_rej] = i
                n_rej += 1
        if n_rej:
            s[0], s[1], s[2], s[3] = a, b, c, w
            for q in range(n_rej):
                out[pos + rej[q]] = _zig_slow(np.int64(u[rej[q]]), s, ki, wi, fi)
            a, b, c, w = s[0].copy(), s[1].copy(), s[2].copy(), s[3].copy()
        pos += m
    s[0], s[1], s[2], s[3] = a, b, c, w


@njit(cache=True, nogil=True)
def _seed_lanes(words):
    """Lane states (C, 4, L) from seed words (C, 3, L): counter 1 and 12 burn-in rounds (as
    numpy's SFC64 seeding)."""
    C, _, L = words.shape
    s = np.empty((C, 4, L), np.uint64)
    for c in range(C):
        for lane in range(L):
            s[c, 0, lane], s[c, 1, lane], s[c, 2, lane] = words[c, 0, lane], words[c, 1, lane], words[c, 2, lane]
            s[c, 3, lane] = _U64(1)
        for _ in range(12):
            for lane in range(L):
                _sfc64_next(s[c], lane)
    return s


def gaussian_fill(n: int, seed_words: np.ndarray) -> np.ndarray:
    """``n`` standard normals from one chunk's stream (``seed_words``: (3, L) uint64); the
    generator of :func:`block_views`, exposed for tests of its law."""
    s = _seed_lanes(np.ascontiguousarray(seed_words, np.uint64)[None])[0]
    out = np.empty(n)
    _normals(out, 0, n, s, np.empty((_TILE, s.shape[1]), np.uint64), _KI, _WI, _FI)
    return out


# ----------------------------------------------------------------------------- views
def mixing_factor(cov: np.ndarray) -> np.ndarray:
    """``L`` with ``L L^T = cov`` (symmetric PSD; eigen-factor, valid for singular ``cov``)."""
    w, V = np.linalg.eigh(cov)
    return V * np.sqrt(np.clip(w, 0.0, None))


@njit(cache=True, nogil=True, fastmath=_FAST)
def _fill_chunk(X, B, A, N, ch, states, raw, Lmix, acorr, UT, base, idx, ki, wi, fi):
    """Views of chunk ``ch`` of one block into ``X`` (flat, ``(R, B, A, N)`` C order): replica
    ``ch // P``, samples ``[p B / P, (p+1) B / P)``, from lane states ``states[ch]``: normals,
    per-coordinate view mixing ``Lmix`` (+ the stored input ``base[r, idx[r, t]]`` when
    ``base`` has rows), then (without stored inputs) the exact ``span(U)`` replacement by
    ``acorr`` (R, B, A, d1); ``UT`` (R, d1, N) the frames, transposed."""
    C = states.shape[0]
    P = C // UT.shape[0]
    d1 = UT.shape[1]
    has_base = base.shape[1] > 0
    r, p = ch // P, ch % P
    t0, t1 = p * B // P, (p + 1) * B // P
    tmp = np.empty((A, N))
    delta = np.empty((A, d1))
    for t in range(t0, t1):
        o = (r * B + t) * A * N
        _normals(X, o, o + A * N, states[ch], raw[ch], ki, wi, fi)    # one sample: stays in cache
        if A == 2:                                       # in place, one pass (the common case)
            l00, l01, l10, l11 = Lmix[0, 0], Lmix[0, 1], Lmix[1, 0], Lmix[1, 1]
            x0, x1 = X[o:o + N], X[o + N:o + 2 * N]
            if has_base:
                bt = base[r, idx[r, t]]
                for n in range(N):
                    z0, z1 = x0[n], x1[n]
                    x0[n] = bt[n] + (l00 * z0 + l01 * z1)
                    x1[n] = bt[n] + (l10 * z0 + l11 * z1)
                continue
            for n in range(N):
                z0, z1 = x0[n], x1[n]
                x0[n] = l00 * z0 + l01 * z1
                x1[n] = l10 * z0 + l11 * z1
            for i in range(d1):                          # span(U) replacement, both views per pass
                ui = UT[r, i]
                s0 = 0.0
                s1 = 0.0
                for n in range(N):
                    s0 += x0[n] * ui[n]
                    s1 += x1[n] * ui[n]
                delta[0, i], delta[1, i] = acorr[r, t, 0, i] - s0, acorr[r, t, 1, i] - s1
            for i in range(d1):
                ui = UT[r, i]
                d0, d1_ = delta[0, i], delta[1, i]
                for n in range(N):
                    x0[n] += d0 * ui[n]
                    x1[n] += d1_ * ui[n]
            continue
        else:
            for a in range(A):
                ta = tmp[a]
                if has_base:
                    ta[:] = base[r, idx[r, t]]
                else:
                    ta[:] = 0.0
                for m in range(A):
                    lam = Lmix[a, m]
                    zm = X[o + m * N:o + (m + 1) * N]
                    for n in range(N):
                        ta[n] += lam * zm[n]
            for a in range(A):
                X[o + a * N:o + (a + 1) * N] = tmp[a]
            if has_base:
                continue
        for a in range(A):
            xa = X[o + a * N:o + (a + 1) * N]
            for i in range(d1):
                ui = UT[r, i]
                acc = 0.0
                for n in range(N):
                    acc += xa[n] * ui[n]
                delta[a, i] = acorr[r, t, a, i] - acc
            for i in range(d1):
                ui = UT[r, i]
                di = delta[a, i]
                for n in range(N):
                    xa[n] += di * ui[n]


def block_views(model, U: np.ndarray, seed: int, j: int, block: int, base: np.ndarray | None = None,
                scratch: np.ndarray | None = None, executor=None, out: np.ndarray | None = None) -> np.ndarray:
    """The views of block ``j``'s ``block`` samples for every replica, ``(R, block, A, N)``.

    Fresh samples (``base`` None): the law of :func:`neurocl.circuits.two_branch.sample_views`
    with ``A N + A d1 + d1`` random numbers per sample (module docstring).  Finite training set
    (``base``: ``(R, T, N)`` stored inputs ``U c + (I - U U^T) g``): each sample is a stored
    input drawn uniformly with replacement, plus fresh view noise ``s xi^(k)``.  Random numbers
    from ``SeedSequence([seed, 3, j])`` (bulk normals) and ``default_rng([seed, 4, j])``
    (features, ``span(U)`` noise, training indices).  ``executor`` (optional, a
    ``concurrent.futures`` executor): fills the chunks in parallel threads (the kernel releases
    the GIL); the result does not depend on it.  ``out``: a float64 buffer of ``R block A N``
    elements to fill (reused between blocks, it saves the page faults of a fresh array).
    """
    X, fill, C = _block_fill(model, U, seed, j, block, base, scratch, out)
    if executor is None:
        for ch in range(C):
            fill(ch)
    else:
        list(executor.map(fill, range(C)))
    return X.reshape(U.shape[0], block, model.views, U.shape[1])


def _block_fill(model, U, seed, j, block, base, scratch, out):
    """The set-up of :func:`block_views`: ``(X, fill, C)``, the flat output buffer, the function
    that fills chunk ``ch`` of it and the number of chunks (which may run in any order or in
    parallel threads)."""
    R, N, d1 = U.shape
    A = model.views
    C = R * _CHUNKS
    words = np.random.SeedSequence([seed, 3, j]).generate_state(3 * C * _LANES, np.uint64).reshape(C, 3, _LANES)
    states = _seed_lanes(words)
    small = np.random.default_rng([seed, 4, j])
    LR = view_noise_factor(A, model.rho)
    if base is None:
        c = sample_features(model.feature_law, small, (R, block, d1), model.c_var)
        zeta = small.standard_normal((R, block, A, d1))
        acorr = c[:, :, None, :] + model.s * np.einsum("kl,rbli->rbki", LR, zeta)
        Lmix = mixing_factor(np.ones((A, A)) + model.s ** 2 * (LR @ LR.T))
        base_arr, idx = np.zeros((R, 0, N)), np.zeros((R, block), np.int64)
    else:
        idx = small.integers(base.shape[1], size=(R, block))
        acorr, Lmix, base_arr = np.zeros((R, block, A, d1)), model.s * LR, base
    if scratch is None or scratch.shape[0] < C:
        scratch = np.empty((C, _TILE, _LANES), np.uint64)
    X = np.empty(R * block * A * N) if out is None else out.reshape(-1)
    Lmix, UT = np.ascontiguousarray(Lmix), np.ascontiguousarray(np.swapaxes(U, 1, 2))

    def fill(ch):
        _fill_chunk(X, block, A, N, ch, states, scratch, Lmix, acorr, UT, base_arr, idx, _KI, _WI, _FI)

    return X, fill, C


# ----------------------------------------------------------------------------- the update
#: activations the kernel computes itself (others: the numpy per-sample path)
_KERNEL_ACTIVATIONS = {"tanh": 0, "erf": 1, "relu": 2, "linear": 3}


@njit(cache=True, nogil=True)
def _errors(h, code, lam, wa, wd, e):
    """``e = wa dL_attract/dh + wd dL_decorrelate/dh`` for ``h`` (A, K): the formulas of
    :func:`neurocl.circuits.two_branch.output_errors` (``wa = wd = 1``: the full gradient)."""
    A, K = h.shape
    y, yp = np.empty((A, K)), np.empty((A, K))
    for a in range(A):
        for k in range(K):
            v = h[a, k]
            if code == 0:
                t = math.tanh(v)
                y[a, k], yp[a, k] = t, 1.0 - t * t
            elif code == 1:
                y[a, k] = math.erf(v / math.sqrt(2.0))
                yp[a, k] = math.sqrt(2.0 / math.pi) * math.exp(-v * v / 2)
            elif code == 2:
                y[a, k], yp[a, k] = max(v, 0.0), 1.0 if v > 0 else 0.0
            else:
                y[a, k], yp[a, k] = v, 1.0
    norm = 2.0 / (A * (A - 1))
    S = np.zeros(A)
    ysum, y2sum = np.zeros(K), np.zeros(K)
    for a in range(A):
        for k in range(K):
            S[a] += y[a, k] * y[a, k]
            ysum[k] += y[a, k]
            y2sum[k] += y[a, k] * y[a, k]
    Stot = S.sum()
    for a in range(A):
        for k in range(K):
            dy = 0.0
            if wa != 0.0:
                dy -= wa * (ysum[k] - y[a, k])
            if wd != 0.0:
                dy += wd * 2.0 * lam * y[a, k] * ((Stot - S[a]) - (y2sum[k] - y[a, k] * y[a, k]))
            e[a, k] = norm * dy * yp[a, k]


@njit(cache=True, nogil=True, fastmath=_FAST)
def _sgd_steps_two_views(WT, X, i0, i1, code, lam, wa, wd, scale, decay, h, e, have_h):
    """:func:`_sgd_steps` for ``A = 2`` views and one replica (``WT`` (K, N), ``X`` (B, 2, N)):
    the update of sample ``t`` and the fields ``h`` of sample ``t + 1`` in one pass over each
    weight row.  ``h`` (2, K) carries the fields of sample ``i0`` between calls (``have_h``):
    computed here at the first sample of a block, else the ones the previous call left, so the
    arithmetic does not depend on where a block is cut."""
    K, N = WT.shape
    B = X.shape[0]
    sqrt_n = math.sqrt(N)
    if i1 <= i0:
        return
    if not have_h:
        x0, x1 = X[i0, 0], X[i0, 1]
        for k in range(K):
            wk = WT[k]
            s0 = 0.0
            s1 = 0.0
            for n in range(N):
                s0 += x0[n] * wk[n]
                s1 += x1[n] * wk[n]
            h[0, k], h[1, k] = s0 / sqrt_n, s1 / sqrt_n
    for t in range(i0, i1):
        _errors(h, code, lam, wa[t - i0], wd[t - i0], e)
        x0, x1 = X[t, 0], X[t, 1]
        nxt = t + 1 < B
        y0, y1 = X[min(t + 1, B - 1), 0], X[min(t + 1, B - 1), 1]
        for k in range(K):
            wk = WT[k]
            c0, c1 = scale * e[0, k], scale * e[1, k]
            if nxt:
                s0 = 0.0
                s1 = 0.0
                for n in range(N):
                    w = wk[n] * decay - (c0 * x0[n] + c1 * x1[n])
                    wk[n] = w
                    s0 += y0[n] * w
                    s1 += y1[n] * w
                h[0, k], h[1, k] = s0 / sqrt_n, s1 / sqrt_n
            else:
                for n in range(N):
                    wk[n] = wk[n] * decay - (c0 * x0[n] + c1 * x1[n])


@njit(cache=True, nogil=True, fastmath=_FAST)
def _sgd_steps(WT, X, i0, i1, code, lam, wa, wd, scale, decay, r, H, have_h):
    """Samples ``i0 .. i1-1`` of replica ``r``'s block ``X[r]`` (X: (R, B, A, N)), one after
    the other, on the transposed weights ``WT[r]`` (WT: (R, K, N)) in place; ``wa``, ``wd``
    (R, i1 - i0) the term weights per step.  Dot products and rank-``A`` updates run along
    contiguous rows.  ``H`` (R, A, K): fields carried between calls (two views only; valid
    when ``have_h``)."""
    _, K, N = WT.shape
    A = X.shape[2]
    sqrt_n = math.sqrt(N)
    h, e = np.empty((A, K)), np.empty((A, K))
    if A == 2:
        _sgd_steps_two_views(WT[r], X[r], i0, i1, code, lam, wa[r], wd[r], scale, decay, H[r], e, have_h)
        return
    for t in range(i0, i1):
        for a in range(A):
            xa = X[r, t, a]
            for k in range(K):
                wk = WT[r, k]
                acc = 0.0
                for n in range(N):
                    acc += xa[n] * wk[n]
                h[a, k] = acc / sqrt_n
        _errors(h, code, lam, wa[r, t - i0], wd[r, t - i0], e)
        x0 = X[r, t, 0]
        for k in range(K):
            wk = WT[r, k]
            c0 = scale * e[0, k]
            for n in range(N):
                wk[n] = wk[n] * decay - c0 * x0[n]
            for a in range(1, A):
                xa = X[r, t, a]
                ca = scale * e[a, k]
                for n in range(N):
                    wk[n] -= ca * xa[n]


class OnlineLearner:
    """Weights ``W`` (R, N, K) and frames ``U`` (R, N, d1) of ``R`` independent runs, advanced
    one fresh sample per step with per-step rate ``tau``.

    Random numbers: frames and initial weights from ``rng_init``; the samples of steps
    ``j block .. (j+1) block - 1`` from :func:`block_views` with the seed and ``j``, so a
    trajectory does not depend on how the run is cut into ``advance`` calls (checkpoints).
    ``positive`` (optional, ``(R, n_steps)`` bool): the phase of every step; then a positive
    step follows the attraction term weighted ``1/b`` and a negative one the decorrelation term
    weighted ``1/(1-b)`` (ISD, ``papers/000_*``); ``None``: the full gradient every step.
    ``dt``: ms per step (for the time a divergence is reported at).  ``train_size``: ``None``
    (default; the model's ``train_size`` attribute if it has one) draws a fresh sample each
    step; an int draws, uniformly with replacement, one of ``train_size`` stored inputs per
    replica (features and background fixed, from ``default_rng([seed, 5])``; view noise fresh
    each draw).  ``kernel``: ``"numba"`` (the kernels) or ``"numpy"`` (the plain per-sample
    update on the same samples).  ``threads``: worker threads for the views and the
    replicas (default: the CPU count; results do not depend on it).  ``profile`` (a non-ideal
    :class:`~neurocl.hardware.profile.HardwareProfile`): ``W`` is held by a
    :class:`~neurocl.hardware.device.SynapseArray` (device draws from ``default_rng([seed, 6])``):
    every step the network reads the weights through the device model (read noise, drift,
    quantisation), the ideal change ``dW = (decay - 1) W_read - tau / sqrt(N) X^T e`` is
    requested from the devices (pulses, asymmetry, bounds, write noise, ``t_epoch``), as the
    engine's reference path does for RBM weights; this runs the per-sample numpy update.
    """

    def __init__(self, model, tau: float, replicas: int, rng_init: np.random.Generator, seed: int, M0, Q0,
                 positive: np.ndarray | None = None, b: float | None = None, block: int = 64, dt: float = 1.0,
                 train_size: int | None = None, kernel: str = "numba", threads: int | None = None, profile=None):
        if positive is not None and not (b is not None and 0.0 < b < 1.0):
            raise ConfigError(f"b = {b!r} must be in (0, 1) with a phase table")
        if kernel not in ("numba", "numpy"):
            raise ConfigError(f"kernel = {kernel!r} must be 'numba' or 'numpy'")
        if block < _CHUNKS:
            raise ConfigError(f"block = {block} must be >= {_CHUNKS}")
        if train_size is None:
            train_size = getattr(model, "train_size", None)
        if train_size is not None and (isinstance(train_size, bool) or int(train_size) != train_size
                                       or train_size < 1):
            raise ConfigError(f"train_size = {train_size!r} must be a positive integer or None")
        N, d1 = model.N, model.d1
        self.model, self.tau, self.seed, self.positive, self.b, self.block, self.dt = (
            model, tau, seed, positive, b, block, dt)
        self.U = np.stack([frame(N, d1, rng_init) for _ in range(replicas)])            # (R, N, d1)
        self.W = np.stack([model.init_weights(self.U[r], M0, Q0, rng_init) for r in range(replicas)])
        self.train_size = None if train_size is None else int(train_size)
        self.base = None
        if self.train_size is not None:
            rng_data = np.random.default_rng([seed, 5])
            self.base = np.empty((replicas, self.train_size, N))
            for r in range(replicas):
                c = sample_features(model.feature_law, rng_data, (self.train_size, d1), model.c_var)
                g = rng_data.standard_normal((self.train_size, N))
                self.base[r] = g + (c - g @ self.U[r]) @ self.U[r].T                  # U c + (I - U U^T) g
        self.kernel = kernel if model.activation in _KERNEL_ACTIVATIONS else "numpy"
        self.devices = None
        if profile is not None and not profile.is_ideal:
            from neurocl.hardware.device import SynapseArray

            self.devices = SynapseArray(profile, self.W, np.random.default_rng([seed, 6]))
            self.W[...] = self.devices.read()
            self.kernel = "numpy"
        self._scratch = np.empty((replicas * _CHUNKS, _TILE, _LANES), np.uint64)
        self._block_index, self._X, self._buffers = -1, None, [None] * (_AHEAD + 1)
        self._slot_scratch = [None] * (_AHEAD + 1)
        self._prefetch = {}                       # block index -> (chunk futures, views) being filled ahead
        self._H = np.zeros((replicas, model.views, model.K))       # fields of the next sample (kernel)
        self._h_step = -1                                            # ... of this step
        n_threads = min(threads or os.cpu_count() or 1, replicas * _CHUNKS)
        self._pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None

    @property
    def params(self) -> dict:
        return {"W": self.W, "U": self.U}

    def _buffer(self, j: int) -> np.ndarray:
        """The learner's view buffer for block ``j`` (``_AHEAD + 1`` of them, by ``j`` modulo
        that: blocks ``j + 1 .. j + _AHEAD`` are filled ahead while the kernel reads block ``j``)."""
        slot = j % (_AHEAD + 1)
        if self._buffers[slot] is None:
            self._buffers[slot] = np.empty(self.W.shape[0] * self.block * self.model.views * self.model.N)
        return self._buffers[slot]

    def _drain(self) -> None:
        """Waits for the blocks being filled ahead and forgets them."""
        for futures, _ in self._prefetch.values():
            for f in futures:
                f.result()
        self._prefetch = {}

    def _samples(self, j: int, reuse: bool = False) -> np.ndarray:
        """The views of block ``j``'s samples, ``(R, block, A, N)`` (``reuse``: in the learner's
        buffers, overwritten ``_AHEAD + 1`` blocks later)."""
        if reuse and j in self._prefetch:
            futures, X = self._prefetch.pop(j)
            for f in futures:
                f.result()
            return X
        self._drain()
        return block_views(self.model, self.U, self.seed, j, self.block, self.base, self._scratch, self._pool,
                           self._buffer(j) if reuse else None)

    def _fill_ahead(self, j: int) -> None:
        """Starts filling blocks ``j .. j + _AHEAD - 1``'s views in the thread pool, those not
        already under way (the same numbers as :meth:`_samples`; the caller's kernel runs
        meanwhile on block ``j - 1``, whose buffer slot none of them uses)."""
        if self._pool is None:
            return
        for i in range(j, j + _AHEAD):
            if i in self._prefetch:
                continue
            slot = i % (_AHEAD + 1)
            if self._slot_scratch[slot] is None:
                self._slot_scratch[slot] = np.empty_like(self._scratch)
            X, fill, C = _block_fill(self.model, self.U, self.seed, i, self.block, self.base,
                                     self._slot_scratch[slot], self._buffer(i))
            self._prefetch[i] = ([self._pool.submit(fill, ch) for ch in range(C)],
                                 X.reshape(self.W.shape[0], self.block, self.model.views, self.model.N))

    def _weights(self, k0: int, k1: int):
        """Term weights ``(wa, wd)`` (R, k1 - k0) of steps ``k0 .. k1-1``."""
        R = self.W.shape[0]
        if self.positive is None:
            return np.ones((R, k1 - k0)), np.ones((R, k1 - k0))
        pos = self.positive[:, k0:k1]
        return np.where(pos, 1.0 / self.b, 0.0), np.where(pos, 0.0, 1.0 / (1.0 - self.b))

    def _errors(self, h, k):
        m = self.model
        if self.positive is None:
            return output_errors(h, m.activation, m.lam)
        pos = self.positive[:, k]
        return np.where(pos[:, None, None], output_errors(h, m.activation, m.lam, "attract") / self.b,
                        output_errors(h, m.activation, m.lam, "decorrelate") / (1.0 - self.b))

    def _numpy_steps(self, X, i0: int, i1: int, k0: int) -> None:
        """The plain per-sample update on samples ``i0 .. i1-1`` of ``X`` (steps from ``k0``)."""
        W, N = self.W, self.model.N
        scale, decay = self.tau / np.sqrt(N), 1.0 - self.tau * self.model.mu / N
        for i in range(i0, i1):
            Xi = X[:, i]                                                            # (R, A, N)
            e = self._errors(Xi @ W / np.sqrt(N), k0 + i - i0)
            if self.devices is not None:
                self.devices.request((decay - 1.0) * W - scale * (np.swapaxes(Xi, 1, 2) @ e), self.dt)
                W[...] = self.devices.read()
                continue
            W *= decay
            W -= scale * (np.swapaxes(Xi, 1, 2) @ e)

    def advance(self, k0: int, K: int) -> None:
        """Steps ``k0 .. k0+K-1``:
        ``W <- (1 - tau mu / N) W - tau / sqrt(N) sum_k x^(k) e^(k)T``.  Calls continue one
        another (``k0`` = the previous call's end); the kernel carries the next sample's fields
        between calls, so ``W`` must not be changed from outside in between."""
        m = self.model
        N = m.N
        scale, decay = self.tau / np.sqrt(N), 1.0 - self.tau * m.mu / N
        fast = self.kernel == "numba"
        WT = np.ascontiguousarray(np.swapaxes(self.W, 1, 2)) if fast else None       # rows of length N
        k, end = k0, k0 + K
        try:
            while k < end:
                j, i0 = divmod(k, self.block)
                i1 = min(self.block, i0 + end - k)
                if j != self._block_index:
                    self._X, self._block_index = self._samples(j, reuse=True), j
                if fast:
                    wa, wd = self._weights(k, k + i1 - i0)
                    args = (WT, self._X, i0, i1, _KERNEL_ACTIVATIONS[m.activation], float(m.lam), wa, wd, scale,
                            decay)
                    have_h = i0 > 0 and self._h_step == k
                    if self._pool is None or WT.shape[0] == 1:
                        if self._pool is not None and i1 == self.block:
                            self._fill_ahead(j + 1)     # one replica: the next block's views meanwhile
                        for r in range(WT.shape[0]):
                            _sgd_steps(*args, r, self._H, have_h)
                    else:
                        list(self._pool.map(lambda r: _sgd_steps(*args, r, self._H, have_h), range(WT.shape[0])))
                    self._h_step = k + i1 - i0
                    finite = np.isfinite(WT).all()
                else:
                    self._numpy_steps(self._X, i0, i1, k)
                    finite = np.isfinite(self.W).all()
                k += i1 - i0
                if not finite:
                    raise DivergenceError("W (two-branch weights)", k * self.dt, k)
        finally:
            if fast:
                self.W[...] = np.swapaxes(WT, 1, 2)


@dataclass(frozen=True)
class OverlapTrajectory:
    """``t`` (T,), ``M`` (T, R, K, d1), ``Q`` (T, R, K, K) of ``R`` replicas, and the
    final weights ``W`` (R, N, K) with the frames ``U``."""

    t: np.ndarray
    M: np.ndarray
    Q: np.ndarray
    W: np.ndarray
    U: np.ndarray


def simulate_online(model, tau: float, t_end: float, *, replicas: int = 1, seed: int = 0, t_eval=None,
                    b: float | None = None, M0=None, Q0=None, block: int = 64, train_size: int | None = None,
                    kernel: str = "numba") -> OverlapTrajectory:
    """Online SGD for ``t_end * N`` steps on ``replicas`` runs (one frame ``U`` per run,
    initial overlaps ``(M0, Q0)`` for all; default ``model.initial_overlaps`` with the seed).
    ``b`` set: each step is independently positive with probability ``b`` (phases of one step).
    ``train_size``: finite training set reused with replacement (:class:`OnlineLearner`)."""
    N = model.N
    if M0 is None or Q0 is None:
        M0, Q0 = model.initial_overlaps(np.random.default_rng([seed, 8]))
    n_steps = int(round(t_end * N))
    positive = None
    if b is not None:
        if not 0.0 < b < 1.0:
            raise ConfigError(f"b = {b:g} is outside (0, 1)")
        positive = np.random.default_rng([seed, 9]).random((replicas, n_steps)) < b
    learner = OnlineLearner(model, tau, replicas, np.random.default_rng([seed, 7]), seed, M0, Q0, positive, b, block,
                            train_size=train_size, kernel=kernel)
    t_eval = np.linspace(0.0, t_end, 11) if t_eval is None else np.asarray(t_eval, float)
    k_eval = np.unique(np.clip(np.round(t_eval * N).astype(int), 0, n_steps))
    ts, Ms, Qs = [], [], []
    k = 0
    for target in k_eval:
        if target > k:
            learner.advance(k, int(target - k))
            k = int(target)
        M, Q = overlaps(learner.W, learner.U)
        ts.append(k / N), Ms.append(M), Qs.append(Q)
    return OverlapTrajectory(np.array(ts), np.array(Ms), np.array(Qs), learner.W, learner.U)


def step_rate(rule, phases, dt: float) -> tuple[float, float | None]:
    """``(tau, b)``: the per-sample rate and the positive-phase probability of a learner, one
    sample per ``dt`` ms.  Discrete-time rules (online SGD): ``tau = learning_rate``, no phases
    (``b = None``); continuous-time rules (ISD): ``tau = learning_rate * dt`` and ``b`` of
    the phase process."""
    if rule.time == "continuous":
        return rule.learning_rate * dt, phases.b
    return rule.learning_rate, None


def run_two_branch(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    """The numpy engine's runner for ``two_branch`` circuits: one sample per ``sim.dt`` ms.

    Discrete-time online SGD (rule ``time = "discrete"``): ``tau = learning_rate`` per step.
    Continuous-time always-on learning (ISD): ``tau = learning_rate * dt`` per step, the phase
    of each step from ``phases`` (positive: attraction weighted ``1/b``; negative:
    decorrelation weighted ``1/(1-b)``).  The ODE time is ``t = steps / N``.  A finite
    training set when the circuit has a ``train_size`` attribute that is not ``None``.  A
    non-ideal hardware ``profile`` holds ``W`` in device models (:class:`OnlineLearner`).
    """
    if params is not None:
        raise UnsupportedFeatureError(engine.name, "initial params for a two_branch circuit (its frame and "
                                                   "weights are drawn from the seed and init_overlap/init_norm)")
    rng_init = np.random.default_rng([sim.seed, 0])
    M0, Q0 = circuit.initial_overlaps(rng_init)
    learner_rng = np.random.default_rng([sim.seed, 2])       # frames and weights: the same for every rule
    tau, b = step_rate(rule, phases, sim.dt)
    positive = None
    if b is not None:
        positive = phase_table(phases, sim, np.random.default_rng([sim.seed, 1]))[0]
    learner = OnlineLearner(circuit, tau, sim.replicas, learner_rng, sim.seed, M0, Q0, positive, b, dt=sim.dt,
                            profile=profile)
    return run_checkpointed(sim, task, learner.params, learner.advance, progress=progress, desc=desc,
                            block=max(1, sim.n_steps // 200), info={"tau_per_step": tau, "t_end": sim.n_steps / circuit.N})
