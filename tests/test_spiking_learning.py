"""Spiking units learn: bas3 with neural-sampling units and always-on ISD on Brian2 (issue 16, part 1).

The shipped spec ``circuits/bas3_spiking.toml`` (``neurocl run bas3_spiking``): RBM 9-16 on
3x3 bars and stripes, ISD (``eta = 5e-5 /ms``, stochastic phases ``b = 0.5``, exponential
lengths of mean 10 ms), ``dt = 1 ms``, 6,000 s simulated, 5 seeds side by side.  Spiking
units (Buesing et al. 2011): refractory period = PSP length ``tau = psp_steps * dt = 2 ms``;
the Glauber reference is the same spec on the numpy engine with ``tau_n = 1 ms``, close to
the ``tau_n = dt / ln 3 = 0.91 ms`` whose units switch as often (equal mean on and off runs at
zero net input: :func:`neurocl.engines.brian2.model.matching_tau_n`).

Claims (issue 16), the bounds asserted: the mean over the 5 seeds of the final KL(data || model)
is <= 0.6 nats with spiking units, and within 0.2 nats of the Glauber units' mean at equal
simulated time (the full shipped run: a shorter one does not reach 0.6 nats at a rate this
stable).  Measured on this run (``examples/brian2_raster.json``, same spec and seed): spiking
0.426 +- 0.090 nats (mean +- s.e. of the 5 seeds), Glauber 0.324 +- 0.026, difference 0.102.
Both engines are deterministic for a fixed ``simulation.seed``, so the test passes
reproducibly; as a statistical statement its margins are 1.9 s.e. (0.6 against 0.426 +- 0.090)
and 1.0 s.e. of the difference (0.2 against 0.102 +- 0.094): at another seed a correct engine
would miss the 0.2-nat gap with probability about 0.15 (normal approximation), because
constant-eta ISD fluctuates at the end (the spiking mean was 0.269 nats at 5,500 s).

Seen failing: the same run with the ``broken_spiking_psp`` engine of ``tests/conformance``
(PSP of 1 step inside a 2-step refractory period: a unit is on at most half the time, whatever
its input) ends at a mean KL of 449 nats (the weights run away).  Not caught here, by design:
``broken_spiking_offset`` (no ``-log tau`` in the membrane potential) samples the Boltzmann law
with every bias shifted by ``log tau``, which learning absorbs into the biases (mean final KL
0.442 nats); the conformance stationary-law test catches that one.

Took 6.5 min on the loaded 2-core machine (Brian2 on the cython target with its compiled code
cached, then numpy; the gallery run of the same spec took 14 min at a heavier load): ``slow``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("brian2")

SPEC = "bas3_spiking"
KL_MAX = 0.6           # nats: spiking units' mean final KL
KL_GAP = 0.2           # nats: |spiking - Glauber| of the means


def final_kl(engine: str | None = None, engine_options: dict | None = None) -> np.ndarray:
    """Final KL(data || model) (nats) per replica of the shipped ``bas3_spiking`` run on
    ``engine`` (default: the spec's, Brian2 spiking units), as ``neurocl run`` runs it."""
    import neurocl
    from neurocl.engines import get_engine
    from neurocl.experiments.tasks import make_task

    config = neurocl.load_spec(SPEC)
    spec = next(s for s in config.learners if s.label == "isd")
    name = engine or config.engine
    options = dict(config.engine_options) if engine is None else dict(engine_options or {})
    if name.startswith("brian2") or name.startswith("broken_spiking"):
        options["record"] = 0.0
    eng = get_engine(name, **options)
    traj = eng.run(config.circuit, spec.rule, spec.phases, make_task(config.circuit, config.data),
                   config.simulation)
    return np.asarray(traj.metrics["kl_nats"][-1])


@pytest.mark.slow
def test_spiking_units_learn_bas3_as_well_as_glauber_units():
    spiking = final_kl()
    glauber = final_kl("numpy")
    print(f"final KL (nats) per seed: spiking {np.round(spiking, 3)}, Glauber {np.round(glauber, 3)}")
    assert spiking.mean() <= KL_MAX, spiking
    assert abs(spiking.mean() - glauber.mean()) <= KL_GAP, (spiking, glauber)
