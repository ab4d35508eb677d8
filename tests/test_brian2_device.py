"""Brian2's synaptic device code has the law of ``neurocl.hardware.device``.

The Brian2 engine does not call :func:`neurocl.hardware.device.device_update`: it runs its own
translation (:func:`neurocl.engines.brian2.model.plasticity_code`) inside a ``Synapses``
object.  Here both are given the same request from the same start:

* the device-to-device draws come from :func:`~neurocl.hardware.device.draw_device_params`
  with one seed (Brian2 through :func:`neurocl.engines.brian2.network.init_devices`), so the
  synapses are the same devices on both sides;
* ``N`` synapses per case (a start weight ``w0`` and a requested change ``dw``, a few pulses
  up, down, a fraction of a pulse, many pulses near the upper bound) take one update: on
  Brian2 (numpy code generation target, one integration step), and through
  ``device_update`` + ``read_weights``.

Compared per case: mean and variance of the stored-weight change ``Wd - w0`` and of the read
weight (device units).  Bound: ``|difference| <= z * SE``, with ``SE`` the standard error of
the difference of two independent estimates from ``N`` samples each (mean: ``sqrt((s1^2 +
s2^2) / N)``; variance: ``sqrt((m4_1 - s1^4 + m4_2 - s2^4) / N)``, ``m4`` the fourth central
moment), and ``z`` from Bonferroni over all ``K`` comparisons of the module at family-wise
level ``ALPHA = 1 %`` (``K = 7 profiles x 4 cases x 2 quantities x 2 moments = 112``: ``z =
3.92``, about 4 standard errors).  Sharing the device draws only makes the two samples positively correlated, so the
bound is conservative.

The test has power: :func:`test_mutated_device_code_fails_the_comparison` runs the same
comparison on deliberately broken code (up/down asymmetry with the wrong sign; cycle-to-cycle
noise dropped; deterministic rounding in place of stochastic) and requires it to fail.
"""

import dataclasses
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pytest

from neurocl.engines.brian2 import model
from neurocl.engines.brian2.engine import Brian2Engine
from neurocl.engines.brian2.network import init_devices
from neurocl.hardware import load_profile
from neurocl.hardware.device import (
    SynapseArray,
    device_update,
    draw_device_params,
    read_weights,
)
from neurocl.hardware.profile import HardwareProfile

b2 = pytest.importorskip("brian2")

N = 4000                      # synapses per case
ALPHA = 0.01                  # family-wise false-alarm rate (Bonferroni)
CASES = ((0.3, 2.5), (0.3, -2.5), (-0.6, 0.4), (0.9, 6.0))   # (w0 in device units, dw in pulses)


def _profiles():
    """Shipped profiles restricted to the fields Brian2 implements, plus field variants."""
    out = {"rram_hfo2": load_profile("rram_hfo2"), "ecram": load_profile("ecram"),
           "loihi2": dataclasses.replace(load_profile("loihi2"), shared_rounding=False),
           "pcm": dataclasses.replace(load_profile("pcm"), write_noise_std=0.0, drift_nu=0.0, drift_t0=1.0)}
    out["rram_deterministic"] = dataclasses.replace(out["rram_hfo2"], rounding="deterministic")
    out["pcm_additive_c2c"] = dataclasses.replace(out["pcm"], c2c="additive", stuck_value="max",
                                                  stuck_fraction=0.05)
    out["continuous_bounded"] = HardwareProfile(name="continuous_bounded", w_min=-1.0, w_max=1.0, w_bounds_dtod=0.2,
                                                read_noise_std=0.01, weight_scale=2.0)
    return out


PROFILES = _profiles()
K = len(PROFILES) * len(CASES) * 2 * 2
Z = NormalDist().inv_cdf(1 - ALPHA / (2 * K))


def _requests(profile):
    """Start weights and requested changes (device units), ``N`` synapses per case."""
    unit = profile.dw_min or 0.01
    w0 = np.repeat([c[0] for c in CASES], N).astype(float)
    dw = np.repeat([c[1] * unit for c in CASES], N).astype(float)
    return w0, dw


def _brian2_update(profile, seed, code=None):
    """One step of the Brian2 device code on ``len(CASES) * N`` synapses: stored and read
    weights after it, the start weights, and the device draws (seed ``[seed, 2]``)."""
    b2.prefs.codegen.target = "numpy"
    b2.prefs.logging.std_redirection = False
    b2.seed(seed)
    w0, dw = _requests(profile)
    n_cases = len(CASES)
    ns = {"eta_dt": 1.0, **model.device_constants(profile)}
    pre = b2.NeuronGroup(n_cases, "modulation : 1\ns : 1", namespace=ns)
    post = b2.NeuronGroup(N, "m : 1", namespace=ns)
    syn = b2.Synapses(pre, post, "W : 1\n" + model.DEVICE_EQUATIONS, namespace=ns)
    syn.connect()  # synapse k: pre k // N, post k % N (pre-major)
    assert np.array_equal(syn.i[:], np.repeat(np.arange(n_cases), N))
    pre.s, post.m = 1.0, 1.0
    pre.modulation = dw.reshape(n_cases, N)[:, 0] * profile.weight_scale   # the request in network units
    init_devices(syn, profile, w0 * profile.weight_scale, np.random.default_rng([seed, 2]))
    start = np.asarray(syn.Wd[:]).copy()
    syn.run_regularly(code or model.plasticity_code("m_post", profile), when="groups", order=30)
    b2.Network(pre, post, syn).run(b2.defaultclock.dt, namespace={})
    dev = draw_device_params(profile, w0.shape, np.random.default_rng([seed, 2]))
    return np.asarray(syn.Wd[:]), np.asarray(syn.W[:]) / profile.weight_scale, start, dw, dev


def _numpy_update(profile, dev, start, dw, seed):
    rng = np.random.default_rng([seed, 7])
    stored, _ = device_update(profile, dev, start, dw, rng)
    return stored, read_weights(profile, stored, None, rng)


def _moments(x):
    m, v = x.mean(), x.var(ddof=1)
    m4 = np.mean((x - m) ** 4)
    return m, v, m4


def _failures(profile, seed=0, code=None):
    """Comparisons outside the bound: ``[(case, quantity, moment, difference / SE)]``."""
    wd_b2, read_b2, start, dw, dev = _brian2_update(profile, seed, code)
    wd_np, read_np = _numpy_update(profile, dev, start, dw, seed)
    out = []
    for c in range(len(CASES)):
        sl = slice(c * N, (c + 1) * N)
        for what, x, y in (("stored change", wd_b2[sl] - start[sl], wd_np[sl] - start[sl]),
                           ("read weight", read_b2[sl], read_np[sl])):
            (mx, vx, m4x), (my, vy, m4y) = _moments(x), _moments(y)
            se_mean = np.sqrt((vx + vy) / N)
            se_var = np.sqrt((max(m4x - vx**2, 0.0) + max(m4y - vy**2, 0.0)) / N)
            for moment, d, se in (("mean", mx - my, se_mean), ("variance", vx - vy, se_var)):
                if abs(d) > Z * se + 1e-12:
                    out.append((CASES[c], what, moment, d / se if se else np.inf))
    return out


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_brian2_device_update_has_the_law_of_device_update(name):
    assert _failures(PROFILES[name]) == []


@pytest.mark.parametrize("mutation", ["up_down sign", "no c2c noise", "deterministic rounding"])
def test_mutated_device_code_fails_the_comparison(mutation):
    """The comparison detects a wrong law (rram_hfo2: asymmetric, multiplicative c2c noise)."""
    profile = PROFILES["rram_hfo2"]
    code = model.plasticity_code("m_post", profile)
    if mutation == "up_down sign":
        mutant = code.replace("up*(1 + ud) + (1 - up)*(1 - ud)", "up*(1 - ud) + (1 - up)*(1 + ud)")
    elif mutation == "no c2c noise":
        mutant = code.replace("change = change + step*c2c_std*sqrt(n_pulse)*xi", "change = change + 0*xi")
    else:
        mutant = code.replace("n_pulse = floor(n_real) + int(u_round < n_real - floor(n_real))",
                              "n_pulse = floor(n_real + 0.5 + 0*u_round)")
    assert mutant != code
    assert _failures(profile, code=mutant)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_initial_device_weights_match_synapse_array(name):
    """Brian2's device initialisation stores what ``SynapseArray`` stores (same draws)."""
    profile = PROFILES[name]
    W0 = np.random.default_rng(1).normal(0.0, 0.5, 500) * profile.weight_scale
    syn = SimpleNamespace()
    init_devices(syn, profile, W0, np.random.default_rng(3))
    ref = SynapseArray(profile, W0, np.random.default_rng(3))
    np.testing.assert_array_equal(syn.Wd, ref.hidden)
    np.testing.assert_array_equal(syn.step_scale, ref.dev.step_scale)


def test_every_allowed_field_is_a_profile_field_and_the_rest_are_refused():
    fields = {f.name for f in dataclasses.fields(HardwareProfile)}
    assert model.PROFILE_FIELDS <= fields
    assert Brian2Engine.profile_fields == model.PROFILE_FIELDS
    assert not model.PROFILE_FIELDS & {"write_noise_std", "drift_nu", "drift_t0", "shared_rounding", "t_epoch"}
