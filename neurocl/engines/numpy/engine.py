"""The numpy engine's face: options, supported features, and its runner registrations."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from neurocl.engines.numpy.discrete import run_contrastive_divergence
from neurocl.engines.numpy.fused import FUSED, KERNEL_RULES
from neurocl.engines.numpy.learners import LEARNERS
from neurocl.engines.numpy.two_branch import run_two_branch
from neurocl.engines.numpy.sample_contrastive import run_sample_contrastive
from neurocl.engines.numpy.reference import STEPPERS, free_run_glauber, run_reference
from neurocl.engines.registry import Engine, register
from neurocl.errors import UnsupportedFeatureError
from neurocl.hardware.profile import LABEL_FIELDS, HardwareProfile
from neurocl.schema import init_fields
from neurocl.validate import check_fields, one_of

__all__ = ["NumpyEngine", "NumpyOptions"]


@dataclass(frozen=True)
class NumpyOptions:
    """Options of the numpy engine (``engine = { name = "numpy", kernel = ... }``).

    Parameters
    ----------
    kernel : {"auto", "reference", "fused", "event"}
        ``"auto"``: a fused numba kernel where one is registered for the circuit and rule and
        the weights are ideal, else the reference path; ``"reference"``: always the step-by-step
        reference path (:mod:`.reference`); ``"fused"``: the dense fused kernel (RBM, one-hidden
        -layer Hopfield); ``"event"``: the event-driven RBM kernel (ISD, mean-field statistic).
    """

    kernel: str = "auto"

    def __post_init__(self):
        check_fields(self)
        one_of("kernel", self.kernel, {"auto", "reference", "fused", "event"})


@register("numpy")
class NumpyEngine(Engine):
    """Reference engine: every circuit, phase law, rule and profile field of the core package."""

    Options = NumpyOptions
    profile_fields = frozenset(f.name for f in init_fields(HardwareProfile) if f.name not in LABEL_FIELDS)
    capabilities = frozenset({"free_run", "divergence", "float_weights"})

    def free_run(self, circuit, params, sim, burn_in: int = 500) -> np.ndarray:
        """Free-running samples of the data layer, ``(n_steps, R, n_data)`` (Glauber units)."""
        if circuit.dynamics != "glauber":
            raise UnsupportedFeatureError(self.name, f"free running of circuit '{circuit.kind}' (binary units only)")
        _refuse_float32(self, sim, "free running")
        return free_run_glauber(circuit, params, sim, burn_in)


def _refuse_float32(engine, sim, path: str) -> None:
    """``sim.dtype = "float32"`` is honoured by the fused RBM kernels only: refuse it elsewhere."""
    if sim.dtype != "float64":
        raise UnsupportedFeatureError(engine.name, f"dtype = '{sim.dtype}' on {path} (it computes in float64; "
                                                   "only the fused RBM kernels run float32)")


def _initial(circuit, sim, params):
    rng_init = np.random.default_rng([sim.seed, 0])
    rng = np.random.default_rng([sim.seed, 1])
    if params is None:
        params = circuit.init_params(rng_init, sim.replicas)
    return params, rng, rng_init


@NumpyEngine.runner(circuits=("rbm", "boltzmann", "hopfield"), rules=tuple(LEARNERS))
def run_continuous(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="",
                   profile=None):
    """Continuous-time learning: a fused kernel where the options and circuit allow, else the
    reference path (``STEPPERS[circuit.dynamics]`` + ``LEARNERS[rule.name]``).

    ``sim.dtype = "float32"`` runs on the fused kernels that declare ``float32 = True`` (the
    RBM kernels); on any other path it raises :class:`UnsupportedFeatureError` before simulating.
    """
    fused = choose_path(engine, circuit, rule, phases, profile, sim)
    if fused is None and profile_blocks_kernel(engine, circuit, rule, profile):
        warnings.warn(REFERENCE_FALLBACK.format(profile=profile.name, rule=rule.name, circuit=circuit.kind),
                      UserWarning, stacklevel=2)
    params, rng, rng_init = _initial(circuit, sim, params)
    if fused is not None:
        return fused(circuit, rule, phases, task, sim, params, rng, rng_init, progress, desc, engine.options.kernel)
    return run_reference(circuit, rule, phases, task, sim, params, rng, rng_init, progress, desc, profile)


#: the notice of a run that a hardware profile moves from a fused kernel to the reference path
#: (CPU time on bas3, 5 replicas, 200 s simulated: 26-35 times that of ``ideal``; benchmarks/readme_numbers.json)
REFERENCE_FALLBACK = ("numpy engine: with hardware profile '{profile}', {rule} on {circuit} runs on the "
                      "step-by-step reference path (the fused kernels take ideal weights only): expect about "
                      "25-35 times the CPU time of the same run on the 'ideal' profile")


def profile_blocks_kernel(engine, circuit, rule, profile) -> bool:
    """Whether ``kernel = "auto"`` would take a fused kernel but for the (non-ideal) hardware profile."""
    fused = FUSED.get(circuit.kind) if circuit.kind in FUSED else None
    return (engine.options.kernel == "auto" and profile is not None and not profile.is_ideal and fused is not None
            and rule.name in KERNEL_RULES and fused.eligible(circuit, rule, engine.options.kernel))


def choose_path(engine, circuit, rule, phases, profile, sim):
    """The fused runner :func:`run_continuous` will use (``None``: the reference path), or
    :class:`UnsupportedFeatureError` for a kernel option or dtype the path cannot honour; runs
    as the runner's ``preflight``, so ``neurocl run`` refuses before any learner simulates.
    With ``kernel = "auto"``, a hardware profile that moves a run off its fused kernel makes
    :func:`run_continuous` warn once per run (``UserWarning``, :data:`REFERENCE_FALLBACK`: why,
    and the expected slow-down)."""
    kernel = engine.options.kernel
    fused = FUSED.get(circuit.kind) if circuit.kind in FUSED else None
    ideal = profile is None or profile.is_ideal
    usable = (fused is not None and rule.name in KERNEL_RULES and ideal and fused.eligible(circuit, rule, kernel))
    if kernel in ("fused", "event") and not usable:
        why = "a hardware profile" if not ideal else f"rule '{rule.name}' on circuit '{circuit.kind}'"
        raise UnsupportedFeatureError(f"{engine.name} (kernel = '{kernel}')", why)
    if kernel == "event" and not (rule.name == "isd" and rule.mean_field):
        raise UnsupportedFeatureError("numpy (event kernel)", f"rule {rule!r}")
    if usable and kernel != "reference":
        if not getattr(fused, "float32", False):
            _refuse_float32(engine, sim, f"the fused kernel of circuit '{circuit.kind}'")
        return fused
    STEPPERS[circuit.dynamics]  # ConfigError naming the dynamics if none is registered
    _refuse_float32(engine, sim, "the reference path " + (f"(hardware profile '{profile.name}')" if not ideal else
                                                          f"(rule '{rule.name}' on circuit '{circuit.kind}')"))
    return None


run_continuous.preflight = choose_path


@NumpyEngine.runner(circuits=("rbm",), rules=("cdk", "pcd"), profiles=False)
def run_discrete(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    """CD-k / PCD: one minibatch update per ``dt`` (ideal weights, float64)."""
    params, rng, _ = _initial(circuit, sim, params)
    return run_contrastive_divergence(circuit, rule, task, sim, params, rng, progress, desc)


run_discrete.preflight = lambda engine, circuit, rule, phases, profile, sim: _refuse_float32(
    engine, sim, f"rule '{rule.name}'")


@NumpyEngine.runner(circuits=("two_branch",), rules=("sgd", "isd"))
def run_view_based(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    """Two-branch / multi-view circuits: online SGD or always-on ISD (``.two_branch``)."""
    return run_two_branch(engine, circuit, rule, phases, task, sim, params=params, progress=progress, desc=desc,
                          profile=profile)


run_view_based.preflight = lambda engine, circuit, rule, phases, profile, sim: _refuse_float32(
    engine, sim, f"circuit '{circuit.kind}'")


@NumpyEngine.runner(circuits=("sample_contrastive",), rules=("sgd",))
def run_sample_contrastive_sgd(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="",
                               profile=None):
    """Sample-contrastive encoders: SGD with the circuit's negative estimator, encoder weights
    optionally in device models (``.sample_contrastive``)."""
    return run_sample_contrastive(engine, circuit, rule, phases, task, sim, params=params, progress=progress, desc=desc,
                                  profile=profile)


run_sample_contrastive_sgd.preflight = lambda engine, circuit, rule, phases, profile, sim: _refuse_float32(
    engine, sim, f"circuit '{circuit.kind}'")
