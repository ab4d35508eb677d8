"""The Brian2 engine's face: options, declared supports, runner registrations, free running."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import neurocl.engines.brian2.model as model
from neurocl.engines.brian2.network import (
    BUILDERS,
    Brian2Network,
    check_task,
    data_columns,
)
from neurocl.engines.registry import Engine, register
from neurocl.errors import UnsupportedFeatureError
from neurocl.phases import LAWS, PHASES
from neurocl.plasticity import ISD
from neurocl.simulation import Simulation, Task
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
        Spiking units: refractory period and rectangular PSP length in integration steps
        (``tau = psp_steps * dt``).  Such units switch on and off as often as Glauber units
        with ``tau_n = dt / ln((psp_steps + 1) / (psp_steps - 1))`` (about ``tau / 2``; equal
        mean on and off runs at zero net input, :func:`model.matching_tau_n`); the circuit's
        ``tau_n`` itself is not read by spiking units.
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
class Brian2Engine(Engine):
    """Runs RBMs (Glauber or spiking units) and fully connected Boltzmann machines (Glauber,
    random scan, ideal weights) with ISD on Brian2; both phase processes, every phase-length
    law (gamma: integer shapes up to 16); the device fields of :data:`model.PROFILE_FIELDS`."""

    Options = Brian2Options
    phase_kinds = frozenset(PHASES)
    phase_laws = frozenset(LAWS)
    profile_fields = model.PROFILE_FIELDS
    capabilities = frozenset({"free_run", "divergence", "float_weights"})
    #: circuit kinds whose units may be neural-sampling spiking units (``units = "spiking"``):
    #: layers of conditionally independent units updated together
    spiking_circuits = frozenset({"rbm"})
    #: the network builder (test-only subclasses may swap in one with a wrong sampler)
    network = Brian2Network

    def check(self, circuit, rule, phases=None, profile=None, sim=None):
        runner = super().check(circuit, rule, phases, profile, sim)
        self.check_units(circuit)
        if sim is not None:
            self.check_dtype(sim)
        return runner

    def check_units(self, circuit) -> None:
        """Raise if ``options.units`` cannot run on ``circuit``."""
        if self.options.units == "spiking" and circuit.kind not in self.spiking_circuits:
            raise UnsupportedFeatureError(self.name, f"spiking units on circuit '{circuit.kind}' (neural sampling "
                                                     "needs layers of conditionally independent units)")

    def check_dtype(self, sim: Simulation) -> None:
        """Brian2 computes in float64: ``sim.dtype = "float32"`` is refused, not ignored."""
        if sim.dtype != "float64":
            raise UnsupportedFeatureError(self.name, f"dtype = '{sim.dtype}' (Brian2 runs float64)")

    def check_phases(self, phases) -> None:
        """The base checks, then the phase length code itself (gamma laws: integer shape <= 16)."""
        super().check_phases(phases)
        model.phase_length_code(phases)

    def free_run(self, circuit, params, sim: Simulation, burn_in: int = 500) -> np.ndarray:
        """Free-running samples of the data layer: ``(n_steps, R, n)`` array of unit states.

        No clamping and no plasticity: the stationary law is the circuit's Boltzmann law
        (``exp(-E)/Z``, marginalised over hidden units), which tests compare to the exact
        distribution.  ``burn_in`` steps are simulated first and discarded.
        """
        if circuit.kind not in BUILDERS:
            raise UnsupportedFeatureError(self.name, f"free running of circuit '{circuit.kind}'")
        self.check_units(circuit)
        self.check_dtype(sim)
        task = Task(clamp=np.zeros((1, len(data_columns(circuit)))))
        net = self.network(circuit, ISD(1.0), None, task, sim, self.options, None, params)
        return net.sample(burn_in)


@Brian2Engine.runner(circuits=("boltzmann",), rules=("isd",), profiles=False)
@Brian2Engine.runner(circuits=("rbm",), rules=("isd",))
def run_isd(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    """Simulate ``sim.duration`` ms of always-on ISD learning on Brian2; evaluate at checkpoints.

    ``info["raster"]`` holds the recorded unit states/spikes and phases of replica 0
    (``record`` ms at the start and at the end).  Fully connected Boltzmann machines run
    ideal weights only (device noise would break ``W = W^T``).
    """
    engine.check_dtype(sim)
    check_task(circuit, task)
    net = engine.network(circuit, rule, phases, task, sim, engine.options, profile, params)
    return net.run(progress, desc)
