"""neurocl: bio-plausible contrastive learning in continuous time on neuromorphic hardware.

Williams, Bredenberg & Lajoie (ICML 2023, ``papers/000_*``): the phase switches
stochastically, plasticity is always on with importance weights ``1/b`` and ``-1/(1-b)``.
All times are in milliseconds.
"""

__version__ = "0.1.0"

from neurocl.circuits import RBM, BoltzmannMachine, LayeredHopfield
from neurocl.config import load_config
from neurocl.engines import Simulation, Task, get_engine
from neurocl.errors import ConfigError, DivergenceError, NeuroclError, UnsupportedFeatureError
from neurocl.phases import Alternating, Exponential, Fixed, Gamma, StochasticPhases, Uniform
from neurocl.plasticity import CDk, ISD, PCD, TwoPhase

__all__ = [
    "__version__",
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
