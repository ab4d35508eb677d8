"""One conformance suite for every engine (nengo's backend tests): the same properties,
checked the same way, skipped only by what an engine declares in ``supports()``.

Statistical checks and their bounds: :mod:`.checks`.  Run one engine with
``pytest tests/conformance -k numpy`` (or ``-k brian2``, ``-k lava``).
"""

import dataclasses

import numpy as np
import pytest

from conformance.checks import isd_drift, stationary_law
from conformance.conftest import require
from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task
from neurocl.errors import DivergenceError, UnsupportedFeatureError
from neurocl.hardware import HardwareProfile, load_profile
from neurocl.phases import Alternating, Exponential, StochasticPhases
from neurocl.plasticity import ISD
from neurocl.schema import init_fields

#: shorter runs where an engine is slow (the bounds follow the sample size)
DRIFT_DURATION = {"lava": 5_000.0, "brian2": 15_000.0}


def _no_evaluation(params):
    raise AssertionError("the engine started simulating before refusing an unsupported feature")


@dataclasses.dataclass(frozen=True)
class NotARule:
    """A rule no engine registered."""

    learning_rate: float = 1e-3
    mean_field: bool = True
    name = "not_a_rule"
    time = "continuous"


def _bas2():
    return Task(clamp=bars_and_stripes(2), evaluate=_no_evaluation)


def test_stationary_law_is_exact(engine):
    """6 x 5 RBM, 32 replicas x 8,000 steps: TV and per-state bounds of :func:`stationary_law`
    (for ``brian2-spiking``: the neural-sampling "on" states of spiking units)."""
    require(engine, capability="free_run")
    stat, bound, detail = stationary_law(engine)
    assert stat <= bound, detail


@pytest.mark.slow
def test_stationary_law_is_exact_large_sample(engine):
    """Eight times the samples (64 replicas x 32,000 steps): bounds about 2.8 times tighter."""
    require(engine, capability="free_run")
    stat, bound, detail = stationary_law(engine, replicas=64, steps=32_000, seed=7)
    assert stat <= bound, detail


def test_always_on_drift_is_the_exact_gradient(engine):
    require(engine, run=("rbm", "isd"), capability="float_weights")
    stat, bound, detail = isd_drift(engine, duration=DRIFT_DURATION.get(engine.name, 100_000.0))
    assert stat <= bound, detail


def test_divergence_is_detected_with_its_time(engine):
    require(engine, run=("rbm", "isd"), capability="divergence")
    sim = Simulation(dt=1.0, duration=200.0, replicas=2, seed=0, checkpoints=2)
    with pytest.raises(DivergenceError) as err:   # eta dt / b = 2e308 overflows at the first update
        engine.run(RBM(4, 3, init_scale=1.0), ISD(1e308), StochasticPhases(0.5, Exponential(5.0)),
                   Task(clamp=bars_and_stripes(2)), sim)
    assert 0 < err.value.time <= sim.duration and err.value.time == pytest.approx(err.value.step * sim.dt)
    assert f"t = {err.value.time:g} ms" in str(err.value)


def test_unregistered_rule_is_refused_before_simulating(engine):
    sim = Simulation(dt=1.0, duration=100.0)
    with pytest.raises(UnsupportedFeatureError, match=f"'{engine.name}'.*not_a_rule"):
        engine.run(RBM(4, 3), NotARule(), StochasticPhases(0.5, Exponential(5.0)), _bas2(), sim)


def test_unimplemented_phase_process_is_refused_before_simulating(engine):
    sup = engine.supports()
    if "alternating" in sup["phases"]:
        pytest.skip(f"{engine.name} runs every phase process")
    require(engine, run=("rbm", "isd"))
    with pytest.raises(UnsupportedFeatureError, match="alternating"):
        engine.run(RBM(4, 3), ISD(1e-3), Alternating(5.0), _bas2(), Simulation(dt=1.0, duration=100.0))


def test_unimplemented_profile_field_is_refused_before_simulating(engine):
    require(engine, run=("rbm", "isd"))
    implemented = engine.supports()["profile_fields"]
    probes = {"drift_nu": 0.05, "up_down": 0.1, "t_epoch": 2, "dw_min_std": 0.1}   # each valid alone
    missing = [f for f in probes if f not in implemented]
    if not missing:
        pytest.skip(f"{engine.name} implements every probed profile field")
    field = missing[0]
    profile = HardwareProfile(name="probe", **{field: probes[field]})
    with pytest.raises(UnsupportedFeatureError, match=field):
        engine.run(RBM(4, 3), ISD(1e-3), StochasticPhases(0.5, Exponential(5.0)), _bas2(),
                   Simulation(dt=1.0, duration=100.0), profile=profile)


def _restricted_loihi2(engine) -> HardwareProfile:
    """The loihi2 profile with every field the engine does not implement reset to ideal."""
    prof = load_profile("loihi2")
    ideal = HardwareProfile()
    keep = engine.supports()["profile_fields"]
    reset = {f.name: getattr(ideal, f.name) for f in init_fields(HardwareProfile)
             if f.name in prof.non_default() and f.name not in keep}
    return dataclasses.replace(prof, **reset)


def test_fixed_point_weights_stay_on_the_profile_grid(engine):
    """Every weight an engine reports after learning on the loihi2 grid is an integer multiple
    of ``weight_scale * quantum`` within ``weight_scale * [w_min, w_max]``, and learning moved them."""
    require(engine, run=("rbm", "isd"), profile_fields=("weight_bits", "w_min", "w_max", "weight_scale"))
    prof = _restricted_loihi2(engine)
    rbm = RBM(4, 3, init_scale=0.5)
    sim = Simulation(dt=1.0, duration=400.0, replicas=2, seed=1, checkpoints=1)
    start = rbm.init_params(np.random.default_rng(0), 2)
    traj = engine.run(rbm, ISD(1e-3), StochasticPhases(0.5, Exponential(2.0)),
                      Task(clamp=bars_and_stripes(2)), sim, params={k: v.copy() for k, v in start.items()},
                      profile=prof)
    step = prof.weight_scale * prof.quantum
    units = np.asarray(traj.params["W"]) / step
    np.testing.assert_allclose(units, np.round(units), atol=1e-6)
    assert np.abs(traj.params["W"]).max() <= prof.weight_scale * prof.w_max + 1e-9
    start_units = np.round(start["W"] / step)
    assert np.any(np.round(units) != np.clip(start_units, prof.w_min / prof.quantum, prof.w_max / prof.quantum))


def test_same_seed_same_trajectory(engine):
    require(engine, run=("rbm", "isd"))
    rbm = RBM(4, 3, init_scale=0.5)
    task = Task(clamp=bars_and_stripes(2))

    profile = None if "float_weights" in engine.supports()["capabilities"] else _restricted_loihi2(engine)

    def final(seed):
        sim = Simulation(dt=1.0, duration=300.0, replicas=2, seed=seed, checkpoints=1)
        return np.asarray(engine.run(rbm, ISD(1e-3), StochasticPhases(0.5, Exponential(2.0)), task, sim,
                                     profile=profile).params["W"])

    first, again, other = final(4), final(4), final(5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
