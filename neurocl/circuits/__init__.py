"""Circuits: network state, energy, conditionals / drift, the plasticity statistic, the task.

Each circuit module registers its class in :data:`CIRCUITS` by the ``kind`` used in circuit
specs (``[circuit] kind = "rbm"``); importing it here is the one registration line.
"""

from neurocl.circuits.base import CIRCUITS
from neurocl.circuits.boltzmann import BoltzmannMachine
from neurocl.circuits.hopfield import LayeredHopfield
from neurocl.circuits.rbm import RBM
from neurocl.circuits.sample_contrastive import SampleContrastive
from neurocl.circuits.two_branch import TwoBranch

__all__ = ["RBM", "BoltzmannMachine", "LayeredHopfield", "TwoBranch", "SampleContrastive", "CIRCUITS"]
