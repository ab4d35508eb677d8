"""Estimators and exact quantities the theory needs."""

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

__all__ = [
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
