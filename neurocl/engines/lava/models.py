"""ProcessModels of the neurocl Lava processes: ``floating_pt`` and ``fixed_pt`` (Loihi-style
integer state, integer noise, stochastic rounding) implementations for ``Loihi2SimCfg``.

Fixed-point conventions are in :mod:`neurocl.engines.lava.fixed_point`.
"""

from __future__ import annotations

import neurocl.engines.lava.compat as compat

compat.install()

import numpy as np  # noqa: E402
from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.model import PyLoihiProcessModel  # noqa: E402
from lava.magma.core.model.py.ports import PyInPort, PyOutPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402
from lava.proc.sparse.models import PyLearningSparseModelBitApproximate  # noqa: E402
from lava.utils.weightutils import SignMode  # noqa: E402

from neurocl.engines.lava.fixed_point import FIELD_BITS, RANDOM_BITS, logistic_noise_table  # noqa: E402
from neurocl.engines.lava.processes import GibbsUnits, HardSigmoidUnits, ImageSource, PhaseProcess  # noqa: E402

BIAS_FRACTION_BITS = 12          # fixed-point biases carry 12 extra fractional bits for learning
STATE_BITS = 8                   # hard-sigmoid states in units of 2^-8


# ----------------------------------------------------------------------------- Gibbs units
class _GibbsBase(PyLoihiProcessModel):
    """Shared logic: block-parity updates, clamping, ISD bias learning, learning-neuron traces,
    recording.  Subclasses define ``_init_numeric``, ``_fire(a_in)``, ``_learn_bias(w, s)``."""

    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self._n, self._R, self._block = p["n"], p["replicas"], p["block"]
        self._clamped, self._learning = p["clamped"], p["learning"]
        self._record, self._histogram, self._start = p["record"], p["histogram"], p["start"]
        self._rng = np.random.default_rng(p["seed"])
        self._updates = 0
        self._z_prev = None
        self._ready = False
        self._powers = 2 ** np.arange(self._n)

    def run_spk(self):
        if not self._ready:
            self._init_numeric()
            self._ready = True
        a = self.a_in.recv()
        clamp = self.clamp_in.recv() if self._clamped else None
        phase = self.phase_in.recv() if self._learning is not None else None
        mine = (self.time_step % 2) == (1 if self._block else 0)
        if mine:
            s = self._fire(a)
            if clamp is not None:
                s = np.where(clamp >= 0, clamp, s)
            self.s = s.astype(self.s.dtype)
            if self._learning is not None:
                z = (clamp >= 0).astype(float) if clamp is not None else self._z_prev   # the phase of v
                if z is not None:
                    b = self._learning["b"]
                    self._learn_bias(np.where(z > 0, 1.0 / b, -1.0 / (1.0 - b)), s)
            self._keep(s)
        self.s_out.send(self.s)
        if self._learning is not None:
            self._send_traces(mine, phase)

    def _send_traces(self, mine, phase):
        """Post-synaptic learning-neuron traces for a learning connection: on odd steps (after the
        hidden block resampled) ``y1 = Y s``, ``y2 = Y2 z``, ``y3 = Y3 (1 - z)`` with ``z`` the
        phase in which the visible layer was last set; zero on even steps (no learning).  The
        back-propagating spike ``bap`` (dependency ``y0``) is ``s`` on learning steps, or, with
        ``learning["clock"]`` (tag accumulator), 1 on every odd step."""
        lr = self._learning
        on = (self.time_step % 2 == 1) and self._z_prev is not None and lr["y1"] > 0
        z = self._z_prev if self._z_prev is not None else np.zeros(self.s.shape)
        if lr.get("clock"):    # y0 on every odd step: the clock of the tag accumulator's carry register
            self.s_out_bap.send(np.full(self.s.shape, self.time_step % 2 == 1))
        else:
            self.s_out_bap.send(self.s.astype(bool) if on else np.zeros(self.s.shape, bool))
        zero = np.zeros(self.s.shape, dtype=self._trace_dtype)
        self.s_out_y1.send((lr["y1"] * self.s).astype(self._trace_dtype) if on else zero)
        self.s_out_y2.send((lr["y2"] * z).astype(self._trace_dtype) if on else zero)
        self.s_out_y3.send((lr["y3"] * (1 - z)).astype(self._trace_dtype) if on else zero)
        self._z_prev = np.asarray(phase, float)

    def _keep(self, s):
        k = self._updates - self._start
        self._updates += 1
        if k < 0:
            return
        if k < self._record:
            self.history[k] = s
        if self._histogram:
            idx = (s.reshape(self._R, self._n).astype(np.int64) @ self._powers)
            self.counts[np.arange(self._R) * 2**self._n + idx] += 1


@implements(proc=GibbsUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyGibbsUnitsFloat(_GibbsBase):
    """``s = [U < sigmoid(a_in + bias)]``, ``U ~ Uniform(0, 1)`` (Glauber 1963; float64)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    clamp_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    phase_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    s_out_bap: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool)
    s_out_y1: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    s_out_y2: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    s_out_y3: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    s: np.ndarray = LavaPyType(np.ndarray, float)
    bias: np.ndarray = LavaPyType(np.ndarray, float)
    history: np.ndarray = LavaPyType(np.ndarray, float)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int64)
    _trace_dtype = float

    def _init_numeric(self):
        pass

    def _fire(self, a):
        u = np.asarray(a, float) + self.bias
        return (self._rng.random(u.shape) < 1.0 / (1.0 + np.exp(-u))).astype(float)

    def _learn_bias(self, w, s):
        self.bias = self.bias + self._learning["eta_dt"] * w * s


@implements(proc=GibbsUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyGibbsUnitsFixed(_GibbsBase):
    """Integer field ``u = a_in + bias`` (units ``2^-FIELD_BITS``), integer logistic noise from a
    ``RANDOM_BITS``-bit uniform integer, ``s = [u + n > 0]``; biases learn in a
    ``FIELD_BITS + 12``-bit fixed-point accumulator with per-unit stochastic rounding."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    clamp_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    phase_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    s_out_bap: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    s_out_y1: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_y2: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_y3: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    bias: np.ndarray = LavaPyType(np.ndarray, float)   # read-out mirror of the integer accumulator
    history: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int64)
    _trace_dtype = np.int32

    def _init_numeric(self):
        self._unit = 2.0 ** (FIELD_BITS + BIAS_FRACTION_BITS)
        self._acc = np.round(np.asarray(self.bias, float) * self._unit).astype(np.int64)
        self._noise = logistic_noise_table(FIELD_BITS, RANDOM_BITS)

    def _fire(self, a):
        u = np.asarray(a, np.int64) + (self._acc >> BIAS_FRACTION_BITS)
        r = self._rng.integers(0, 2**RANDOM_BITS, size=u.shape)
        return (u + self._noise[r] > 0).astype(np.int32)

    def _learn_bias(self, w, s):
        inc = self._learning["eta_dt"] * w * s * self._unit
        self._acc += np.floor(inc + self._rng.random(inc.shape)).astype(np.int64)   # stochastic rounding
        self.bias = self._acc / self._unit


# ----------------------------------------------------------------------------- learning synapses
class PyBlockLearningSparseFixed(PyLearningSparseModelBitApproximate):
    """Lava's ``fixed_pt`` ``LearningSparse`` model, keeping synapses whose weight is zero.

    On Loihi a synapse exists (and learns) when it is defined, whatever its weight.  Lava's
    bit-approximate model truncates the weights on the first step with
    ``scipy.sparse.spmatrix.eliminate_zeros``, which deletes defined synapses of weight 0
    (an RBM trained from ``W = 0`` would lose every synapse).  This model applies the same
    truncation to the stored values only, and hands the learning rule dense copies of the
    synaptic variables (so that ``sgn(t + C)`` factors evaluate); everything else is Lava's.  Selected with
    ``Loihi2SimCfg(exception_proc_model_map=...)`` (:func:`neurocl.engines.lava.runtime.run_config`).
    """

    def _apply_learning_rules(self, x_traces_history, y_traces_history):
        """Lava's ``LearningConnectionModelBitApproximate._apply_learning_rules`` with the same
        arithmetic, but writing the stored entries through ``csr.data`` (the structure never
        changes) instead of scipy's fancy-index assignment, which cost about 4 ms per variable
        and step.  The accumulator a rule starts from is the dense copy of the variable
        shifted to the accumulator's width, as in Lava (there the sparse matrix plus the
        products' dense array)."""
        from lava.magma.core.learning.constants import W_ACCUMULATOR_S, W_SYN_VAR_S

        args = self._extract_applier_args(x_traces_history, y_traces_history)
        for name, applier in self._learning_rule_appliers.items():
            var = getattr(self, name).copy()
            shift = W_ACCUMULATOR_S - W_SYN_VAR_S[name]
            rows = np.repeat(np.arange(var.shape[0]), np.diff(var.indptr))
            start = np.zeros(var.shape, dtype=var.data.dtype)
            start[rows, var.indices] = var.data << shift
            var.data = np.asarray(applier.apply(start, **args))[rows, var.indices].astype(var.data.dtype)
            var = self._saturate_synaptic_variable_accumulator(name, var)
            var = self._stochastic_round_synaptic_variable(name, var, self._conn_var_random.random_stochastic_round)
            var.data = var.data >> shift
            setattr(self, name, self._saturate_synaptic_variable(name, var))

    def _extract_applier_args(self, x_traces_history, y_traces_history):
        """Lava's arguments, with the synaptic variables as dense arrays: Lava 0.10 evaluates a
        factor ``sgn(t + C)`` as ``tag_1 + C``, which scipy refuses for a sparse matrix (a
        learning rule with a tag accumulator would stop the run).  Only the stored synapses'
        entries of the result are kept (``_apply_learning_rules``), as before."""
        args = super()._extract_applier_args(x_traces_history, y_traces_history)
        for name in ("weights", "tag_1", "tag_2"):
            if hasattr(args[name], "toarray"):
                args[name] = args[name].toarray()
        return args

    def run_spk(self):
        if not self.weights_set:
            w = self.weights.copy()
            drop = 8 - self.num_weight_bits + int(self.sign_mode == SignMode.MIXED)
            w.data = (w.data.astype(np.int32) >> drop) << drop
            self.weights = w
            for name in ("tag_1", "tag_2"):           # integer tags (Lava's learning shifts them)
                v = getattr(self, name).copy()
                v.data = np.round(v.data).astype(np.int32)
                setattr(self, name, v)
            self.weights_set = True
        super().run_spk()


# ----------------------------------------------------------------------------- phase process
class _PhaseBase(PyLoihiProcessModel):
    def __init__(self, proc_params):
        super().__init__(proc_params)
        p = proc_params
        self._R, self._pat = p["replicas"], np.asarray(p["patterns"])
        self._b, self._law, self._step = p["b"], p["law"], p["step_ms"]
        self._presentation, self._record = p["presentation"], p["record"]
        self._rng = np.random.default_rng(p["seed"])
        self._left = np.zeros(self._R, np.int64)
        self._zz = np.zeros(self._R, np.int64)
        self._idx = self._rng.integers(0, len(self._pat), self._R)
        self._fresh_at = np.full(self._R, -np.inf)
        self._nh = p["n_hidden"]

    def run_spk(self):
        t = self.time_step
        new = self._left <= 0
        if new.any():
            k = int(new.sum())
            zz = (self._rng.random(k) < self._b).astype(np.int64)
            steps = np.maximum(1, np.round(self._law.sample(self._rng, k) / self._step)).astype(np.int64)
            self._zz[new], self._left[new] = zz, steps
            now = t * self._step
            fresh = new & (self._zz == 1) & (now - self._fresh_at >= self._presentation)
            if fresh.any():
                self._idx[fresh] = self._rng.integers(0, len(self._pat), int(fresh.sum()))
                self._fresh_at[fresh] = now
        self._left -= 1
        self.z = self._zz.astype(self.z.dtype)
        if t - 1 < self._record:
            self.history[t - 1] = self._zz
        nv = self._pat.shape[1]
        clamp = np.where(self._zz[:, None] == 1, self._pat[self._idx], -1).reshape(-1)
        self.clamp_out.send(clamp.astype(self._dtype))
        self.phase_out_v.send(np.repeat(self._zz, nv).astype(self._dtype))
        self.phase_out_h.send(np.repeat(self._zz, self._nh).astype(self._dtype))


def _phase_ports(dtype, **kw):
    return {name: LavaPyType(PyOutPort.VEC_DENSE, dtype, **kw) for name in ("clamp_out", "phase_out_v", "phase_out_h")}


@implements(proc=PhaseProcess, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyPhaseProcessFloat(_PhaseBase):
    """The phase process; messages as floats."""

    locals().update(_phase_ports(float))
    z: np.ndarray = LavaPyType(np.ndarray, np.int32)
    history: np.ndarray = LavaPyType(np.ndarray, np.int32)
    _dtype = float


@implements(proc=PhaseProcess, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyPhaseProcessFixed(_PhaseBase):
    """The phase process; messages as integers (a Loihi 2 embedded-core process)."""

    locals().update(_phase_ports(np.int32, precision=24))
    z: np.ndarray = LavaPyType(np.ndarray, np.int32)
    history: np.ndarray = LavaPyType(np.ndarray, np.int32)
    _dtype = np.int32


# ----------------------------------------------------------------------------- Hopfield units
class _HardSigmoidBase(PyLoihiProcessModel):
    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._window, self._k = proc_params["window"], proc_params["k"]
        self._ready = False

    def run_spk(self):
        if not self._ready:
            self._init_numeric()
            self._ready = True
        a = self.a_in.recv()
        t = self.time_step - 1
        i, local = divmod(t, self._window)
        if local == 0:
            self.s = np.zeros_like(self.s)
        elif local < self._window - 1:
            self.s = self._relax(a)
        else:
            self.scores[i] = self._drive(a)
        self.s_out.send(self.s)


@implements(proc=HardSigmoidUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyHardSigmoidUnitsFloat(_HardSigmoidBase):
    """Float Euler step with projection on ``[0, 1]``."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    s: np.ndarray = LavaPyType(np.ndarray, float)
    bias: np.ndarray = LavaPyType(np.ndarray, float)
    scores: np.ndarray = LavaPyType(np.ndarray, float)

    def _init_numeric(self):
        pass

    def _drive(self, a):
        return np.asarray(a, float) + self.bias

    def _relax(self, a):
        return np.clip(self.s + self._k * (self._drive(a) - self.s), 0.0, 1.0)


@implements(proc=HardSigmoidUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyHardSigmoidUnitsFixed(_HardSigmoidBase):
    """Integer state in units of ``2^-8`` (0..256), integer drive (``a_in`` arrives in the same
    units through ``Dense``'s shared weight exponent), Euler factor ``k`` as a 12-bit fraction,
    truncating shifts as Loihi's integer datapath."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    s: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    bias: np.ndarray = LavaPyType(np.ndarray, float)
    scores: np.ndarray = LavaPyType(np.ndarray, float)

    def _init_numeric(self):
        self._bias_int = np.round(np.asarray(self.bias, float) * 2**STATE_BITS).astype(np.int64)
        self._k_int = int(round(self._k * 2**12))

    def _drive(self, a):
        return np.asarray(a, np.int64) + self._bias_int

    def _relax(self, a):
        s = np.asarray(self.s, np.int64)
        s = s + (((self._drive(a) - s) * self._k_int) >> 12)
        return np.clip(s, 0, 2**STATE_BITS).astype(np.int32)

    def run_spk(self):
        super().run_spk()
        t = self.time_step - 1
        i, local = divmod(t, self._window)
        if local == self._window - 1:
            self.scores[i] = self.scores[i] / 2**STATE_BITS   # read-out in network units


class _ImageSourceBase(PyLoihiProcessModel):
    def run_spk(self):
        i = (self.time_step - 1) // self.proc_params["window"]
        images = self.proc_params["images"]
        self.s_out.send(self._encode(images[min(i, len(images) - 1)]))


@implements(proc=ImageSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyImageSourceFloat(_ImageSourceBase):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    @staticmethod
    def _encode(x):
        return np.asarray(x, float)


@implements(proc=ImageSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyImageSourceFixed(_ImageSourceBase):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    @staticmethod
    def _encode(x):
        return np.round(np.clip(np.asarray(x, float), 0, 1) * 2**STATE_BITS).astype(np.int32)
