"""The conformance checks fail for deliberately broken engines (so they can fail at all).

Four test-only engines, registered here and nowhere else:

* ``broken_parallel``: Glauber units that update *both* RBM layers at once from the previous
  state (a synchronous update of coupled units), which breaks detailed balance: its free-run
  law is not the Boltzmann law;
* ``broken_isd_weight``: ISD that drops the importance weights (``+1``/``-1`` instead of
  ``+1/b``/``-1/(1-b)``): at ``b = 0.3`` its drift is ``b E+ - (1-b) E-``, not the gradient;
* ``broken_spiking_offset``: Brian2 neural-sampling units whose membrane potential lacks the
  ``-log tau`` offset (spike probability ``sigmoid(u)`` instead of ``sigmoid(u - log tau)``);
* ``broken_spiking_psp``: Brian2 neural-sampling units whose PSP (``tau - 1`` steps) is shorter
  than their refractory period (``tau`` steps).

The two spiking variants fail the same stationary-law check the ``brian2-spiking`` variant
of the conformance suite passes, on an eighth of its samples (their TV is 0.3-0.5, the
bound 0.04-0.07).
"""

import functools

import numpy as np
import pytest

from conformance.checks import isd_drift, stationary_law
from neurocl.engines import register
from neurocl.engines.numpy.engine import NumpyEngine, run_continuous
from neurocl.engines.numpy.learners import ISDLearner
from neurocl.engines.numpy.reference import run_reference
from neurocl.numerics import sigmoid
from neurocl.schema import Registry


class _UnweightedISD(ISDLearner):
    def step(self, params, stat, positive, phase_start, t, dt):
        w = np.where(positive, 1.0, -1.0) * (self.rule.learning_rate * dt)
        for k, f in stat.items():
            params[k] += w.reshape(w.shape + (1,) * (f.ndim - 1)) * f


BROKEN_LEARNERS = Registry("rule (broken)")
BROKEN_LEARNERS.register("isd", _UnweightedISD)


@register("broken_isd_weight")
class BrokenISDWeight(NumpyEngine):
    """ISD without importance weights (test only)."""

    runners = {}


@BrokenISDWeight.runner(circuits=("rbm",), rules=("isd",))
def _run_unweighted(engine, circuit, rule, phases, task, sim, *, params=None, progress=False, desc="", profile=None):
    rng_init, rng = np.random.default_rng([sim.seed, 0]), np.random.default_rng([sim.seed, 1])
    params = params if params is not None else circuit.init_params(rng_init, sim.replicas)
    return run_reference(circuit, rule, phases, task, sim, params, rng, rng_init, learners=BROKEN_LEARNERS)


try:
    import brian2  # noqa: F401

    import neurocl.engines.brian2.model as b2model
    from neurocl.engines.brian2 import Brian2Engine
    from neurocl.engines.brian2.network import Brian2Network
except ImportError:  # brian2 not installed: the spiking tests skip
    Brian2Engine = None

if Brian2Engine is not None:
    class _NoOffsetNetwork(Brian2Network):
        spiking_code = staticmethod(functools.partial(b2model.spiking_update_code, log_tau_offset=False))

    class _ShortPSPNetwork(Brian2Network):
        @staticmethod
        def spiking_code(psp_steps, *args, **kw):
            return b2model.spiking_update_code(psp_steps - 1, *args, refractory_steps=psp_steps, **kw)

    @register("broken_spiking_offset")
    class BrokenSpikingOffset(Brian2Engine):
        """Neural sampling without the ``-log tau`` offset (test only)."""

        network = _NoOffsetNetwork

    @register("broken_spiking_psp")
    class BrokenSpikingPSP(Brian2Engine):
        """Neural sampling with PSPs one step shorter than the refractory period (test only)."""

        network = _ShortPSPNetwork


@register("broken_parallel")
class BrokenParallel(NumpyEngine):
    """RBM free run with both layers updated at once from the previous state (test only)."""


    def free_run(self, circuit, params, sim, burn_in=500):
        rng = np.random.default_rng([sim.seed, 1])
        state = circuit.init_state(np.random.default_rng([sim.seed, 0]), sim.replicas)
        p = 1.0 - np.exp(-sim.dt / circuit.tau_n)
        out = np.empty((sim.n_steps,) + state["v"].shape)
        for k in range(burn_in + sim.n_steps):
            uh = circuit.field(params, state, "h")
            uv = circuit.field(params, state, "v")
            for layer, u in (("h", uh), ("v", uv)):
                r = rng.random((2,) + u.shape)
                np.copyto(state[layer], (r[1] < sigmoid(u)).astype(float), where=r[0] < p)
            if k >= burn_in:
                out[k - burn_in] = state["v"]
        return out


BrokenParallel.runners = {("rbm", "isd"): run_continuous}


def test_parallel_layer_updates_fail_the_stationary_law_check():
    stat, bound, detail = stationary_law(BrokenParallel())
    assert stat > bound, detail


def test_dropped_importance_weight_fails_the_drift_check():
    stat, bound, detail = isd_drift(BrokenISDWeight())
    assert stat > bound, detail


@pytest.mark.parametrize("name", ["broken_spiking_offset", "broken_spiking_psp"])
def test_wrong_neural_sampling_fails_the_stationary_law_check(name):
    if Brian2Engine is None:
        pytest.skip("brian2 not installed")
    from neurocl.engines import get_engine

    engine = get_engine(name, target="numpy", record=0.0, units="spiking")
    stat, bound, detail = stationary_law(engine, replicas=16, steps=2_000)
    assert stat > bound, detail


@pytest.mark.parametrize("name", ["broken_isd_weight", "broken_parallel", "broken_spiking_offset",
                                  "broken_spiking_psp"])
def test_broken_engines_are_registered_for_these_tests_only(name):
    from neurocl.engines import ENGINES

    if name not in ENGINES:
        pytest.skip("brian2 not installed")
    assert ENGINES[name].__module__.endswith("test_broken_engine")
