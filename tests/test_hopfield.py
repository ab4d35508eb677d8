"""LayeredHopfield: drift is the negative energy gradient; relaxation lowers the energy."""

import numpy as np
import pytest

from neurocl.circuits import LayeredHopfield


@pytest.fixture
def net_and_params():
    net = LayeredHopfield((5, 4, 3))
    rng = np.random.default_rng(0)
    params = net.init_params(rng, 1)
    params = {k: v + rng.normal(0, 0.3, v.shape) for k, v in params.items()}
    state = {f"s{i}": rng.uniform(0.1, 0.9, (1, n)) for i, n in enumerate(net.sizes)}
    return net, params, state


def test_drift_is_minus_energy_gradient(net_and_params):
    """Central finite differences inside the box (rho(s) = s there); h = 1e-6 gives an
    O(h^2) truncation error well below the 1e-7 tolerance."""
    net, params, state = net_and_params
    drift = net.drift(params, state)
    h = 1e-6
    for layer in ("s1", "s2"):
        for i in range(state[layer].shape[1]):
            up = {k: v.copy() for k, v in state.items()}
            dn = {k: v.copy() for k, v in state.items()}
            up[layer][0, i] += h
            dn[layer][0, i] -= h
            grad = (net.energy(params, up)[0] - net.energy(params, dn)[0]) / (2 * h)
            assert drift[layer][0, i] == pytest.approx(-grad, abs=1e-7)


def test_nudge_force(net_and_params):
    net, params, state = net_and_params
    target = np.array([[1.0, 0.0, 0.0]])
    free = net.drift(params, state)["s2"]
    nudged = net.drift(params, state, target, 0.5)["s2"]
    np.testing.assert_allclose(nudged - free, 0.5 * (target - state["s2"]))


def test_statistic_is_minus_energy_parameter_gradient(net_and_params):
    net, params, state = net_and_params
    stat = net.statistic(params, state)
    h = 1e-6
    for name in ("W0", "b2"):
        idx = (0,) + (0,) * (params[name].ndim - 1)
        up = {k: v.copy() for k, v in params.items()}
        dn = {k: v.copy() for k, v in params.items()}
        up[name][idx] += h
        dn[name][idx] -= h
        grad = (net.energy(up, state)[0] - net.energy(dn, state)[0]) / (2 * h)
        assert stat[name][idx] == pytest.approx(-grad, abs=1e-7)


def test_projected_flow_decreases_energy(net_and_params):
    net, params, state = net_and_params
    energies = []
    for _ in range(200):
        energies.append(net.energy(params, state)[0])
        net.euler_step(state, net.drift(params, state), 0.1)
    assert np.all(np.diff(energies) <= 1e-12)
    assert all(((s >= 0) & (s <= 1)).all() for s in state.values())


def test_bad_sizes():
    from neurocl.errors import ConfigError

    with pytest.raises(ConfigError, match="sizes"):
        LayeredHopfield((64,))
    with pytest.raises(ConfigError, match="positive"):
        LayeredHopfield((4, 2), positive="sometimes")


@pytest.mark.parametrize("positive,negative", [("clamp", "free"), ("nudge", "free"), ("nudge", "antinudge")])
@pytest.mark.parametrize("rest", [False, True])
@pytest.mark.parametrize("rule_name", ["isd", "twophase"])
def test_fused_kernel_equals_reference_path(positive, rule_name, negative, rest):
    """Deterministic dynamics and one training pair: both numpy paths see the same phase
    sequence, so their weights agree to rounding (1e-9 relative)."""
    from neurocl.engines import Simulation, Task, get_engine
    from neurocl.phases import Exponential, StochasticPhases
    from neurocl.plasticity import ISD, TwoPhase

    net = LayeredHopfield((6, 5, 3), positive=positive, negative=negative, beta=0.7, rest_on_new_sample=rest)
    rng = np.random.default_rng(4)
    task = Task(clamp=np.array([[0.0, 1.0, 0.0]]), inputs=rng.uniform(0, 1, (1, 6)),
                evaluate=lambda p: {}, presentation=20.0 if rest else 0.0)
    rule = ISD(0.01) if rule_name == "isd" else TwoPhase(0.01)
    phases = StochasticPhases(0.4, Exponential(3.0))
    sim = Simulation(dt=0.25, duration=300.0, replicas=2, seed=9, checkpoints=2)
    out = [get_engine("numpy", kernel=k).run(net, rule, phases, task, sim).params for k in ("fused", "reference")]
    for k in out[0]:
        np.testing.assert_allclose(out[0][k], out[1][k], rtol=1e-9, atol=1e-12)
    start = net.init_params(np.random.default_rng([9, 0]), 2)
    assert not np.allclose(out[0]["W0"], start["W0"])  # it did learn something
