"""The Lava engine's face: options, what it implements, the profile it runs on, its runner.

One device model: ``fixed_pt`` runs on the weight grid that the hardware profile it is given
describes (``weight_scale`` is read from the profile; nothing here holds a copy of a profile
value), and the profile is checked field by field against what Lava's ``fixed_pt`` learning
engine implements (:data:`FIXED_PT_GRID`); ``floating_pt`` runs ideal weights only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocl.engines.lava.deploy import TAGS
from neurocl.engines.lava.fixed_point import MAX_ACCUMULATOR_BITS, WEIGHT_LEVELS
from neurocl.engines.lava.learning import learn_job
from neurocl.engines.loop import RunLoop
from neurocl.engines.registry import Engine, register
from neurocl.errors import ConfigError, UnsupportedFeatureError
from neurocl.validate import one_of, positive

__all__ = ["LavaEngine", "LavaOptions", "FIXED_PT_GRID"]

#: The hardware-profile fields ``fixed_pt`` implements and the values it implements them with:
#: Lava 0.10's learning engine keeps a learning weight as a signed 9-bit integer
#: (``[-256, 255]``: one integer step is ``weight_scale / 256`` network units) and rounds
#: updates stochastically with one random number per time step shared by all synapses, every
#: step.  ``dw_min`` may be 0 (updates as continuous values rounded onto the grid) or the
#: grid step; ``weight_scale`` is free (a power of two, the shared weight exponent);
#: ``accumulator_bits`` is 0 (updates rounded into the weight) or ``1 ..``
#: :data:`~neurocl.engines.lava.fixed_point.MAX_ACCUMULATOR_BITS` (the synaptic tag as an
#: error-feedback accumulator below the weight, :func:`~neurocl.engines.lava.fixed_point.tag_carry_rules`;
#: needs ``dw_min`` = the grid step).
FIXED_PT_GRID = {
    "w_min": -1.0,
    "w_max": 1.0,
    "weight_bits": int(round(math.log2(2 * WEIGHT_LEVELS))),        # 9: (w_max - w_min) / 2^9 = 1 / 256
    "rounding": "stochastic",
    "shared_rounding": True,
    "t_epoch": 1,
}


def _power_of_two(x: float) -> bool:
    e = math.log2(x)
    return abs(e - round(e)) < 1e-12


@dataclass(frozen=True)
class LavaOptions:
    """Options of the Lava engine (``[engine]`` table).

    The weight grid of ``fixed_pt`` (``weight_scale``, the number of weight bits) is the
    hardware profile's (``profile = "loihi2"``), not an option.

    Parameters
    ----------
    tag : {"fixed_pt", "floating_pt"}
        ProcessModel precision on ``Loihi2SimCfg``.
    timeout : float
        Wall-clock limit (s) of one Lava run between checkpoints.
    """

    tag: str = "fixed_pt"
    timeout: float = 600.0

    def __post_init__(self):
        one_of("tag", self.tag, set(TAGS))
        object.__setattr__(self, "timeout", positive("timeout", self.timeout))


@register("lava")
class LavaEngine(Engine):
    """On-chip always-on ISD learning of RBMs on the Loihi 2 emulator (block Gibbs units,
    block-diagonal ``LearningSparse`` with a three-factor rule, the phase process as a Lava
    process).  ``fixed_pt`` needs a hardware profile describing Loihi 2's learning grid
    (``profile = "loihi2"``); ``floating_pt`` runs the ideal profile."""

    Options = LavaOptions
    phase_kinds = frozenset({"stochastic"})
    #: every profile field some tag implements (an instance holds its tag's: ``floating_pt`` none)
    profile_fields = frozenset(FIXED_PT_GRID) | {"dw_min", "weight_scale", "accumulator_bits"}

    def __init__(self, **options):
        super().__init__(**options)
        self.profile_fields = LavaEngine.profile_fields if self.options.tag == "fixed_pt" else frozenset()
        # floating_pt weights are floats (a negligible learning rate is representable)
        self.capabilities = frozenset({"float_weights"}) if self.options.tag == "floating_pt" else frozenset()

    @property
    def _label(self) -> str:
        return f"{self.name} (tag = '{self.options.tag}')"

    def check(self, circuit, rule, phases=None, profile=None, sim=None):
        runner = super().check(circuit, rule, phases, profile, sim)
        if self.options.tag == "fixed_pt" and (profile is None or profile.is_ideal):
            raise UnsupportedFeatureError(
                self._label, "the ideal profile (real-valued weights): fixed_pt weights live on Loihi 2's "
                             "learning grid, which a hardware profile describes; pass profile = \"loihi2\" "
                             "(or a profile with that grid), or use tag = \"floating_pt\" for ideal weights")
        return runner

    def check_profile(self, profile, circuit=None) -> None:
        """Allow-list of the fields (none for ``floating_pt``), then ``fixed_pt``'s grid: the
        values of :data:`FIXED_PT_GRID`, ``dw_min`` 0 or the grid step, ``weight_scale`` a
        power of two, ``accumulator_bits`` in ``[0, MAX_ACCUMULATOR_BITS]``."""
        try:
            super().check_profile(profile, circuit)
        except UnsupportedFeatureError as exc:
            raise UnsupportedFeatureError(self._label, exc.feature) from None
        if self.options.tag != "fixed_pt":
            return

        def refuse(field, want):
            raise UnsupportedFeatureError(
                self._label, f"hardware-profile field '{field}' = {getattr(profile, field)!r} (profile "
                             f"'{profile.name}'; fixed_pt implements {field} = {want})")

        for field, want in FIXED_PT_GRID.items():
            if getattr(profile, field) != want:
                refuse(field, repr(want))
        step = profile.quantum
        if profile.dw_min != 0.0 and not math.isclose(profile.dw_min, step, rel_tol=1e-9):
            refuse("dw_min", f"0 or the grid step (w_max - w_min) / 2^weight_bits = {step!r}")
        if not _power_of_two(profile.weight_scale):
            refuse("weight_scale", "a power of two (the shared weight exponent)")
        if not 0 <= profile.accumulator_bits <= MAX_ACCUMULATOR_BITS:
            refuse("accumulator_bits", f"0 (none) or 1 .. {MAX_ACCUMULATOR_BITS} (the 9-bit synaptic tag as an "
                                       "error-feedback accumulator)")


@LavaEngine.runner(circuits=("rbm",), rules=("isd",))
def run_isd(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    """``sim.duration`` ms of on-chip ISD on the emulator (one Gibbs sweep per ``sim.dt``),
    evaluated at the checkpoints.  The hidden statistic is the sampled spike (``y1``), not the
    mean field: Loihi's learning engine sees spikes.  ``fixed_pt`` weights live on the
    profile's grid (``profile.weight_scale / 256`` per integer step)."""
    from neurocl.engines.lava.fixed_point import isd_scaling
    from neurocl.engines.lava.runtime import run_isolated

    opt = engine.options
    weight_scale, acc_bits = None, 0
    if opt.tag == "fixed_pt":
        weight_scale, acc_bits = profile.weight_scale, int(profile.accumulator_bits)
        isd_scaling(rule.learning_rate, sim.dt, phases.b, weight_scale, accumulator_bits=acc_bits)  # ConfigError
    data = np.asarray(task.clamp)
    if data.ndim != 2 or data.shape[1] != circuit.n_visible or not np.isin(data, (0, 1)).all():
        raise ConfigError(f"task.clamp: expected binary patterns of shape (N, {circuit.n_visible})")
    rng = np.random.default_rng([sim.seed, 0])
    p0 = params if params is not None else circuit.init_params(rng, sim.replicas)
    p0 = {k: np.array(v, float) for k, v in p0.items()}
    what = f"Lava on-chip ISD ({opt.tag})"
    with RunLoop(sim, task, {k: v.copy() for k, v in p0.items()}, progress, desc or what) as loop:
        steps = [int(k) for k in loop.steps]
        inc = [steps[0]] + [b - a for a, b in zip(steps[:-1], steps[1:])]
        per_ms = 2 * (1 + circuit.n_visible + circuit.n_hidden) / 1000.0
        snaps, scaling, _ = run_isolated(learn_job, p0, data.astype(np.int32), phases, task.presentation,
                                         rule.learning_rate, sim.dt, opt.tag, weight_scale, sim.seed, inc, 0,
                                         timeout=opt.timeout + per_ms * sim.n_steps, what=what,
                                         on_progress=loop.advanced, accumulator_bits=acc_bits)
        for k, snap in zip(steps, snaps):
            for name in ("W", "a", "c"):
                loop.params[name][:] = snap[name]
            loop.record(k)
    info = {"tag": opt.tag}
    if scaling is not None:
        info["scaling"] = scaling
    return loop.trajectory(info)
