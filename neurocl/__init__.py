"""neurocl: bio-plausible contrastive learning in continuous time on neuromorphic hardware.

Williams, Bredenberg & Lajoie, *Flexible Phase Dynamics for Bio-Plausible Contrastive
Learning* (ICML 2023): the phase switches stochastically, plasticity is always on with
importance weights ``1/b`` and ``-1/(1-b)``.  All times are in milliseconds.

Scripts start with :func:`load_spec` (a shipped spec such as ``"bas3"`` or a TOML file,
with overrides), :func:`run` (on a hardware profile; returns a :class:`RunResult` of numpy
arrays) and :func:`load_result` (a saved results directory); see :mod:`neurocl.api`.
"""

__version__ = "0.1.0"

from neurocl.api import LearnerResult, RunResult, load_result, load_spec, run, save_profile
from neurocl.circuits import RBM, BoltzmannMachine, LayeredHopfield
from neurocl.config import load_config
from neurocl.engines import Simulation, Task, get_engine
from neurocl.errors import ConfigError, DivergenceError, NeuroclError, UnsupportedFeatureError
from neurocl.hardware.profile import HardwareProfile, load_profile, shipped_profiles
from neurocl.phases import Alternating, Exponential, Fixed, Gamma, StochasticPhases, Uniform
from neurocl.plasticity import CDk, ISD, PCD, TwoPhase
from neurocl.shipped import shipped_specs

__all__ = [
    "__version__",
    "load_spec",
    "run",
    "load_result",
    "save_profile",
    "RunResult",
    "LearnerResult",
    "shipped_specs",
    "HardwareProfile",
    "load_profile",
    "shipped_profiles",
    "RBM",
    "BoltzmannMachine",
    "LayeredHopfield",
    "Alternating",
    "StochasticPhases",
    "Fixed",
    "Exponential",
    "Gamma",
    "Uniform",
    "ISD",
    "TwoPhase",
    "CDk",
    "PCD",
    "Simulation",
    "Task",
    "get_engine",
    "load_config",
    "NeuroclError",
    "ConfigError",
    "DivergenceError",
    "UnsupportedFeatureError",
]
