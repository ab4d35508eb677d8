"""Phase process: fraction of positive phases and mean phase length (Williams et al. 2023)."""

import numpy as np
import pytest

from neurocl.errors import ConfigError
from neurocl.phases import Alternating, Exponential, Fixed, Gamma, StochasticPhases, Uniform

LAWS = [Fixed(10.0), Exponential(10.0), Gamma(10.0, shape=3.0), Uniform(10.0, width=0.8)]


@pytest.mark.parametrize("law", LAWS, ids=lambda law: type(law).__name__)
@pytest.mark.parametrize("b", [0.2, 0.5, 0.8])
def test_positive_fraction_and_mean_length(law, b):
    rng = np.random.default_rng(7)
    sched = StochasticPhases(b, law).schedule(2_000_000.0, rng)
    n = len(sched.positive) - 1  # the last phase is cut at `duration`
    frac = sched.positive[:n].mean()
    se = np.sqrt(b * (1 - b) / n)
    assert abs(frac - b) < 3 * se, (frac, b, se)
    lengths = sched.lengths[:n]
    se_len = np.sqrt(law.variance / n) if law.variance > 0 else 1e-12
    assert abs(lengths.mean() - law.mean) < 3 * se_len + 1e-9
    assert abs(lengths.var() - law.variance) < 0.1 * law.variance + 1e-9


def test_phases_are_independent_of_seed_state_only_through_rng():
    a = StochasticPhases(0.3, Exponential(5.0)).schedule(1000.0, np.random.default_rng(1))
    b = StochasticPhases(0.3, Exponential(5.0)).schedule(1000.0, np.random.default_rng(1))
    np.testing.assert_array_equal(a.starts, b.starts)
    np.testing.assert_array_equal(a.positive, b.positive)


def test_alternating():
    sched = Alternating(10.0).schedule(95.0)
    np.testing.assert_allclose(sched.starts, np.arange(10) * 10.0)
    assert list(sched.positive[:4]) == [True, False, True, False]
    assert sched.lengths[-1] == pytest.approx(5.0)
    idx = sched.phase_index(np.array([0.0, 9.99, 10.0, 94.0]))
    assert list(idx) == [0, 0, 1, 9]


@pytest.mark.parametrize("b", [0.0, 1.0, -0.1, 1.5])
def test_b_outside_open_unit_interval(b):
    with pytest.raises(ConfigError, match=r"b = .* outside the allowed range \(0, 1\)"):
        StochasticPhases(b, Exponential(1.0))


def test_bad_lengths():
    with pytest.raises(ConfigError, match="mean = 0 must be > 0"):
        Exponential(0.0)
    with pytest.raises(ConfigError, match="width"):
        Uniform(1.0, width=1.5)


def test_presentation_keeps_a_sample_for_at_least_its_duration():
    from neurocl.engines import Simulation
    from neurocl.engines.numpy import phase_table

    sim = Simulation(dt=0.5, duration=20_000.0, replicas=2)
    phases = StochasticPhases(0.5, Exponential(5.0))
    pos, start, fresh = phase_table(phases, sim, np.random.default_rng(0), presentation=100.0)
    assert not (fresh & ~(pos & start)).any()  # refreshes only at positive-phase starts
    for r in range(2):
        t = np.flatnonzero(fresh[r]) * sim.dt
        gaps = np.diff(t)
        assert gaps.min() >= 100.0
        assert gaps.mean() < 100.0 + 3 * 2 * 5.0  # next positive start after the wait: ~2 mean phases
    pos0, start0, fresh0 = phase_table(phases, sim, np.random.default_rng(0), presentation=0.0)
    np.testing.assert_array_equal(fresh0, pos0 & start0)
