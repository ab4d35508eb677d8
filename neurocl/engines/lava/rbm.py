"""An RBM as a Lava network: two :class:`GibbsUnits` layers, ``Dense`` (deployment) or
``LearningSparse`` (on-chip ISD) connections both ways, and a :class:`PhaseProcess`.

Block Gibbs sampling through Lava's one-step ``Dense`` delay: the visible layer resamples on
even steps from the hidden state of the step before, the hidden layer on odd steps from the
visible state of the step before (``GibbsUnits.block``), so two Lava time steps are one Gibbs
sweep of ``dt`` ms and the chain's stationary law is the RBM's Boltzmann law.

On-chip ISD (Williams et al. 2023, Eq. 6) uses ``Loihi3FLearningRule`` with post-synaptic
learning neurons: the third factor (phase) reaches the synapse as the ``y2`` (positive) and
``y3`` (negative phase) traces the post-synaptic neuron sends each step, because Lava's
a learning connection receives ``y1..y3`` from the post-synaptic neuron and a product needs a
dependency (``x0``) -- the broadcast-modulation alternative (``Loihi2FLearningRule``) has no
signed per-phase factor.  The RBM needs ``W`` in both directions; Loihi has no transposed
read, so two learning connections apply the same rule (pre and post swapped); their
stochastic rounding draws from identically seeded generators (Lava's default), so the copies
stay exact transposes (checked in the tests).

Replicas share one pair of unit processes; their connections are block-diagonal.  With
learning they are ``LearningSparse`` with every in-block synapse defined (also at weight 0)
and none across replicas: a dense learning matrix would grow cross-replica synapses, since
the rule applies to every pre/post pair.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag
from scipy.sparse import csr_matrix

from neurocl.engines.lava.fixed_point import isd_scaling, shift_for_scale, weight_to_int

__all__ = ["build_rbm"]


def _blocks(M, R):
    return block_diag(*([M] * R)) if np.ndim(M) == 2 else block_diag(*M)


def block_sparse(M) -> csr_matrix:
    """Block-diagonal CSR matrix of the blocks ``M`` (shape ``(R, rows, cols)``) with every
    in-block entry stored, zeros included (a defined synapse of weight 0)."""
    M = np.asarray(M)
    R, rows, cols = M.shape
    r = np.arange(R)[:, None, None] * rows + np.arange(rows)[None, :, None]
    c = np.arange(R)[:, None, None] * cols + np.arange(cols)[None, None, :]
    r, c = np.broadcast_arrays(r, c)
    out = csr_matrix((M.reshape(-1), (r.reshape(-1), c.reshape(-1))), shape=(R * rows, R * cols))
    out.sort_indices()
    return out


def dense_weights(conn, var: str = "weights") -> np.ndarray:
    """The weight matrix (or another synaptic variable ``var``: ``"tag_1"``, the tag ``t``;
    ``"tag_2"``, the delay ``d``) of a ``Dense``/``Sparse`` (learning or not) process as a float array.

    For sparse weights the stored values are read from the runtime and placed on the stored
    entries, zeros included (Lava 0.10's ``Var.get`` places them on the nonzero entries of
    the initial matrix only, which mismatches when a synapse starts at weight 0).
    """
    var = getattr(conn, var)
    if not isinstance(var.init, csr_matrix):
        return np.asarray(var.get(), float)
    if var.process.runtime is None:            # not run yet
        return var.init.toarray().astype(float)
    from lava.utils.sparse import find

    rows, cols, _ = find(var.init, explicit_zeros=True)
    values = np.asarray(var.process.runtime.get_var(var.id, None), float).reshape(-1)
    return csr_matrix((values, (rows, cols)), shape=var.init.shape).toarray()


def _diagonal_blocks(net, M):
    R = net["vis"].proc_params["replicas"]
    nv, nh = net["vis"].proc_params["n"], net["hid"].proc_params["n"]
    return np.stack([M[r * nh:(r + 1) * nh, r * nv:(r + 1) * nv].T for r in range(R)])


def read_params(net, tag: str, weight_scale: float):
    """The replicas' ``W`` (``(R, nv, nh)``), ``a``, ``c`` (network units) of a running
    :func:`build_rbm` network (the ``W_vh`` copy's diagonal blocks, the units' biases).

    ``W`` is the weight the network uses (the integer weight in ``fixed_pt``); with a tag
    accumulator (``accumulator_bits > 0``) the tag it has not carried yet is returned apart as
    ``tag`` (integer tag units, ``2^-m`` integer weights each)."""
    from neurocl.engines.lava.fixed_point import int_to_weight

    R = net["vis"].proc_params["replicas"]
    nv, nh = net["vis"].proc_params["n"], net["hid"].proc_params["n"]
    W = _diagonal_blocks(net, dense_weights(net["fwd"]))
    out = {"W": int_to_weight(W, weight_scale) if tag == "fixed_pt" else W,
           "a": np.asarray(net["vis"].bias.get(), float).reshape(R, nv),
           "c": np.asarray(net["hid"].bias.get(), float).reshape(R, nh)}
    if net.get("accumulator_bits"):
        out["tag"] = _diagonal_blocks(net, dense_weights(net["fwd"], "tag_1"))
    return out


def build_rbm(W, a, c, *, tag: str, weight_scale: float, seed: int, patterns=None, phases=None,
              step_ms: float = 1.0, presentation: float = 0.0, learning=None, record: int = 0,
              histogram: bool = False, burn_in: int = 0, accumulator_bits: int = 0):
    """Lava processes of ``R`` replicas of an RBM (``W`` of shape ``(R, nv, nh)``).

    ``learning``: ``{"eta": ms^-1, "dt": ms, "b": float}`` for on-chip ISD (needs ``patterns``
    and ``phases``); ``tag``: ``"fixed_pt"`` (integer weights on the profile's grid) or
    ``"floating_pt"``.  ``accumulator_bits = m > 0`` (``fixed_pt`` learning only): the ISD
    products accumulate in the synaptic tag in units of ``2^-m`` integer weights and whole
    steps are carried into the weight (:func:`~neurocl.engines.lava.fixed_point.tag_carry_rules`;
    the post-synaptic neurons send ``bap`` on every learning step as the clock of the carry
    register).  Returns a dict of the processes (``vis``, ``hid``, ``fwd``, ``bwd``, ``phase``),
    the ISD scaling used (``scaling``) and ``accumulator_bits``.
    """
    import neurocl.engines.lava.processes as P
    from lava.proc.dense.process import Dense
    from lava.proc.sparse.process import LearningSparse

    W = np.asarray(W, float)
    R, nv, nh = W.shape
    fixed = tag == "fixed_pt"
    m = int(accumulator_bits)
    if m and (not fixed or learning is None):
        from neurocl.errors import ConfigError

        raise ConfigError(f"accumulator_bits = {m}: a tag accumulator needs fixed_pt on-chip learning")
    out = {"scaling": None, "accumulator_bits": m}
    rules = None
    lv = lh = None
    rule = None
    if learning is not None:
        from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

        eta_dt = learning["eta"] * learning["dt"]
        b = learning["b"]
        if fixed:
            sc = isd_scaling(learning["eta"], learning["dt"], b, weight_scale, accumulator_bits=m)
            out["scaling"] = sc
            ys = {"y1": sc.Y, "y2": 8 * sc.P, "y3": 8 * sc.N}
            rules, b = sc.rules, sc.b
            eta_dt = sc.eta * learning["dt"]
        else:
            ys = {"y1": 1.0, "y2": eta_dt / b, "y3": eta_dt / (1 - b)}
            rules = {"dw": "x0 * y1 * y2 - x0 * y1 * y3"}
        lv = dict(ys, eta_dt=eta_dt, b=b, clock=bool(m))
        lh = dict(lv)
        rule = Loihi3FLearningRule(**rules, t_epoch=1)
    clamped = patterns is not None
    vis = P.GibbsUnits(n=nv, replicas=R, bias=np.asarray(a, float).reshape(-1), block=0, clamped=clamped,
                       learning=lv, record=record, histogram=histogram, start=burn_in, seed=seed * 1000 + 1, name="visible")
    hid = P.GibbsUnits(n=nh, replicas=R, bias=np.asarray(c, float).reshape(-1), block=1, learning=lh,
                       record=record, start=burn_in, seed=seed * 1000 + 2, name="hidden")
    Wf, Wb = np.swapaxes(W, 1, 2), W                  # blocks of (R nh, R nv) and (R nv, R nh)
    kw = {}
    if fixed:
        Wf, Wb = weight_to_int(Wf, weight_scale), weight_to_int(Wb, weight_scale)
        kw = {"weight_exp": shift_for_scale(weight_scale), "num_weight_bits": 8}
    if rule is None:
        fwd, bwd = Dense(weights=_blocks(Wf, R), name="W_vh", **kw), Dense(weights=_blocks(Wb, R), name="W_hv", **kw)
    else:
        if m:   # tags stored on every in-block synapse (zeros included), like the weights
            kw.update(tag_1=block_sparse(np.zeros(Wf.shape, np.int32)), tag_2=block_sparse(np.zeros(Wf.shape, np.int32)))
        fwd = LearningSparse(weights=block_sparse(Wf), learning_rule=rule, name="W_vh", **kw)
        if m:
            kw.update(tag_1=block_sparse(np.zeros(Wb.shape, np.int32)), tag_2=block_sparse(np.zeros(Wb.shape, np.int32)))
        bwd = LearningSparse(weights=block_sparse(Wb), learning_rule=Loihi3FLearningRule(**rules, t_epoch=1),
                             name="W_hv", **kw)
    vis.s_out.connect(fwd.s_in)
    fwd.a_out.connect(hid.a_in)
    hid.s_out.connect(bwd.s_in)
    bwd.a_out.connect(vis.a_in)
    if rule is not None:
        for post, conn in ((hid, fwd), (vis, bwd)):
            post.s_out_bap.connect(conn.s_in_bap)
            post.s_out_y1.connect(conn.s_in_y1)
            post.s_out_y2.connect(conn.s_in_y2)
            post.s_out_y3.connect(conn.s_in_y3)
    phase = None
    if clamped:
        phase = P.PhaseProcess(replicas=R, patterns=patterns, b=phases.b, law=phases.length, step_ms=step_ms / 2,
                               presentation=presentation, n_hidden=nh, seed=seed * 1000 + 3,
                               record=record, name="phases")
        phase.clamp_out.connect(vis.clamp_in)
        if rule is not None:
            phase.phase_out_v.connect(vis.phase_in)
            phase.phase_out_h.connect(hid.phase_in)
    out.update(vis=vis, hid=hid, fwd=fwd, bwd=bwd, phase=phase)
    return out
