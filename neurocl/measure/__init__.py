"""Estimators and exact quantities the theory needs."""

from neurocl.measure.alpha_req import AlphaReQ, alpha_req, eigenspectrum, fit_power_law, powerlaw_gaussian
from neurocl.measure.exact import (
    all_states,
    boltzmann_distribution,
    empirical_distribution,
    rbm_free_energy,
    rbm_kl,
    rbm_log_partition,
    rbm_log_partition_bruteforce,
    rbm_nll,
    rbm_nll_grad,
    rbm_visible_log_probs,
    total_variation,
)
from neurocl.measure.probe import knn1_accuracy, linear_probe_accuracy

__all__ = [
    "AlphaReQ",
    "alpha_req",
    "eigenspectrum",
    "fit_power_law",
    "powerlaw_gaussian",
    "knn1_accuracy",
    "linear_probe_accuracy",
    "all_states",
    "boltzmann_distribution",
    "empirical_distribution",
    "rbm_free_energy",
    "rbm_kl",
    "rbm_log_partition",
    "rbm_log_partition_bruteforce",
    "rbm_nll",
    "rbm_nll_grad",
    "rbm_visible_log_probs",
    "total_variation",
]
