"""Continuous-time Glauber dynamics of a fully connected BM visit states with the exact
Boltzmann frequencies (RBMs: on every engine, ``tests/conformance``)."""

import numpy as np

from neurocl.circuits import BoltzmannMachine
from neurocl.engines.numpy import glauber_step
from neurocl.measure import boltzmann_distribution, empirical_distribution, total_variation


def _free_run(circuit, params, n_steps, dt, replicas, seed, layer, burn_in=500):
    rng = np.random.default_rng(seed)
    state = circuit.init_state(rng, replicas)
    p = 1.0 - np.exp(-dt / circuit.tau_n)
    clamped = np.zeros(replicas, dtype=bool)
    samples = np.empty((n_steps, replicas, state[layer].shape[1]))
    for k in range(burn_in + n_steps):
        glauber_step(circuit, params, state, p, clamped, rng)
        if k >= burn_in:
            samples[k - burn_in] = state[layer]
    return samples.reshape(-1, samples.shape[-1])


def test_boltzmann_machine_5_units_matches_exact_distribution():
    """32 states, 20 replicas x 20,000 steps (dt = 0.5 tau_n), fixed seed; TV <= 0.02."""
    bm = BoltzmannMachine(5, tau_n=1.0)
    rng = np.random.default_rng(0)
    W = np.triu(rng.normal(0, 1.0, (5, 5)), 1)
    params = {"W": (W + W.T)[None].repeat(20, 0), "a": rng.normal(0, 0.5, (1, 5)).repeat(20, 0)}
    samples = _free_run(bm, params, 20_000, 0.5, 20, seed=1, layer="s")
    exact = boltzmann_distribution(params["W"][0], params["a"][0])
    tv = total_variation(empirical_distribution(samples), exact)
    assert tv < 0.02, tv


def test_clamped_units_do_not_move():
    bm = BoltzmannMachine(4, n_visible=2)
    rng = np.random.default_rng(0)
    params = bm.init_params(rng, 3)
    state = {"s": np.array([[1.0, 0, 1, 1], [0, 1, 0, 0], [1, 1, 1, 1]])}
    before = state["s"].copy()
    for _ in range(50):
        glauber_step(bm, params, state, 1.0, np.array([True, True, False]), rng)
    np.testing.assert_array_equal(state["s"][:2, :2], before[:2, :2])
