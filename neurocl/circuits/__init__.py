"""Circuits: network state, energy, conditionals / drift and the plasticity statistic.

Registered by the ``kind`` used in circuit specs (``[circuit] kind = "rbm"``).
"""

from neurocl.circuits.boltzmann import BoltzmannMachine
from neurocl.circuits.hopfield import LayeredHopfield
from neurocl.circuits.rbm import RBM

__all__ = ["RBM", "BoltzmannMachine", "LayeredHopfield", "CIRCUITS"]

CIRCUITS = {cls.kind: cls for cls in (RBM, BoltzmannMachine, LayeredHopfield)}
