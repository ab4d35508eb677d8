"""Brian2 model definitions: the equations and update code of a contrastive-learning circuit.

Pure functions returning Brian2 abstract code strings (what Brian2 calls the *model*); the
network is built from them in :mod:`neurocl.engines.brian2` (the *engine*, with its code
generation target).  Nothing here imports Brian2, so the strings are testable on their own.

Unit index layout: replica ``r``'s unit ``i`` of a layer is neuron ``r * n + i``.

Scheduling inside one integration step (Brian2 ``when``/``order`` slots)::

    start     phase process: new phase? sign, length, fresh data sample, modulatory factor
    groups 9  summed field of the first block (Synapses summed variable)
    groups 10 first block update (clamped to data in positive phases) + its bias update
    groups 19 summed field of the second block
    groups 20 second block update + its bias update
    groups 30 synaptic plasticity: ISD three-factor rule (pre x post x phase weight)
"""

from __future__ import annotations

import math

from neurocl.errors import UnsupportedFeatureError
from neurocl.phases import Alternating, Exponential, Fixed, Gamma, StochasticPhases, Uniform

__all__ = ["phase_process_code", "phase_length_code", "glauber_update_code", "spiking_update_code",
           "plasticity_code", "device_constants", "PHASE_EQUATIONS", "UNIT_EQUATIONS", "SPIKING_EQUATIONS"]

ENGINE = "brian2"

#: The phase process, one neuron per replica: a shared variable per replica that clamps the
#: data layer (``z``) and sets the modulatory factor ``wphase = z/b - (1-z)/(1-b)``.
PHASE_EQUATIONS = """
z : 1
wphase : 1
t_next : 1
t_fresh : 1
pattern : 1
scan : 1
"""

#: Stochastic binary unit (Glauber): state ``s``, summed synaptic field ``u``, bias ``bias``,
#: hidden statistic ``m``, and ``modulation``: the third factor as this neuron sees it (a copy
#: of the phase process's linked ``wphase``, readable by synapses as ``modulation_pre``).
UNIT_EQUATIONS = """
s : 1
u : 1
m : 1
bias : 1
diverged_at : 1
modulation : 1
replica : integer (constant)
i_local : integer (constant)
z : 1 (linked)
wphase : 1 (linked)
"""

#: Neural-sampling spiking unit (Buesing et al. 2011): refractory countdown ``zeta`` in steps;
#: the unit is "on" (``s = 1``, rectangular PSP) for ``tau`` steps after each spike.
SPIKING_EQUATIONS = UNIT_EQUATIONS + """
zeta : 1
spiked : 1
"""


def phase_length_code(phases) -> list:
    """Statements drawing the next phase length ``length`` (in ms, dimensionless) from the phase law.

    Exponential ``-mean log U``; fixed ``mean``; uniform ``mean (1 - w) + 2 mean w U``;
    gamma with integer shape ``k`` as ``-(mean/k) log(U_1 ... U_k)`` (sum of ``k``
    exponentials).  A non-integer gamma shape raises :class:`UnsupportedFeatureError`.
    """
    law = phases.length if isinstance(phases, StochasticPhases) else Fixed(phases.length)
    if isinstance(law, Fixed):
        return [f"length = {law.mean!r}"]
    if isinstance(law, Exponential):
        return ["u_len = rand()", f"length = -{law.mean!r}*log(u_len)"]
    if isinstance(law, Uniform):
        lo, span = law.mean * (1 - law.width), 2 * law.mean * law.width
        return ["u_len = rand()", f"length = {lo!r} + {span!r}*u_len"]
    if isinstance(law, Gamma):
        k = law.shape
        if abs(k - round(k)) > 1e-9 or k > 16:
            raise UnsupportedFeatureError(ENGINE, f"gamma phase lengths with non-integer shape {k:g} "
                                                  "(integer shapes up to 16 are supported)")
        k = int(round(k))
        draws = [f"g{i} = rand()" for i in range(k)]
        return draws + [f"length = -{law.mean / k!r}*log({'*'.join(f'g{i}' for i in range(k))})"]
    raise UnsupportedFeatureError(ENGINE, f"phase law {law!r}")


def phase_process_code(phases, presentation_ms: float, n_patterns: int, scan_units: int = 0,
                       scan_prob: float = 0.0) -> str:
    """One step of the phase process of Williams et al. 2023 (``papers/000_*``, Mechanism 1/2).

    A new phase starts when ``t >= t_next``: its sign is positive with probability ``b``
    (alternating phases flip, positive first), its length is drawn from the law
    (:func:`phase_length_code`); a positive phase that starts at least ``presentation`` ms
    after the last refresh draws a fresh data pattern uniformly.  ``wphase`` is the importance
    weight ``+1/b`` or ``-1/(1-b)``; ``phases = None``: free running (never clamped, no
    plasticity).  ``scan_units > 0`` (coupled units, fully connected
    Boltzmann machines): with probability ``scan_prob`` one uniformly chosen unit (``scan``)
    resamples this step, else none (``scan = -1``): random-scan Glauber dynamics.
    """
    if phases is None:  # free running: never clamped, no plasticity
        return "\n".join(["z = 0", "wphase = 0"] + _scan_code(scan_units, scan_prob))
    if isinstance(phases, Alternating):
        b = 0.5
        sign = ["z = new*(1 - z) + (1 - new)*z"]
    elif isinstance(phases, StochasticPhases):
        b = phases.b
        sign = ["u_sign = rand()", f"z = new*int(u_sign < {b!r}) + (1 - new)*z"]
    else:
        raise UnsupportedFeatureError(ENGINE, f"phase process {phases!r}")
    lines = ["new = int(t/ms >= t_next)"] + sign + phase_length_code(phases) + [
        "t_next = new*(t_next + length) + (1 - new)*t_next",
        "u_data = rand()",
        f"fresh = new*int(z > 0.5)*int(t/ms - t_fresh >= {presentation_ms!r})",
        f"pattern = fresh*floor(u_data*{n_patterns}) + (1 - fresh)*pattern",
        "t_fresh = fresh*t/ms + (1 - fresh)*t_fresh",
        f"wphase = z/{b!r} - (1 - z)/{1 - b!r}",
    ]
    return "\n".join(lines + _scan_code(scan_units, scan_prob))


def _scan_code(scan_units, scan_prob):
    if not scan_units:
        return []
    return ["u_scan = rand()", "u_pick = rand()",
            f"scan = int(u_scan < {scan_prob!r})*(floor(u_pick*{scan_units}) + 1) - 1"]


def _divergence_check() -> str:
    # NaN or inf in the field (any non-finite weight or state reaches it: NaN * 0 = NaN)
    return ("diverged_at = diverged_at + int(diverged_at < 0)*int(not (abs(u + bias) < 1e300))"
            "*((t + dt)/ms - diverged_at)")


def glauber_update_code(p_resample: float, clamp: bool, learn_bias: str | None, mean_field: bool,
                        scan: bool = False) -> str:
    """Continuous-time Glauber step of one block (Glauber 1963; ``neurocl.engines.numpy``).

    Each unit resamples ``s ~ Bernoulli(sigmoid(u + bias))`` with probability
    ``p_resample = 1 - exp(-dt / tau_n)`` (``scan``: only the unit the phase process picked).
    ``clamp``: in positive phases (``z = 1``) the unit takes the data pattern instead.  ``m``
    is the hidden statistic (``sigmoid(u + bias)`` with ``mean_field``, else ``s``).
    ``learn_bias``: the ISD bias update ``bias += eta dt wphase f`` (Williams et al. 2023,
    single-phase estimator) with ``f = s`` (``"s"``) or ``f = m`` (``"m"``).
    """
    go = "int(scan_idx == i_local)" if scan else f"int(u_res < {p_resample!r})"
    lines = [_divergence_check(), "modulation = wphase", "u_res = rand()", "u_new = rand()",
             "p_on = 1/(1 + exp(-(u + bias)))",
             f"sampled = {go}*int(u_new < p_on) + (1 - {go})*s"]
    if clamp:
        lines.append("s = z*clampable*data_value + (1 - z*clampable)*sampled")
    else:
        lines.append("s = sampled")
    lines.append("m = p_on" if mean_field else "m = s")
    if learn_bias:
        lines.append(f"bias += eta_dt*wphase*{learn_bias}")
    return "\n".join(lines)


def spiking_update_code(psp_steps: int, clamp: bool, learn_bias: str | None, mean_field: bool) -> str:
    """Discrete-time neural sampling (Buesing, Bill, Nessler & Maass 2011, Eq. 13-15).

    A unit whose refractory countdown ``zeta <= 1`` spikes with probability
    ``sigmoid(u + bias - log tau)``; a spike sets ``zeta = tau`` (absolute refractory period
    and rectangular PSP of ``tau = psp_steps`` steps); otherwise ``zeta`` counts down to 0.
    The unit is on (``s = 1``) while ``zeta >= 1``.  The stationary law of ``s`` is the
    Boltzmann law for any ``tau`` when conditionally independent units update together.
    """
    tau = int(psp_steps)
    lines = [_divergence_check(), "modulation = wphase", "u_new = rand()",
             "p_on = 1/(1 + exp(-(u + bias)))",
             "can = int(zeta <= 1.5)",
             f"spike = can*int(u_new < 1/(1 + {tau}*exp(-(u + bias))))",
             f"zeta_free = spike*{tau} + (1 - spike)*clip(zeta - 1, 0, {tau})"]
    if clamp:
        lines += [f"zeta = z*clampable*data_value*{tau} + (1 - z*clampable)*zeta_free",
                  "spiked = (1 - z*clampable)*spike"]
    else:
        lines += ["zeta = zeta_free", "spiked = spike"]
    lines.append("s = int(zeta >= 0.5)")
    lines.append("m = p_on" if mean_field else "m = s")
    if learn_bias:
        lines.append(f"bias += eta_dt*wphase*{learn_bias}")
    return "\n".join(lines)


def device_constants(profile) -> dict:
    """Scalar constants of the device update code (``neurocl.hardware.device``)."""
    return {"dw_min": profile.dw_min, "gamma_dev": profile.gamma, "c2c_std": profile.dw_min_std,
            "w_scale": profile.weight_scale, "read_std": profile.read_noise_std * (
                profile.range if math.isfinite(profile.range) else 0.0),
            "quantum": profile.quantum if profile.weight_bits else 0.0,
            "q_lo": profile.w_min, "q_hi": profile.w_max}


UNSUPPORTED_DEVICE_FIELDS = ("write_noise_std", "drift_nu", "shared_rounding")


def plasticity_code(post_stat: str = "m_post", profile=None) -> str:
    """ISD as a three-factor rule on each synapse: ``dW = eta dt * wphase * s_pre * post``.

    Williams et al. 2023 (``papers/000_*``): always on, constant ``eta``, importance weight
    ``wphase`` (the third factor, broadcast by the phase process).  With a non-ideal
    ``profile`` the requested change goes through the pulsed device model of
    :func:`neurocl.hardware.device.device_update` (stochastic or nearest pulse rounding,
    weight-dependent steps with up/down asymmetry, device-to-device step scale and bounds,
    cycle-to-cycle noise, stuck-at faults) and the network reads ``W`` through read noise
    and the fixed-point grid of ``weight_bits`` (``read_weights``).
    """
    request = f"dw_req = eta_dt*modulation_pre*s_pre*{post_stat}"
    if profile is None or profile.is_ideal:
        return request + "\nW += dw_req"
    for name in UNSUPPORTED_DEVICE_FIELDS:
        if getattr(profile, name):
            raise UnsupportedFeatureError(ENGINE, f"profile '{profile.name}': {name} (supported: pulse "
                                                  "quantisation and rounding, asymmetric/bounded updates, "
                                                  "c2c and d2d variation, stuck-at, read noise, weight_bits)")
    if profile.t_epoch != 1:
        raise UnsupportedFeatureError(ENGINE, f"profile '{profile.name}': t_epoch = {profile.t_epoch} (only 1)")
    lines = [request, "dw = dw_req/w_scale", "up = int(dw > 0)"]
    if profile.dw_min == 0.0:
        lines.append("Wd = clip(Wd + dw, w_lo, w_hi)")
    else:
        if profile.update == "constant":
            f = "1.0"
        elif profile.update == "soft_bounds":
            f = "up*(1 - Wd/w_hi) + (1 - up)*(1 - Wd/w_lo)"
        elif profile.update == "linear":
            lines.append("x_dev = 2*(Wd - w_lo)/(w_hi - w_lo) - 1")
            f = "up*(1 - gamma_dev*x_dev) + (1 - up)*(1 + gamma_dev*x_dev)"
        else:  # exponential
            lines.append("x_dev = up*(Wd - w_lo)/(w_hi - w_lo) + (1 - up)*(w_hi - Wd)/(w_hi - w_lo)")
            f = "exp(-gamma_dev*x_dev)"
        lines += [f"f_dev = clip({f}, 0, inf)",
                  "step = dw_min*step_scale*(up*(1 + ud) + (1 - up)*(1 - ud))*f_dev",
                  "n_real = abs(dw)/dw_min"]
        if profile.rounding == "deterministic":
            lines.append("n_pulse = floor(n_real + 0.5)")
        else:
            lines += ["u_round = rand()", "n_pulse = floor(n_real) + int(u_round < n_real - floor(n_real))"]
        lines.append("change = n_pulse*step")
        if profile.dw_min_std:
            scale = "step" if profile.c2c == "multiplicative" else "dw_min"
            lines += ["xi = randn()", f"change = change + {scale}*c2c_std*sqrt(n_pulse)*xi"]
        lines.append("Wd = clip(Wd + (2*up - 1)*change, w_lo, w_hi)")
    lines.append("Wd = stuck*stuck_to + (1 - stuck)*Wd")
    read = "Wd"
    if profile.read_noise_std:
        lines.append("xr = randn()")
        read = "(Wd + read_std*xr)"
    if profile.weight_bits:
        read = f"clip(floor({read}/quantum + 0.5)*quantum, q_lo, q_hi)"
    lines.append(f"W = w_scale*{read}")
    return "\n".join(lines)


#: Per-synapse device variables (device-to-device draws, fault map, stored device weight).
DEVICE_EQUATIONS = """
Wd : 1
step_scale : 1 (constant)
ud : 1 (constant)
w_lo : 1 (constant)
w_hi : 1 (constant)
stuck : 1 (constant)
stuck_to : 1 (constant)
"""
