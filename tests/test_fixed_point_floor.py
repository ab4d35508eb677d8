"""The fixed-point floor (neurocl.theory_fixed_point) against closed forms and simulation, and the
synaptic-tag accumulator of the device model."""

import dataclasses

import numpy as np
import pytest

from neurocl.errors import ConfigError
from neurocl.hardware import HardwareProfile, load_profile
from neurocl.hardware.device import SynapseArray, pulse_counts
from neurocl.theory_fixed_point import (binary_floor, grid_step, ou_excess_loss, rounding_moments, rounding_noise_trace,
                                        stationary_excess_loss)

Q = 1.0 / 32


def _round_errors(u, q, shared, n, rng):
    """``n`` draws of the stochastic-rounding error of ``u`` through the device model's ``pulse_counts``."""
    prof = dataclasses.replace(load_profile("loihi2"), shared_rounding=shared)
    x = np.abs(u) / q
    return np.stack([np.sign(u) * q * pulse_counts(prof, x, rng) - u for _ in range(n)])


@pytest.mark.parametrize("shared", [False, True])
def test_rounding_moments_match_the_device_model(shared):
    # n = 20000 draws: each covariance entry q^2 (min - prod) is at most q^2 / 4 and its estimate
    # has s.e. <= q^2 / sqrt(n) (|e| <= q); bound 5 s.e.
    rng = np.random.default_rng(0)
    u = np.array([0.3, -0.7, 1.45, 0.3, -0.05, 2.0]) * Q
    n = 20000
    e = _round_errors(u, Q, shared, n, rng)
    bias, cov = rounding_moments(u, Q, "stochastic", shared)
    assert np.all(np.abs(e.mean(0) - bias) <= 5 * Q / np.sqrt(n))
    assert np.all(np.abs(np.cov(e.T) - cov) <= 5 * Q * Q / np.sqrt(n))
    # the broken variant (independent-rounding covariance for shared rounding and vice versa) fails
    _, wrong = rounding_moments(u, Q, "stochastic", not shared)
    assert not np.all(np.abs(np.cov(e.T) - wrong) <= 5 * Q * Q / np.sqrt(n))


def test_deterministic_rounding_is_a_bias():
    bias, cov = rounding_moments(np.array([0.2, -0.7]) * Q, Q, "deterministic")
    assert np.allclose(bias, np.array([-0.2, -0.3]) * Q) and not cov.any()
    assert rounding_noise_trace(np.ones((3, 2)) * 0.2 * Q, Q, "deterministic") == 0.0
    assert binary_floor(Q, 1e-3, 1.0, 0.5, 10.0, 10.0, "deterministic").frozen          # 0.064 steps < 1/2
    assert not binary_floor(Q / 16, 1e-3, 1.0, 0.5, 10.0, 10.0, "deterministic").frozen


def test_binary_floor_closed_form():
    # exact algebra: Tr Sigma = q^2 [b phi(f+) S+ + (1-b) phi(f-) S-]; with b = 1/2, f < 1:
    # excess = q (1 - f) S / (4 b), independent of eta; linear in q
    for eta in (1e-4, 1e-3):
        p = binary_floor(Q, eta, 1.0, 0.5, 30.0, 30.0)
        f = eta * 1.0 / (0.5 * Q)
        assert p.f_pos == pytest.approx(f)
        assert p.excess_nats == pytest.approx(Q * (1 - f) * 30.0 / (4 * 0.5), rel=1e-12)
    ups = np.zeros((4, 9, 16))
    ups[0, :3, :4] = 2e-3
    ups[1, :2, :5] = -2e-3
    S = (12 + 0 + 0 + 0) / 4 / 0.5, (10 + 0 + 0 + 0) / 4 / 0.5     # b S+ = E[coincidences; positive]
    cf = binary_floor(Q, 1e-3, 1.0, 0.5, *S)
    assert cf.noise_trace == pytest.approx(rounding_noise_trace(ups, Q), rel=1e-12)
    # the accumulator replaces q by q / 2^m in the trace
    assert binary_floor(Q, 1e-4, 1.0, 0.5, 30.0, 30.0, accumulator_bits=3).excess_nats < \
        binary_floor(Q, 1e-4, 1.0, 0.5, 30.0, 30.0).excess_nats / 7
    assert grid_step(load_profile("loihi2")) == pytest.approx(Q)


def _simulate_ou(lam, u, q, shared, eta_dt, chains, steps, burn, rng):
    """Mean of 1/2 delta^T H delta (H = diag lam) over chains (one value per chain) when each step
    adds the stochastic-rounding error of the update u (the ideal part is the gradient step)."""
    prof = dataclasses.replace(load_profile("loihi2"), shared_rounding=shared)
    d = np.zeros((chains, lam.size))
    x = np.broadcast_to(np.abs(u) / q, d.shape)
    acc = np.zeros(chains)
    for k in range(burn + steps):
        if shared:
            c = np.floor(x) + (rng.random((chains, 1)) < x - np.floor(x))
        else:
            c = pulse_counts(prof, x, rng)
        d = d - eta_dt * lam * d + (np.sign(u) * q * c - u)
        if k >= burn:
            acc += 0.5 * np.sum(lam * d * d, axis=1)
    return acc / steps


@pytest.mark.parametrize("shared", [False, True])
def test_stationary_excess_matches_a_simulated_ou_chain(shared):
    # 400 independent chains, 1500 steps after a burn-in of 5 relaxation times of the slowest
    # direction (1 / (eta dt lambda_min) = 100 steps): the chain means are i.i.d.; bound 4 s.e.
    # plus the O(eta dt lambda) = 2 % first-order error of Eq. (*).  Only Tr Sigma enters: the
    # same bound holds for shared (fully correlated) and independent rounding.
    rng = np.random.default_rng(1)
    lam = np.linspace(0.5, 2.0, 12)
    u = np.array([0.1, 0.3, 0.064, 0.5, 0.9, 0.2, 0.064, 0.0, 0.4, 0.7, 0.064, 0.15]) * Q
    eta_dt = 0.02
    m = _simulate_ou(lam, u, Q, shared, eta_dt, 400, 1500, 500, rng)
    _, cov = rounding_moments(u, Q, "stochastic", shared)
    pred = stationary_excess_loss(rounding_noise_trace(u[None], Q), eta_dt)
    exact = ou_excess_loss(np.diag(lam), cov, eta_dt)
    se = m.std(ddof=1) / np.sqrt(m.size)
    assert abs(m.mean() - exact) <= 4 * se
    assert abs(m.mean() - pred) <= 4 * se + 0.02 * pred
    # broken variants fail the same check: Tr Sigma / (2 eta dt), or a variance q^2 x (sampling-like)
    assert abs(m.mean() - 2 * pred) > 4 * se + 0.02 * pred
    x = np.abs(u) / Q
    assert abs(m.mean() - np.sum(Q * Q * x) / (4 * eta_dt)) > 4 * se + 0.02 * pred


def test_ou_excess_loss_finite_time_and_limits():
    lam = np.array([1e-3, 0.5, 1.0])
    cov = np.diag([1.0, 2.0, 3.0])
    eta_dt = 0.01
    # stationary -> Tr / (4 eta dt) for small eta dt lambda; a flat direction contributes only
    # 1/2 lambda k c after k steps (it has not relaxed)
    full = ou_excess_loss(np.diag(lam), cov, eta_dt)
    assert full == pytest.approx(stationary_excess_loss(6.0, eta_dt), rel=0.01)
    k = 200
    a2 = (1 - eta_dt * lam) ** 2
    want = 0.5 * np.sum(lam * np.diag(cov) * (1 - a2**k) / (1 - a2))
    assert ou_excess_loss(np.diag(lam), cov, eta_dt, steps=k) == pytest.approx(want, rel=1e-12)
    assert ou_excess_loss(np.diag([0.0, 1.0]), np.eye(2), eta_dt, steps=k) == pytest.approx(
        0.5 * (1 - (1 - eta_dt) ** (2 * k)) / (1 - (1 - eta_dt) ** 2), rel=1e-12)
    with pytest.raises(ValueError):
        ou_excess_loss(np.diag([-1.0, 1.0]), np.eye(2), eta_dt)
    # a slow direction over a long time: 1 - a^2 ~ 2e-9, a^(2k) = exp(-2) (no cancellation error)
    slow = ou_excess_loss(np.diag([1e-6]), np.eye(1), 1e-3, steps=10**9)
    assert slow == pytest.approx(0.5 * 1e-6 * (1 - np.exp(-2.0)) / 2e-9, rel=1e-5)


def test_tag_accumulator_conserves_and_cuts_the_rounding_noise():
    # 4000 synapses with independent rounding ask 200 times for 0.064 of a grid step: the read
    # weight's variance across synapses is K q^2 x (1 - x) without the tag (s.e. of a sample
    # variance sqrt(2 / n) = 2.2 %: bound 12 %), and with a 3-bit tag it is the fine grid's
    # accumulated noise plus the bounded lag (<= (q / 2)^2): below a fifth of it.
    base = dataclasses.replace(load_profile("loihi2"), shared_rounding=False)
    tagged = dataclasses.replace(base, accumulator_bits=3)
    n, K, u = 4000, 200, 0.064 * Q
    reads = {}
    for name, prof in (("plain", base), ("tag", tagged)):
        arr = SynapseArray(prof, np.zeros(n), np.random.default_rng(2))
        for _ in range(K):
            arr.request(np.full(n, u))
        reads[name] = arr.read()
        if prof.accumulator_bits:
            fine = Q / 8
            assert np.all(np.abs(arr.tag) <= 4)                    # |tag| <= 2^(m-1) fine units
            total = reads[name] + arr.tag * fine                   # nothing is lost
            assert abs(total.mean() - K * u) <= 5 * np.sqrt(K * 0.25) * fine / np.sqrt(n)
    x = 0.064
    assert reads["plain"].var() == pytest.approx(K * Q * Q * x * (1 - x), rel=0.12)
    assert reads["tag"].var() < 0.2 * reads["plain"].var()
    assert abs(reads["tag"].mean() - K * u) <= Q                    # unbiased up to the lag


def test_accumulator_bits_validation():
    with pytest.raises(ConfigError, match="accumulator_bits"):
        dataclasses.replace(load_profile("loihi2"), accumulator_bits=17)
    with pytest.raises(ConfigError, match="accumulator_bits"):
        HardwareProfile(w_min=-1.0, w_max=1.0, accumulator_bits=2)
    assert dataclasses.replace(load_profile("loihi2"), accumulator_bits=3).non_default()["accumulator_bits"] == 3
