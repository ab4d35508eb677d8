"""Estimators of the negative term of the global contrastive loss, behind one interface.

The loss and its view table are those of :mod:`neurocl.objectives.global_contrastive`
(``2n`` views of ``n`` samples; anchor ``k``, positive ``pos(k) = (k + n) mod 2n``, negatives
``N(k)`` = all other views).  One step of sample-contrastive learning draws a batch ``B`` of
``b`` sample indices; its ``2b`` views are the anchors ``k`` and the in-batch candidates.  Every
estimator returns an estimate of ``dL/dZ`` restricted to the rows it touches,

    g_hat = (1 / 2b) sum_{k in anchors(B)} [ -beta d s_{k,pos(k)} + beta sum_j w_kj d s_kj ],

and differs only in the weights ``w_kj`` it puts on negatives (the estimate of the softmax
``P_k`` of anchor ``k`` over ``N(k)``, the negative phase):

``exact``
    ``w_k = P_k`` over all ``2n - 2`` negatives: unbiased for ``dL/dZ`` (the only noise is the
    choice of anchors), the reference for small ``n``.
``in_batch`` (SimCLR)
    softmax over the ``2b - 2`` in-batch negatives: biased, the bias shrinking with ``b``.
``sogclr`` (Yuan et al. 2022; paper 002's baseline)
    ``w_kj = exp(beta s_kj) / (u_k (2b - 2))`` with a per-anchor moving average of the
    normaliser ``u_k <- (1 - gamma) u_k + gamma mean_j exp(beta s_kj)`` (``gamma = 1`` at the
    first visit).
``emc2`` (paper 002, Alg. 1)
    one persistent Metropolis-Hastings chain per anchor view over negative indices; the
    batch's views are independence proposals swept in order; a proposal ``j`` is accepted with
    probability ``min(1, exp(beta (s_kj - s_k,cur)))`` (self and positive never); the states
    after a burn-in of the sweep, repeats included, are the negatives (equal weights).  With
    i.i.d. proposals uniform over the dataset the chain's stationary law is ``P_k`` exactly;
    sweeping a batch drawn without replacement makes successive proposals slightly dependent
    (no repeats within a sweep), which biases the stationary law by a term that grows with
    ``b / n`` (measured: not detectable at ``b = 16, n = 2000``, stationary TV 0.051-0.054
    against a sampling floor of 0.051, ``examples/emc2_mh_exactness.py``).  The batch's views
    are swept in a random order (``shuffle``): in the fixed order [first views, second views]
    the post-burn-in states over-weight second views; at ``b = 256, n = 300`` that order gave a
    gradient bias of 0.131 (debiased norm, nats per unit weight, 200 draws; the shuffled sweep:
    0.000, at its Monte Carlo floor 0.028).  neurocl keeps one
    chain per anchor *view* (its target is that view's softmax); the authors' code shares one
    chain between the two views of a sample, whose target is then neither view's softmax.
``isd`` (always-on, phase-switching)
    positive term only, weighted ``1/b_pos``, with probability ``b_pos``; otherwise the
    negative term only, from the EMC^2 chain, weighted ``1/(1 - b_pos)``: the expected update
    is the EMC^2 update, and no statistic is stored across phases.

Each estimator is a frozen dataclass (its hyper-parameters) with ``init_state(n)``,
``needs(batch, n, state)`` (view indices whose embeddings it may read) and
``estimate(batch, n, table, beta, state, rng) -> (idx, grad_rows)``; persistent state
(``u`` of SogCLR, the chains) lives in explicit state objects that ``estimate`` updates in
place.  All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numba import njit

from neurocl.errors import ConfigError
from neurocl.objectives.global_contrastive import anchor_grad_rows
from neurocl.schema import Registry

__all__ = [
    "NEGATIVE_ESTIMATORS",
    "EmbeddingTable",
    "ExactNegatives",
    "InBatchNegatives",
    "SogCLRNegatives",
    "EMC2Negatives",
    "ISDNegatives",
    "SogCLRState",
    "ChainState",
    "mh_log_ratio",
    "mh_independence_sweep",
    "batch_views",
    "make_estimator",
    "table_targets",
    "table_chain_marginals",
    "run_table_chains",
    "empirical_laws",
]

#: name -> estimator dataclass (``@NEGATIVE_ESTIMATORS.register`` uses the class's ``name``)
NEGATIVE_ESTIMATORS = Registry("estimator", key_attr="name")


@dataclass(frozen=True)
class EmbeddingTable:
    """Normalised embeddings ``z`` ``(r, d)`` of the sorted view indices ``idx`` ``(r,)``."""

    idx: np.ndarray
    z: np.ndarray

    def take(self, views: np.ndarray) -> np.ndarray:
        """Rows of the views ``views`` (any shape); raises ``KeyError`` for a missing view."""
        views = np.asarray(views)
        pos = np.searchsorted(self.idx, views)
        pos = np.minimum(pos, self.idx.size - 1)
        if not np.all(self.idx[pos] == views):
            raise KeyError("embedding table lacks some requested views")
        return self.z[pos]

    @classmethod
    def full(cls, Z: np.ndarray) -> "EmbeddingTable":
        return cls(np.arange(Z.shape[0]), np.asarray(Z, dtype=float))


def batch_views(batch: np.ndarray, n: int):
    """Anchor view indices ``[B, B + n]`` of a batch of sample indices and their positives."""
    batch = np.asarray(batch, dtype=np.int64)
    anchors = np.concatenate([batch, batch + n])
    pos = np.concatenate([batch + n, batch])
    return anchors, pos


def _excluded(anchors, pos, cand):
    """``(a, c)`` True where candidate view ``cand[c]`` is anchor ``k`` itself or its positive."""
    return (cand[None, :] == anchors[:, None]) | (cand[None, :] == pos[:, None])


def _rows(batch, n, table, beta, weights, cand, pos_weight=1.0, neg_weight=1.0):
    anchors, pos = batch_views(batch, n)
    return anchor_grad_rows(anchors, pos, table.take(anchors), table.take(pos), cand, table.take(cand),
                            weights, beta, 1.0 / anchors.size, pos_weight, neg_weight)


def _softmax_masked(logits, mask):
    logits = np.where(mask, -np.inf, logits)
    mx = logits.max(axis=1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    e = np.exp(logits - mx)
    s = e.sum(axis=1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


# ----------------------------------------------------------------------------------------
@NEGATIVE_ESTIMATORS.register
@dataclass(frozen=True)
class ExactNegatives:
    """Softmax over all ``2n - 2`` negatives of each anchor (reads every view's embedding)."""

    name = "exact"

    def init_state(self, n: int):
        return None

    def needs(self, batch, n, state):
        return np.arange(2 * n)

    def estimate(self, batch, n, table: EmbeddingTable, beta: float, state, rng):
        """Dense form of :func:`~neurocl.objectives.global_contrastive.anchor_grad_rows` with every
        view a candidate (one ``(2b, 2n)`` softmax and two products; no index bookkeeping):
        ``G = c W^T Z_a``, ``G[anchors] += c (W Z - Z_pos)``, ``G[pos] -= c Z_a``, ``c = beta / 2b``."""
        anchors, pos = batch_views(batch, n)
        Z = table.take(np.arange(2 * n))
        z_a = Z[anchors]
        logits = z_a @ Z.T
        logits *= beta
        a = np.arange(anchors.size)
        logits[a, anchors] = -np.inf
        logits[a, pos] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        W = np.exp(logits, out=logits)
        W /= W.sum(axis=1, keepdims=True)
        c = beta / anchors.size
        G = W.T @ z_a
        G[anchors] += W @ Z - Z[pos]     # anchors are distinct views, and so are their positives
        G[pos] -= z_a
        G *= c
        return np.arange(2 * n), G


@NEGATIVE_ESTIMATORS.register
@dataclass(frozen=True)
class InBatchNegatives:
    """SimCLR: softmax over the ``2b - 2`` in-batch negatives of each anchor."""

    name = "in_batch"

    def init_state(self, n: int):
        return None

    def needs(self, batch, n, state):
        return np.unique(np.concatenate(batch_views(batch, n)))

    def estimate(self, batch, n, table, beta, state, rng):
        anchors, pos = batch_views(batch, n)
        cand = anchors
        W = _softmax_masked(beta * (table.take(anchors) @ table.take(cand).T), _excluded(anchors, pos, cand))
        return _rows(batch, n, table, beta, W, cand)


@dataclass
class SogCLRState:
    """Per-anchor-view moving average ``u`` of the normaliser, and whether it was visited."""

    u: np.ndarray
    seen: np.ndarray


@NEGATIVE_ESTIMATORS.register
@dataclass(frozen=True)
class SogCLRNegatives:
    """SogCLR's moving-average normaliser (``gamma`` in (0, 1]; 0.9 in paper 002's runs)."""

    gamma: float = 0.9
    name = "sogclr"

    def __post_init__(self):
        if not 0.0 < self.gamma <= 1.0:
            raise ConfigError(f"gamma = {self.gamma} must be in (0, 1]")

    def init_state(self, n: int) -> SogCLRState:
        return SogCLRState(np.zeros(2 * n), np.zeros(2 * n, dtype=bool))

    def needs(self, batch, n, state):
        return np.unique(np.concatenate(batch_views(batch, n)))

    def estimate(self, batch, n, table, beta, state: SogCLRState, rng):
        anchors, pos = batch_views(batch, n)
        cand = anchors
        excl = _excluded(anchors, pos, cand)
        e = np.where(excl, 0.0, np.exp(beta * (table.take(anchors) @ table.take(cand).T)))
        count = np.maximum((~excl).sum(axis=1), 1)
        mean = e.sum(axis=1) / count
        gam = np.where(state.seen[anchors], self.gamma, 1.0)
        u = (1.0 - gam) * state.u[anchors] + gam * mean
        state.u[anchors] = u
        state.seen[anchors] = True
        W = e / (u * count)[:, None]
        return _rows(batch, n, table, beta, W, cand)


# ----------------------------------------------------------------------------------------
def mh_log_ratio(beta: float, s_new: np.ndarray, s_cur: np.ndarray) -> np.ndarray:
    """Log acceptance ratio of an independence proposal ``j`` with a uniform proposal law and
    the softmax target ``pi_k(j) ~ exp(beta s_kj)``: ``beta (s_new - s_cur)``; ``min(1,
    exp(.))`` is the acceptance probability (Metropolis-Hastings; paper 002, Alg. 1)."""
    return beta * (s_new - s_cur)


@njit(cache=True, nogil=True)
def _sweep(cur, s_cur, prop, s_prop, logu, beta, states, scores):
    """The compiled sweep: ``m`` chains through ``P`` independence proposals each (accept when
    ``log u < beta (s_prop - s_cur)``), recording every state and its score."""
    m, P = prop.shape
    for i in range(m):
        c, sc = cur[i], s_cur[i]
        for t in range(P):
            if logu[i, t] < beta * (s_prop[i, t] - sc):
                c, sc = prop[i, t], s_prop[i, t]
            states[i, t] = c
            scores[i, t] = sc


def mh_independence_sweep(state: np.ndarray, s_state: np.ndarray, prop: np.ndarray, s_prop: np.ndarray,
                          allowed: np.ndarray, beta: float, rng: np.random.Generator,
                          log_ratio: Callable = mh_log_ratio, python: bool = False):
    """Run ``m`` independent chains through ``P`` proposals each.

    Parameters
    ----------
    state, s_state : (m,) current states (view indices; ``-1`` = none yet) and their scores
        ``s_k,cur`` (``-inf`` for none, so that the first allowed proposal is accepted)
    prop, s_prop : (m, P) proposed states and their scores ``s_kj``
    allowed : (m, P) bool; a disallowed proposal (self, positive) is rejected
    beta : inverse temperature
    rng : random generator (one uniform per proposal)
    log_ratio : ``(beta, s_new, s_cur) -> log acceptance ratio``; :func:`mh_log_ratio` is the
        correct one (the tests inject wrong ones to see the exactness check fail)
    python : with the default ``log_ratio`` a compiled (numba) loop runs the same recursion on
        the same random numbers; ``True`` forces the numpy loop (the reference)

    Returns
    -------
    states, scores : (m, P) the chain's state and score after each proposal.
    """
    m, P = prop.shape
    cur = np.array(state, dtype=np.int64, copy=True)
    s_cur = np.array(s_state, dtype=float, copy=True)
    states = np.empty((m, P), dtype=np.int64)
    scores = np.empty((m, P))
    # a disallowed proposal gets log u = +inf (never accepted); no state yet: s_cur = -inf, so
    # the log ratio is +inf and the first allowed proposal is accepted
    logu = np.where(allowed, np.log(rng.random((m, P))), np.inf)
    if log_ratio is mh_log_ratio and not python:
        _sweep(cur, s_cur, np.ascontiguousarray(prop, dtype=np.int64), np.ascontiguousarray(s_prop, dtype=float),
                        logu, float(beta), states, scores)
        return states, scores
    logu = logu.T.copy()
    s_propT = np.ascontiguousarray(s_prop.T)
    propT = np.ascontiguousarray(prop.T)
    with np.errstate(invalid="ignore", over="ignore"):
        for t in range(P):
            acc = logu[t] < log_ratio(beta, s_propT[t], s_cur)
            np.copyto(cur, propT[t], where=acc)
            np.copyto(s_cur, s_propT[t], where=acc)
            states[:, t] = cur
            scores[:, t] = s_cur
    return states, scores


@dataclass
class ChainState:
    """One persistent chain per anchor view: current negative (view index, ``-1`` = none) and
    its stored score ``s_k,cur`` (stale: measured when it was accepted, as in paper 002);
    ``bank`` (``advance_all``): the last embedding seen of every view (zero rows: not seen yet)."""

    state: np.ndarray
    score: np.ndarray
    bank: np.ndarray | None = None


@NEGATIVE_ESTIMATORS.register
@dataclass(frozen=True)
class EMC2Negatives:
    """EMC^2: persistent Metropolis-Hastings chains over negatives, proposals from the batch.

    Parameters
    ----------
    burn_in : fraction of each sweep's ``2b`` proposals discarded before the states are used
        (paper 002's code: half)
    refresh : re-score the current state with the present embeddings before the sweep
        (exact MH on the present table); ``False`` keeps the stored, stale score (paper 002)
    advance_all : also advance, at every step, the chains of all views seen before but not in
        the batch, through the same ``2b`` proposals, scored with the anchor's last embedding
        (``ChainState.bank``, refreshed whenever the view is in a batch) against the proposals'
        present ones.  Paper 002's Alg. 1 advances only the batch's chains, i.e. each chain
        once per epoch (``n / b`` steps); this makes every chain take ``2b`` MH proposals per
        step, at the cost of a ``(2n, 2b)`` score matrix per step (no extra encoder pass).
    shuffle : sweep the batch's views in a fresh random order each step (one permutation shared
        by the chains).  In the fixed order ``[first views of the batch, second views]`` every
        proposal of the second half is a second view, so each single MH step has a proposal
        supported on half of the negatives and does not keep the softmax invariant: the states
        after the sweep's burn-in (its second half) over-weight second views (on a fixed table
        of 40 unrelated embeddings, the law of a chain's state after each step was at TV 0.42
        from its softmax; shuffled: see the tests).  Views of one sample are near-duplicates in
        training, so this bias acts mostly within samples; ``False`` keeps the fixed order.
    """

    burn_in: float = 0.5
    refresh: bool = False
    advance_all: bool = False
    shuffle: bool = True
    name = "emc2"

    def __post_init__(self):
        if not 0.0 <= self.burn_in < 1.0:
            raise ConfigError(f"burn_in = {self.burn_in} must be in [0, 1)")

    def init_state(self, n: int) -> ChainState:
        return ChainState(np.full(2 * n, -1, dtype=np.int64), np.full(2 * n, -np.inf))

    def needs(self, batch, n, state: ChainState):
        """The batch's views and the chains' current states (read when re-scored, or when a
        state survives the sweep's burn-in and becomes a negative)."""
        anchors, pos = batch_views(batch, n)
        cur = state.state[anchors]
        return np.unique(np.concatenate([anchors, pos, cur[cur >= 0]]))

    def sweep(self, batch, n, table, beta, state: ChainState, rng, log_ratio: Callable = mh_log_ratio):
        """Advance the anchors' chains through the batch's views; returns ``(anchors, pos,
        used_states (a, T))`` with the post-burn-in states."""
        anchors, pos = batch_views(batch, n)
        z_a = table.take(anchors)
        order = rng.permutation(anchors.size) if self.shuffle else np.arange(anchors.size)
        cand, z_c = anchors[order], z_a[order]
        prop = np.broadcast_to(cand, (anchors.size, anchors.size))
        s_prop = z_a @ z_c.T
        allowed = ~_excluded(anchors, pos, cand)
        s_cur = state.score[anchors]
        if self.refresh:
            has = state.state[anchors] >= 0
            s_cur = s_cur.copy()
            s_cur[has] = np.sum(z_a[has] * table.take(state.state[anchors][has]), axis=1)
        states, scores = mh_independence_sweep(state.state[anchors], s_cur, prop, s_prop, allowed, beta, rng,
                                               log_ratio)
        if self.advance_all:
            self._advance_others(anchors, z_a, cand, z_c, n, beta, state, rng, log_ratio)
        state.state[anchors] = states[:, -1]
        state.score[anchors] = scores[:, -1]
        t0 = int(np.floor(self.burn_in * states.shape[1]))
        return anchors, pos, states[:, t0:]

    @staticmethod
    def _advance_others(anchors, z_a, cand, z_c, n, beta, state: ChainState, rng, log_ratio):
        """``advance_all``: the chains of views seen before and not in the batch take the
        batch's views ``cand`` (in the sweep's order) as proposals (scores from
        ``state.bank``); then the bank takes ``z_a``."""
        if state.bank is None:
            state.bank = np.zeros((2 * n, z_a.shape[1]))
        seen = np.any(state.bank != 0.0, axis=1)
        seen[anchors] = False
        others = np.flatnonzero(seen)
        if others.size:
            allowed = ~_excluded(others, (others + n) % (2 * n), cand)
            prop = np.broadcast_to(cand, (others.size, cand.size))
            st, sc = mh_independence_sweep(state.state[others], state.score[others], prop, state.bank[others] @ z_c.T,
                                           allowed, beta, rng, log_ratio)
            state.state[others] = st[:, -1]
            state.score[others] = sc[:, -1]
        state.bank[anchors] = z_a

    def _weights(self, used):
        cand, inv = np.unique(used, return_inverse=True)
        a, T = used.shape
        flat = (np.arange(a)[:, None] * cand.size + inv.reshape(a, T)).ravel()
        W = np.bincount(flat, minlength=a * cand.size).reshape(a, cand.size) / T
        if cand.size and cand[0] < 0:  # a chain that has accepted nothing yet: no negative
            cand, W = cand[1:], W[:, 1:]
        return cand, W

    def estimate(self, batch, n, table, beta, state: ChainState, rng):
        _, _, used = self.sweep(batch, n, table, beta, state, rng)
        cand, W = self._weights(used)
        return _rows(batch, n, table, beta, W, cand)


@NEGATIVE_ESTIMATORS.register
@dataclass(frozen=True)
class ISDNegatives:
    """Phase-switching estimator: positive term w.p. ``b_pos`` (weight ``1/b_pos``), else the
    negative term from the EMC^2 chain (weight ``1/(1 - b_pos)``).  The chains advance on
    every step (the free-running sampler is always on); the phase is one draw per step."""

    b_pos: float = 0.5
    burn_in: float = 0.5
    refresh: bool = False
    advance_all: bool = False
    name = "isd"
    chain: EMC2Negatives = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not 0.0 < self.b_pos < 1.0:
            raise ConfigError(f"b_pos = {self.b_pos} must be in (0, 1)")
        object.__setattr__(self, "chain", EMC2Negatives(self.burn_in, self.refresh, self.advance_all))

    def init_state(self, n: int) -> ChainState:
        return self.chain.init_state(n)

    def needs(self, batch, n, state):
        return self.chain.needs(batch, n, state)

    def estimate(self, batch, n, table, beta, state: ChainState, rng):
        positive = rng.random() < self.b_pos
        _, _, used = self.chain.sweep(batch, n, table, beta, state, rng)
        cand, W = self.chain._weights(used)
        if positive:
            return _rows(batch, n, table, beta, W, cand, pos_weight=1.0 / self.b_pos, neg_weight=0.0)
        return _rows(batch, n, table, beta, W, cand, pos_weight=0.0, neg_weight=1.0 / (1.0 - self.b_pos))


def make_estimator(name: str, **params):
    """The registered estimator ``name`` with its hyper-parameters (``ConfigError`` if unknown)."""
    cls = NEGATIVE_ESTIMATORS[name]
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"estimator {name!r}: {exc}") from None


# ----------------------------------------------------------------------------------------
# Chains on a fixed embedding table (paper 002's sampler in isolation; issue point 1)
def table_targets(S: np.ndarray, anchors: np.ndarray, beta: float) -> np.ndarray:
    """Exact target laws ``pi_i(j) = exp(beta s_ij) / sum_{l != i} exp(beta s_il)``, ``j != i``,
    of the anchors ``anchors`` on a table with similarities ``S`` ``(n, n)``: ``(A, n)``."""
    logits = beta * np.asarray(S, dtype=float)[anchors]
    mask = np.zeros(logits.shape, dtype=bool)
    mask[np.arange(len(anchors)), anchors] = True
    return _softmax_masked(logits, mask)


def table_chain_marginals(S: np.ndarray, anchor: int, beta: float, steps: int,
                          log_ratio: Callable = mh_log_ratio) -> np.ndarray:
    """Exact marginal laws ``p_t`` (``t = 1..steps``) of one chain of anchor ``anchor`` on a
    fixed table with i.i.d. uniform proposals over the ``n`` rows (self rejected), started with
    no state (the first allowed proposal is accepted).  ``(steps, n)``; the mass not yet on
    a state (still unset) is ``1 - p_t.sum()``.

    Transition ``K(x, y) = (1/n) min(1, exp(log_ratio))`` for ``y != x, anchor``, ``K(x, x)`` the
    rest: the independence Metropolis-Hastings kernel whose stationary law is
    :func:`table_targets` (Mengersen & Tweedie 1996: ``TV(p_t, pi) <= (1 - w)^t`` from any start,
    ``w = min_j (1/n) / pi(j)``).
    """
    s = np.asarray(S, dtype=float)[anchor]
    n = s.size
    with np.errstate(over="ignore"):
        A = np.minimum(1.0, np.exp(log_ratio(beta, s[None, :], s[:, None]))) / n
    A[:, anchor] = 0.0
    np.fill_diagonal(A, 0.0)
    K = A + np.diag(1.0 - A.sum(axis=1))
    p = np.zeros(n)
    unset = 1.0
    out = np.empty((steps, n))
    first = np.full(n, 1.0 / n)
    first[anchor] = 0.0
    for t in range(steps):
        p = p @ K + unset * first
        unset *= 1.0 / n
        out[t] = p
    return out


def run_table_chains(S: np.ndarray, anchors: np.ndarray, replicas: int, steps: int, beta: float,
                     rng: np.random.Generator, log_ratio: Callable = mh_log_ratio, record=None):
    """Run ``replicas`` independent chains per anchor on a fixed table with i.i.d. uniform
    proposals over the ``n`` rows, with :func:`mh_independence_sweep` (the sampler EMC^2 uses).

    Returns ``{t: states (A, replicas)}`` at the proposal counts ``record`` (default: the last).
    """
    S = np.asarray(S, dtype=float)
    n = S.shape[0]
    anchors = np.asarray(anchors, dtype=np.int64)
    record = sorted({steps} if record is None else set(int(t) for t in record))
    a_rep = np.repeat(anchors, replicas)
    state = np.full(a_rep.size, -1, dtype=np.int64)
    score = np.full(a_rep.size, -np.inf)
    out, done = {}, 0
    for t in record:
        P = t - done
        if P > 0:
            prop = rng.integers(0, n, size=(a_rep.size, P))
            states, scores = mh_independence_sweep(state, score, prop, S[a_rep[:, None], prop],
                                                   prop != a_rep[:, None], beta, rng, log_ratio)
            state, score, done = states[:, -1], scores[:, -1], t
        out[t] = state.reshape(anchors.size, replicas).copy()
    return out


def empirical_laws(states: np.ndarray, n: int) -> np.ndarray:
    """Row-wise empirical laws over ``0..n-1`` of ``states`` ``(A, R)`` (unset ``-1`` dropped)."""
    A, R = states.shape
    out = np.zeros((A, n))
    for a in range(A):
        s = states[a]
        out[a] = np.bincount(s[s >= 0], minlength=n) / R
    return out
