"""Exact log Z, NLL and KL of RBMs: enumeration over the smaller layer vs brute force."""

import numpy as np
import pytest

from neurocl.data import bars_and_stripes
from neurocl.measure import (rbm_kl, rbm_log_partition, rbm_log_partition_bruteforce, rbm_nll,
                             rbm_visible_log_probs, all_states)


@pytest.mark.parametrize("nv,nh", [(4, 7), (7, 4), (5, 5)])
def test_log_partition_matches_bruteforce(nv, nh):
    rng = np.random.default_rng(nv * 10 + nh)
    W, a, c = rng.normal(0, 1, (nv, nh)), rng.normal(0, 1, nv), rng.normal(0, 1, nh)
    eps = np.finfo(float).eps
    assert rbm_log_partition(W, a, c) == pytest.approx(rbm_log_partition_bruteforce(W, a, c), rel=100 * eps)


def test_visible_probabilities_sum_to_one():
    rng = np.random.default_rng(1)
    W, a, c = rng.normal(0, 1, (6, 3)), rng.normal(0, 1, 6), rng.normal(0, 1, 3)
    assert np.exp(rbm_visible_log_probs(W, a, c, all_states(6))).sum() == pytest.approx(1.0, rel=1e-12)


def test_uniform_model_kl_is_log_512_over_14():
    data = bars_and_stripes(3)
    W, a, c = np.zeros((9, 16)), np.zeros(9), np.zeros(16)
    assert rbm_kl(W, a, c, data) == pytest.approx(np.log(512 / 14), rel=1e-12)
    assert rbm_kl(W, a, c, data) == pytest.approx(3.5993, abs=1e-4)


def test_kl_is_nll_minus_data_entropy():
    rng = np.random.default_rng(5)
    data = bars_and_stripes(3)
    W, a, c = rng.normal(0, 1, (9, 16)), rng.normal(0, 1, 9), rng.normal(0, 1, 16)
    entropy = np.log(14)
    assert rbm_kl(W, a, c, data) == pytest.approx(rbm_nll(W, a, c, data) - entropy, rel=1e-10)
    assert rbm_kl(W, a, c, data) > 0
