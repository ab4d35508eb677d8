"""neurocl: bio-plausible contrastive learning in continuous time on neuromorphic hardware.

Williams, Bredenberg & Lajoie, *Flexible Phase Dynamics for Bio-Plausible Contrastive
Learning* (ICML 2023): the phase switches stochastically, plasticity is always on with
importance weights ``1/b`` and ``-1/(1-b)``.  All times are in milliseconds.

Scripts start with :func:`load_spec` (a shipped spec such as ``"bas3"`` or a TOML file,
with overrides), :func:`run` (on a hardware profile; returns a :class:`RunResult` of numpy
arrays) and :func:`load_result` (a saved results directory); see :mod:`neurocl.api`.

Diagnostics: the library does not print on its own; it reports through
``logging`` (loggers named after the modules, under ``"neurocl"``, silent until the
application configures logging) and through ``warnings`` for conditions the caller should
act on (a partial results directory, a slower fallback path), which the command line shows
as ``neurocl: warning: ...``.  Only the command line (:mod:`neurocl.cli`) prints tables and
progress bars; functions that produce such output take an ``echo`` callable (the gallery's
:func:`neurocl.plotting.save_with_numbers` defaults to ``print``, as its scripts want).
"""

import logging as _logging

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

_logging.getLogger(__name__).addHandler(_logging.NullHandler())   # silent until the application configures logging

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
