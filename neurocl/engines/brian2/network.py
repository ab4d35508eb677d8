"""The Brian2 network of one run: phase process, unit groups, synapses; stepped between checkpoints.

One builder per circuit kind (:data:`BUILDERS`, keyed by ``circuit.kind``) makes the unit
groups of the circuit's layers and says how they are wired (:class:`Units`); everything else
(the phase process, the synapses with their plasticity and device code, reading parameters
back, divergence, rasters, free-running samples) is shared.  The code strings come from
:mod:`neurocl.engines.brian2.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import neurocl.engines.brian2.model as model
from neurocl.engines.loop import run_checkpointed
from neurocl.errors import ConfigError, DivergenceError
from neurocl.schema import Registry

__all__ = ["Brian2Network", "Units", "BUILDERS", "data_columns", "check_task", "block_pairs", "flat_index",
           "init_devices"]

#: circuit kind -> ``build(net, circuit, state0) -> Units`` (the circuit's unit groups and wiring)
BUILDERS = Registry("circuit kind (Brian2 network builder)")


@dataclass
class Units:
    """What a circuit builder returns: its unit groups and how the synapses wire them.

    ``groups``: layer name -> ``NeuronGroup`` (replica-major, all replicas in one group);
    ``biases``: parameter key -> the group whose ``bias`` it is; ``pre``/``post``: the groups
    the one ``Synapses`` object connects, at indices ``pairs``; ``w_index``: the position of
    each synapse in the flattened ``params["W"]`` (``(R, n_pre, n_post)``); ``two_way``: one
    synapse per undirected pair carries the field both ways (bipartite), else every directed
    pair has its own synapse; ``post_stat``: the postsynaptic factor of the ISD update.
    """

    groups: dict
    biases: dict
    pre: object
    post: object
    pairs: tuple
    w_index: np.ndarray
    two_way: bool
    post_stat: str


def block_pairs(R, n_pre, n_post, exclude_self=False):
    """Synapse indices of ``R`` block-diagonal all-to-all projections (row-major per replica)."""
    r, i, j = np.meshgrid(np.arange(R), np.arange(n_pre), np.arange(n_post), indexing="ij")
    keep = (i != j) if exclude_self else np.ones_like(i, bool)
    return (r * n_pre + i)[keep], (r * n_post + j)[keep]


def flat_index(R, n_pre, n_post, exclude_self):
    """Positions in a flattened ``(R, n_pre, n_post)`` array of the synapses of :func:`block_pairs`."""
    r, i, j = np.meshgrid(np.arange(R), np.arange(n_pre), np.arange(n_post), indexing="ij")
    flat = (r * n_pre + i) * n_post + j
    keep = (i != j) if exclude_self else np.ones_like(i, bool)
    return flat[keep]


@BUILDERS.register("rbm")
def build_rbm_units(net, circuit, state0) -> Units:
    """Visible and hidden layers (block updates: hidden after visible), bipartite synapses."""
    nv, nh, R = circuit.n_visible, circuit.n_hidden, net.R
    vis = net.unit_group("v", nv, "visible", order=10, bias="a", stat="s", state0=state0)
    hid = net.unit_group("h", nh, "hidden", order=20, bias="c", stat="m", state0=state0)
    return Units(groups={"v": vis, "h": hid}, biases={"a": vis, "c": hid}, pre=vis, post=hid,
                 pairs=block_pairs(R, nv, nh), w_index=flat_index(R, nv, nh, False), two_way=True,
                 post_stat="m_post")


@BUILDERS.register("boltzmann")
def build_bm_units(net, circuit, state0) -> Units:
    """One layer of coupled units (random scan), a synapse per ordered pair (``W = W^T`` kept
    because both synapses of a pair get the same update)."""
    n, R = circuit.n_units, net.R
    units = net.unit_group("s", n, "units", order=10, bias="a", stat="s", state0=state0)
    return Units(groups={"s": units}, biases={"a": units}, pre=units, post=units,
                 pairs=block_pairs(R, n, n, exclude_self=True), w_index=flat_index(R, n, n, True),
                 two_way=False, post_stat="s_post")


def data_columns(circuit) -> np.ndarray:
    """Indices, in the data layer, of the units a positive phase clamps (``circuit.clamp_units``;
    ``None``: the whole layer)."""
    if circuit.clamp_units is not None:
        return np.asarray(circuit.clamp_units, dtype=int)
    width = circuit.init_state(np.random.default_rng(0), 1)[circuit.data_layer].shape[1]
    return np.arange(width)


def check_task(circuit, task) -> None:
    """Raise :class:`ConfigError` before any Brian2 object is built if ``task.clamp`` does not
    fit the circuit's clamped units (``k`` columns: the first ``k`` of them)."""
    n_data = len(data_columns(circuit))
    width = np.shape(task.clamp)[1] if np.ndim(task.clamp) == 2 else None
    if width is None or not 1 <= width <= n_data:
        raise ConfigError(f"task.clamp: shape {np.shape(task.clamp)} must be (n_patterns, k) with "
                          f"1 <= k <= {n_data} (the circuit's data units)")


def scan_units(circuit) -> int:
    """Units resampled one at a time (random scan): the circuit's Glauber blocks of single
    units (coupled units); 0 when every block is a whole layer (conditionally independent)."""
    return sum(1 for _, index in circuit.glauber_blocks() if index is not None)


def init_devices(syn, profile, W0, rng):
    """Device-to-device draws and the stored device weights (``neurocl.hardware.device``)."""
    from neurocl.hardware.device import draw_device_params

    dev = draw_device_params(profile, W0.shape, rng)
    wd = np.clip(W0 / profile.weight_scale, dev.w_min, dev.w_max)
    if profile.weight_bits:
        wd = np.clip(np.round(wd / profile.quantum) * profile.quantum, profile.w_min, profile.w_max)
    wd = np.where(dev.stuck, dev.stuck_to, wd)
    syn.Wd = wd
    syn.step_scale, syn.ud, syn.w_lo, syn.w_hi = dev.step_scale, dev.up_down, dev.w_min, dev.w_max
    syn.stuck, syn.stuck_to = dev.stuck.astype(float), dev.stuck_to
    read = wd
    if profile.weight_bits:
        read = np.clip(np.round(wd / profile.quantum) * profile.quantum, profile.w_min, profile.w_max)
    syn.W = profile.weight_scale * read


class Brian2Network:
    """Builds the Brian2 objects of one run and steps them between checkpoints (thin state).

    ``spiking_code``: the function making the update code of spiking units (a class
    attribute so that test-only subclasses can swap in a deliberately wrong sampler).
    """

    spiking_code = staticmethod(model.spiking_update_code)

    def __init__(self, circuit, rule, phases, task, sim, options, profile, params):
        import brian2 as b2

        self.b2, self.circuit, self.task, self.sim, self.options = b2, circuit, task, sim, options
        b2.prefs.codegen.target = options.target
        b2.prefs.logging.std_redirection = False
        b2.seed(sim.seed)
        rng_init = np.random.default_rng([sim.seed, 0])
        rng_dev = np.random.default_rng([sim.seed, 2])
        self.params = params if params is not None else circuit.init_params(rng_init, sim.replicas)
        state0 = circuit.init_state(rng_init, sim.replicas)
        R, dt = sim.replicas, sim.dt * b2.ms
        self.R, self.dt = R, dt
        self.spiking = options.units == "spiking"
        self.rule = rule
        device = profile is not None and not profile.is_ideal

        clamp = np.asarray(task.clamp, dtype=float)
        cols = data_columns(circuit)[: clamp.shape[1]]
        n_layer = state0[circuit.data_layer].shape[1]
        table = np.zeros((len(clamp), n_layer))
        table[:, cols] = clamp
        self.clampable = np.isin(np.arange(n_layer), cols).astype(float)
        ns = {"eta_dt": rule.learning_rate * sim.dt,
              "patterns": b2.TimedArray(table, dt=1 * b2.ms, name="patterns"), "ms": b2.ms, "second": b2.second}
        if device:
            ns.update(model.device_constants(profile))
        self.ns = ns

        self.phase = b2.NeuronGroup(R, model.PHASE_EQUATIONS, dt=dt, name="phase_process", namespace=ns)
        self.phase.t_next = 0.0   # ms
        self.phase.t_fresh = -1e12
        self.phase.z = 0
        self.n_scan = scan_units(circuit)
        p_scan = 1.0 - np.exp(-self.n_scan * sim.dt / circuit.tau_n) if self.n_scan else 0.0
        self.phase.run_regularly(model.phase_process_code(phases, task.presentation, len(clamp), self.n_scan, p_scan),
                                 when="start", order=0, name="phase_update")

        units = BUILDERS[circuit.kind](self, circuit, state0)
        eqs = "W : 1\nu_post = W*s_pre : 1 (summed)\n"
        if units.two_way:
            eqs += "u_pre = W*s_post : 1 (summed)\n"
        if device:
            eqs += model.DEVICE_EQUATIONS
        syn = b2.Synapses(units.pre, units.post, eqs, dt=dt, name="synapses", namespace=ns)
        syn.connect(i=units.pairs[0], j=units.pairs[1])
        W0 = self.params["W"].reshape(-1)[units.w_index]
        if device:
            init_devices(syn, profile, W0, rng_dev)
        else:
            syn.W = W0
        syn.run_regularly(model.plasticity_code(units.post_stat, profile), when="groups", order=30, name="isd")
        self.units, self.syn, self.groups = units, syn, units.groups
        self.data = units.groups[circuit.data_layer]
        self.net = b2.Network(self.phase, syn, *self.groups.values())

    def unit_group(self, layer, n, name, order, bias, stat, state0):
        """The ``NeuronGroup`` of layer ``layer`` (``n`` units per replica): Glauber or spiking
        units, clamped to the data pattern in positive phases if it is the data layer, with
        bias ``params[bias]`` learned by ISD with statistic ``stat`` (``"s"`` or ``"m"``)."""
        b2, R = self.b2, self.R
        clamped = layer == self.circuit.data_layer
        scan = self.n_scan > 0
        eqs = model.SPIKING_EQUATIONS if self.spiking else model.UNIT_EQUATIONS
        if clamped:
            eqs += "\npattern : 1 (linked)\nclampable : 1 (constant)\n"
        if scan:
            eqs += "\nscan_idx : 1 (linked)\n"
        g = b2.NeuronGroup(R * n, eqs, dt=self.dt, name=name, namespace=self.ns, order=order)
        g.replica = np.repeat(np.arange(R), n)
        g.i_local = np.tile(np.arange(n), R)
        for var in ("z", "wphase") + (("pattern",) if clamped else ()):
            setattr(g, var, b2.linked_var(self.phase, var, index=np.repeat(np.arange(R), n)))
        if scan:
            g.scan_idx = b2.linked_var(self.phase, "scan", index=np.repeat(np.arange(R), n))
        if clamped:
            g.clampable = np.tile(self.clampable, R)
        g.bias = self.params[bias].reshape(-1)
        g.diverged_at = -1.0
        if self.spiking:
            code = self.spiking_code(self.options.psp_steps, clamped, stat, self.rule.mean_field)
        else:
            p_res = 1.0 - np.exp(-self.sim.dt / self.circuit.tau_n)
            code = model.glauber_update_code(p_res, clamped, stat, self.rule.mean_field, scan=scan)
        if clamped:
            code = "data_value = patterns(pattern*ms, i_local)\n" + code
        g.run_regularly(code, when="groups", order=order, name=name + "_update")
        if self.spiking:
            g.zeta = state0[layer].reshape(-1)
        g.s = state0[layer].reshape(-1)
        return g

    # ------------------------------------------------------------------ reading back
    def read_params(self):
        """Current parameters, shaped like ``circuit.init_params`` (replica axis first), in place."""
        W = np.zeros(self.params["W"].size)
        W[self.units.w_index] = np.asarray(self.syn.W[:])
        self.params["W"][:] = W.reshape(self.params["W"].shape)
        for key, g in self.units.biases.items():
            self.params[key][:] = np.asarray(g.bias[:]).reshape(self.R, -1)
        return self.params

    def check_divergence(self, k_end):
        """Raise :class:`DivergenceError` at the first step a field became non-finite."""
        for name, g in self.groups.items():
            at = np.asarray(g.diverged_at[:])
            if (at >= 0).any():
                t = float(at[at >= 0].min())
                raise DivergenceError(f"field of layer '{name}' (weights or state)", t,
                                      int(round(t / self.sim.dt)))
        if not np.isfinite(np.asarray(self.syn.W[:])).all():
            raise DivergenceError("W", k_end * self.sim.dt, k_end)

    # ------------------------------------------------------------------ running
    def _record_window(self, label, n_steps):
        """Run ``n_steps`` recording replica 0's units (states or spikes) and phase sign."""
        b2 = self.b2
        var = "spiked" if self.spiking else "s"
        mons = {"phase": b2.StateMonitor(self.phase, "z", record=[0], name=f"phase_{label}")}
        for name, g in self.groups.items():
            mons[name] = b2.StateMonitor(g, var, record=list(range(len(g) // self.R)), name=f"{name}_{label}")
        self.net.add(*mons.values())
        self.net.run(n_steps * self.dt, namespace={})
        out = {"t_ms": np.asarray(mons["phase"].t / b2.ms), "z": np.asarray(mons["phase"].z[0])}
        for name in self.groups:
            out[name] = np.asarray(getattr(mons[name], var))
        self.net.remove(*mons.values())
        return out

    def sample(self, burn_in):
        """Run ``burn_in`` steps, then record the data layer every step for ``sim.duration``:
        ``(n_steps, R, n)``."""
        b2 = self.b2
        self.net.run(burn_in * self.dt, namespace={})
        mon = b2.StateMonitor(self.data, "s", record=True, name="samples", dt=self.dt, when="end")
        self.net.add(mon)
        self.net.run(self.sim.n_steps * self.dt, namespace={})
        self.check_divergence(burn_in + self.sim.n_steps)
        return np.asarray(mon.s).T.reshape(-1, self.R, len(self.data) // self.R)

    def run(self, progress=False, desc=""):
        """Learn for ``sim.duration`` through :func:`~neurocl.engines.loop.run_checkpointed`
        (one ``Network.run`` per checkpoint interval; parameters read back before each
        evaluation).  ``info["raster"]``: replica 0's units and phase sign in the first and
        the last ``options.record`` ms (where a checkpoint interval is that long)."""
        sim = self.sim
        n_total = sim.n_steps
        rec = int(round(self.options.record / sim.dt))
        raster = {}

        def advance(k0, K):
            k, end = k0, k0 + K
            if rec and k0 == 0 and K >= rec:
                raster["start"] = self._record_window("start", rec)
                k += rec
            tail = rec if (rec and end == n_total and end - k >= rec) else 0
            if end - tail > k:
                self.net.run((end - tail - k) * self.dt, namespace={})
            if tail:
                raster["end"] = self._record_window("end", rec)
            self.check_divergence(end)

        return run_checkpointed(sim, self.task, self.params, advance, progress=progress, desc=desc,
                                block=max(1, n_total), sync=self.read_params,
                                info=lambda: {"raster": raster, "units": self.options.units})
