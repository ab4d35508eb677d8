"""The Brian2 engine: a circuit spec runs as a Brian2 network (Stimberg, Brette & Goodman 2019).

* Units: ``NeuronGroup``s of stochastic binary units with continuous-time Glauber resampling
  (``units = "glauber"``), or spiking units doing neural sampling (``units = "spiking"``:
  Buesing et al. 2011, refractory spiking units with rectangular PSPs of ``psp_steps``
  steps).  Neural sampling is chosen over LIF neurons in a high-noise regime because its
  stationary law is *exactly* the Boltzmann law (the LIF approximation needs a fitted
  activation function and is biased), so the engines can be compared to the exact
  distribution.
* Phase process: a ``NeuronGroup`` with one neuron per replica whose shared state (sign
  ``z``, modulatory factor ``wphase``, data pattern) is linked into the unit groups; it
  clamps the data layer and sets the third factor.
* Plasticity: ISD as a three-factor rule on ``Synapses`` (pre x post x phase weight),
  always on; hardware profiles act inside the synaptic update code
  (:func:`~neurocl.engines.brian2.model.plasticity_code`).
* Replicas: block-diagonal copies in the same groups (one network, one code object per
  operation).

The equations and update code live in :mod:`neurocl.engines.brian2.model`; this module builds
and runs the network with the chosen code generation ``target`` (``"numpy"``: no compilation;
``"cython"``: compiled once, cached in ``~/.cython/brian_extensions``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits import BoltzmannMachine
from neurocl.engines import register
from neurocl.engines.base import Checkpoints, Simulation, Task, Trajectory
from neurocl.engines.brian2 import model
from neurocl.errors import ConfigError, DivergenceError, UnsupportedFeatureError
from neurocl.plasticity import ISD
from neurocl.validate import non_negative, one_of, positive_int

__all__ = ["Brian2Engine", "Brian2Options"]


@dataclass(frozen=True)
class Brian2Options:
    """Options of the Brian2 engine (``[engine]`` table of a circuit spec).

    Parameters
    ----------
    units : {"glauber", "spiking"}
        Stochastic binary units, or neural-sampling spiking units (RBMs only).
    psp_steps : int
        Spiking units: refractory period and rectangular PSP length in integration steps.
    target : {"numpy", "cython"}
        Brian2 code generation target.
    record : float
        Length (ms) of the raster recorded at the start and at the end of learning (0: none).
    """

    units: str = "glauber"
    psp_steps: int = 5
    target: str = "cython"
    record: float = 200.0

    def __post_init__(self):
        one_of("units", self.units, {"glauber", "spiking"})
        object.__setattr__(self, "psp_steps", positive_int("psp_steps", self.psp_steps))
        one_of("target", self.target, {"numpy", "cython"})
        object.__setattr__(self, "record", non_negative("record", self.record))


@register("brian2")
class Brian2Engine:
    """Runs RBMs (Glauber or spiking units) and fully connected Boltzmann machines (Glauber,
    random scan) with ISD on Brian2; every phase law with an integer gamma shape."""

    supports = {
        "circuits": ("rbm", "boltzmann"),
        "rules": ("isd",),
        "phases": ("alternating", "fixed", "exponential", "gamma (integer shape)", "uniform"),
    }

    def __init__(self, **options):
        self.options = Brian2Options(**options)

    def run(self, circuit, rule, phases, task: Task, sim: Simulation, params=None,
            progress: bool = False, desc: str = "", profile=None, **_ignored) -> Trajectory:
        """Simulate ``sim.duration`` ms of always-on learning on Brian2; evaluate at checkpoints.

        Same contract as :meth:`neurocl.engines.numpy.NumpyEngine.run`; ``info["raster"]``
        holds the recorded unit states/spikes and phases of replica 0 (``record`` ms at the
        start and at the end).
        """
        self._check(circuit, rule, profile, phases, task)
        net = _Brian2Network(circuit, rule, phases, task, sim, self.options, profile, params)
        return net.run(progress, desc)

    def free_run(self, circuit, params, sim: Simulation, burn_in: int = 500) -> np.ndarray:
        """Free-running samples of the data layer: ``(n_steps, R, n)`` array of unit states.

        No clamping and no plasticity: the stationary law is the circuit's Boltzmann law
        (``exp(-E)/Z``, marginalised over hidden units), which tests compare to the exact
        distribution.  ``burn_in`` steps are simulated first and discarded.
        """
        task = Task(clamp=np.zeros((1, getattr(circuit, "n_visible", 1))))
        self._check(circuit, ISD(1.0), None, None, task)
        net = _Brian2Network(circuit, ISD(1.0), None, task, sim, self.options, None, params)
        return net.sample(burn_in)

    def _check(self, circuit, rule, profile, phases, task):
        """Raise before any Brian2 object is built: unsupported features, mis-shaped data."""
        if circuit.kind not in self.supports["circuits"]:
            raise UnsupportedFeatureError(self.name, f"circuit '{circuit.kind}'")
        if not isinstance(rule, ISD):
            raise UnsupportedFeatureError(self.name, f"rule '{getattr(rule, 'name', rule)}' (Brian2 runs ISD: "
                                                     "always-on plasticity stores nothing across phases)")
        if isinstance(circuit, BoltzmannMachine):
            if self.options.units == "spiking":
                raise UnsupportedFeatureError(self.name, "spiking units on a fully connected Boltzmann machine")
            if profile is not None and not profile.is_ideal:
                raise UnsupportedFeatureError(self.name, "hardware profiles on a fully connected Boltzmann "
                                                         "machine (device noise would break W = W^T)")
        if phases is not None:
            model.phase_process_code(phases, task.presentation, 1)
        if profile is not None and not profile.is_ideal:
            model.plasticity_code("m_post", profile)
        n_data = circuit.n_units if isinstance(circuit, BoltzmannMachine) else circuit.n_visible
        width = np.shape(task.clamp)[1] if np.ndim(task.clamp) == 2 else None
        if width is None or width > n_data:
            raise ConfigError(f"task.clamp: shape {np.shape(task.clamp)} must be (n_patterns, k) with "
                              f"1 <= k <= {n_data} (the circuit's data units)")


def _block_pairs(R, n_pre, n_post, exclude_self=False):
    """Synapse indices of ``R`` block-diagonal all-to-all projections (row-major per replica)."""
    r, i, j = np.meshgrid(np.arange(R), np.arange(n_pre), np.arange(n_post), indexing="ij")
    keep = (i != j) if exclude_self else np.ones_like(i, bool)
    return (r * n_pre + i)[keep], (r * n_post + j)[keep]


class _Brian2Network:
    """Builds the Brian2 objects of one run and steps them between checkpoints (thin state)."""

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
        bm = isinstance(circuit, BoltzmannMachine)
        clamp = np.asarray(task.clamp, dtype=float)
        n_data = circuit.n_units if bm else circuit.n_visible
        table = np.zeros((len(clamp), n_data))
        table[:, : clamp.shape[1]] = clamp
        ns = {"eta_dt": rule.learning_rate * sim.dt,
              "patterns": b2.TimedArray(table, dt=1 * b2.ms, name="patterns"), "ms": b2.ms, "second": b2.second}
        if profile is not None and not profile.is_ideal:
            ns.update(model.device_constants(profile))
        self.ns = ns

        self.phase = b2.NeuronGroup(R, model.PHASE_EQUATIONS, dt=dt, name="phase_process", namespace=ns)
        self.phase.t_next = 0.0   # ms
        self.phase.t_fresh = -1e12
        self.phase.z = 0
        n_scan = circuit.n_units if bm else 0
        p_scan = 1.0 - np.exp(-n_scan * sim.dt / circuit.tau_n) if bm else 0.0
        self.phase.run_regularly(model.phase_process_code(phases, task.presentation, len(clamp), n_scan, p_scan),
                                 when="start", order=0, name="phase_update")
        spiking = options.units == "spiking"
        p_res = 1.0 - np.exp(-sim.dt / circuit.tau_n)
        mean_field = rule.mean_field

        def group(n, name, order, clamped, bias_key, learn, stat):
            eqs = model.SPIKING_EQUATIONS if spiking else model.UNIT_EQUATIONS
            if clamped:
                eqs += "\npattern : 1 (linked)\nclampable : 1 (constant)\n"
            if bm:
                eqs += "\nscan_idx : 1 (linked)\n"
            g = b2.NeuronGroup(R * n, eqs, dt=dt, name=name, namespace=ns, order=order)
            g.replica = np.repeat(np.arange(R), n)
            g.i_local = np.tile(np.arange(n), R)
            for var in ("z", "wphase") + (("pattern",) if clamped else ()):
                setattr(g, var, b2.linked_var(self.phase, var, index=np.repeat(np.arange(R), n)))
            if bm:
                g.scan_idx = b2.linked_var(self.phase, "scan", index=np.repeat(np.arange(R), n))
            if clamped:
                g.clampable = (g.i_local[:] < clamp.shape[1]).astype(float)
            g.bias = self.params[bias_key].reshape(-1)
            g.diverged_at = -1.0
            if spiking:
                code = model.spiking_update_code(options.psp_steps, clamped, stat if learn else None, mean_field)
            else:
                code = model.glauber_update_code(p_res, clamped, stat if learn else None, mean_field, scan=bm)
            if clamped:
                code = "data_value = patterns(pattern*ms, i_local)\n" + code
            g.run_regularly(code, when="groups", order=order, name=name + "_update")
            return g

        if bm:
            s0 = state0["s"].reshape(-1)
            units = group(circuit.n_units, "units", 10, True, "a", True, "s")
            units.s = s0
            pre, post = _block_pairs(R, circuit.n_units, circuit.n_units, exclude_self=True)
            syn = b2.Synapses(units, units, "W : 1\nu_post = W*s_pre : 1 (summed)", dt=dt, name="synapses",
                              namespace=ns)
            syn.connect(i=pre, j=post)
            syn.W = self.params["W"].reshape(-1)[_flat_index(R, circuit.n_units, circuit.n_units, True)]
            syn.run_regularly(model.plasticity_code("s_post"), when="groups", order=30, name="isd")
            self.groups = {"s": units}
            self.visible = units
        else:
            nv, nh = circuit.n_visible, circuit.n_hidden
            vis = group(nv, "visible", 10, True, "a", True, "s")
            hid = group(nh, "hidden", 20, False, "c", True, "m")
            if spiking:
                vis.zeta = state0["v"].reshape(-1)
                hid.zeta = state0["h"].reshape(-1)
            vis.s, hid.s = state0["v"].reshape(-1), state0["h"].reshape(-1)
            eqs = "W : 1\nu_post = W*s_pre : 1 (summed)\nu_pre = W*s_post : 1 (summed)\n"
            if profile is not None and not profile.is_ideal:
                eqs += model.DEVICE_EQUATIONS
            syn = b2.Synapses(vis, hid, eqs, dt=dt, name="synapses", namespace=ns)
            pre, post = _block_pairs(R, nv, nh)
            syn.connect(i=pre, j=post)
            W0 = self.params["W"].reshape(-1)
            if profile is not None and not profile.is_ideal:
                _init_devices(syn, profile, W0, rng_dev)
            else:
                syn.W = W0
            syn.run_regularly(model.plasticity_code("m_post", profile), when="groups", order=30, name="isd")
            self.groups = {"v": vis, "h": hid}
            self.visible = vis
        self.syn = syn
        self.objects = [self.phase, syn, *self.groups.values()]
        self.net = b2.Network(*self.objects)
        self.monitors = {}

    def _read_params(self):
        """Current parameters, shaped like ``circuit.init_params`` (replica axis first)."""
        c, R = self.circuit, self.R
        W = np.asarray(self.syn.W[:])
        if isinstance(c, BoltzmannMachine):
            full = np.zeros((R, c.n_units, c.n_units))
            full.reshape(-1)[_flat_index(R, c.n_units, c.n_units, True)] = W
            self.params["W"][:] = full
            self.params["a"][:] = np.asarray(self.groups["s"].bias[:]).reshape(R, -1)
        else:
            self.params["W"][:] = W.reshape(R, c.n_visible, c.n_hidden)
            self.params["a"][:] = np.asarray(self.groups["v"].bias[:]).reshape(R, -1)
            self.params["c"][:] = np.asarray(self.groups["h"].bias[:]).reshape(R, -1)
        return self.params

    def _divergence(self, k_end):
        for name, g in self.groups.items():
            at = np.asarray(g.diverged_at[:])
            if (at >= 0).any():
                t = float(at[at >= 0].min())
                raise DivergenceError(f"field of layer '{name}' (weights or state)", t,
                                      int(round(t / self.sim.dt)))
        for arr, what in ((self.syn.W[:], "W"),):
            if not np.isfinite(np.asarray(arr)).all():
                raise DivergenceError(what, k_end * self.sim.dt, k_end)

    def _monitor(self, label):
        b2 = self.b2
        mons = {"phase": b2.StateMonitor(self.phase, "z", record=[0], name=f"phase_{label}")}
        for name, g in self.groups.items():
            n = len(g) // self.R
            var = "spiked" if self.options.units == "spiking" else "s"
            mons[name] = b2.StateMonitor(g, var, record=list(range(n)), name=f"{name}_{label}")
        return mons

    def _record_window(self, label, n_steps):
        mons = self._monitor(label)
        self.net.add(*mons.values())
        self.net.run(n_steps * self.dt, namespace={})
        out = {"t_ms": np.asarray(mons["phase"].t / self.b2.ms), "z": np.asarray(mons["phase"].z[0])}
        var = "spiked" if self.options.units == "spiking" else "s"
        for name in self.groups:
            out[name] = np.asarray(getattr(mons[name], var))
        self.net.remove(*mons.values())
        return out

    def sample(self, burn_in):
        """Run ``burn_in`` steps, then record the data layer every step for ``sim.duration``."""
        b2 = self.b2
        self.net.run(burn_in * self.dt, namespace={})
        g = self.visible
        key = "s"
        mon = b2.StateMonitor(g, key, record=True, name="samples", dt=self.dt, when="end")
        self.net.add(mon)
        self.net.run(self.sim.n_steps * self.dt, namespace={})
        self._divergence(burn_in + self.sim.n_steps)
        n = len(g) // self.R
        return np.asarray(mon.s).T.reshape(-1, self.R, n)

    def run(self, progress, desc):
        from neurocl.engines.numpy import _progress

        sim = self.sim
        cp = Checkpoints(sim, self.task, self._read_params())
        steps = cp.steps
        cp.record(0)
        rec_steps = int(round(self.options.record / sim.dt))
        raster = {}
        with _progress(sim.duration, desc, progress) as bar:
            for k_lo, k_hi in zip(steps[:-1], steps[1:]):
                k = k_lo
                if rec_steps and k_lo == 0 and k_hi - k >= rec_steps:
                    raster["start"] = self._record_window("start", rec_steps)
                    k += rec_steps
                tail = rec_steps if (rec_steps and k_hi == steps[-1] and k_hi - k >= rec_steps) else 0
                if k_hi - tail > k:
                    self.net.run((k_hi - tail - k) * self.dt, namespace={})
                if tail:
                    raster["end"] = self._record_window("end", rec_steps)
                self._divergence(k_hi)
                bar.update((k_hi - k_lo) * sim.dt)
                self._read_params()
                cp.record(k_hi)
        info = {"raster": raster, "units": self.options.units}
        return cp.trajectory(info)


def _flat_index(R, n_pre, n_post, exclude_self):
    """Positions in a flattened ``(R, n_pre, n_post)`` array of the synapses of _block_pairs."""
    r, i, j = np.meshgrid(np.arange(R), np.arange(n_pre), np.arange(n_post), indexing="ij")
    flat = (r * n_pre + i) * n_post + j
    keep = (i != j) if exclude_self else np.ones_like(i, bool)
    return flat[keep]


def _init_devices(syn, profile, W0, rng):
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
