"""Brian2 model definitions: the equations and update code of a contrastive-learning circuit.

Pure functions returning Brian2 abstract code strings (what Brian2 calls the *model*); the
network is built from them in :mod:`neurocl.engines.brian2.network` (with the engine's code
generation target).  Nothing here imports Brian2, so the strings are testable on their own.
Phase processes and phase-length laws are dispatched by their registry keys
(:data:`neurocl.phases.PHASES`, :data:`neurocl.phases.LAWS`); the device update implements
the hardware-profile fields listed in :data:`PROFILE_FIELDS`.

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
from neurocl.phases import LAWS, PHASES

__all__ = ["phase_process_code", "phase_length_code", "glauber_update_code", "spiking_update_code",
           "spiking_dwell_steps", "glauber_dwell_steps", "matching_tau_n", "plasticity_code", "device_constants", "PROFILE_FIELDS", "LENGTH_CODE", "PHASE_SIGN_CODE",
           "MAX_GAMMA_SHAPE", "PHASE_EQUATIONS", "UNIT_EQUATIONS", "SPIKING_EQUATIONS", "DEVICE_EQUATIONS"]

ENGINE = "brian2"

#: largest integer gamma shape drawn as a sum of exponentials (``shape`` uniforms per phase)
MAX_GAMMA_SHAPE = 16

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


def _fixed_length(law) -> list:
    return [f"length = {law.mean!r}"]


def _exponential_length(law) -> list:
    return ["u_len = rand()", f"length = -{law.mean!r}*log(u_len)"]


def _uniform_length(law) -> list:
    lo, span = law.mean * (1 - law.width), 2 * law.mean * law.width
    return ["u_len = rand()", f"length = {lo!r} + {span!r}*u_len"]


def _gamma_length(law) -> list:
    k = law.shape
    if abs(k - round(k)) > 1e-9:
        raise UnsupportedFeatureError(ENGINE, f"gamma phase lengths with non-integer shape {k:g} "
                                              f"(integer shapes up to {MAX_GAMMA_SHAPE} are supported)")
    if k > MAX_GAMMA_SHAPE:
        raise UnsupportedFeatureError(ENGINE, f"gamma phase lengths with shape {k:g} > {MAX_GAMMA_SHAPE} "
                                              f"(integer shapes up to {MAX_GAMMA_SHAPE} are supported)")
    k = int(round(k))
    draws = [f"g{i} = rand()" for i in range(k)]
    return draws + [f"length = -{law.mean / k!r}*log({'*'.join(f'g{i}' for i in range(k))})"]


#: ``neurocl.phases.LAWS`` key -> statements drawing the next phase length ``length`` (ms)
LENGTH_CODE = {"fixed": _fixed_length, "exponential": _exponential_length, "uniform": _uniform_length,
               "gamma": _gamma_length}


def phase_length_code(phases) -> list:
    """Statements drawing the next phase length ``length`` (in ms, dimensionless) from the phase law.

    Alternating phases: ``length``; stochastic phases by their law (:data:`LENGTH_CODE`):
    exponential ``-mean log U``; fixed ``mean``; uniform ``mean (1 - w) + 2 mean w U``;
    gamma with integer shape ``k`` as ``-(mean/k) log(U_1 ... U_k)`` (sum of ``k``
    exponentials).  A non-integer gamma shape, or one above :data:`MAX_GAMMA_SHAPE`, raises
    :class:`UnsupportedFeatureError`.
    """
    kind = PHASES.key_of(phases)
    if kind == "alternating":
        return [f"length = {phases.length!r}"]
    key = LAWS.key_of(phases.length)
    if key not in LENGTH_CODE:
        raise UnsupportedFeatureError(ENGINE, f"phase-length law '{key}'")
    return LENGTH_CODE[key](phases.length)


def _alternating_sign(phases):
    return 0.5, ["z = new*(1 - z) + (1 - new)*z"]


def _stochastic_sign(phases):
    b = phases.b
    return b, ["u_sign = rand()", f"z = new*int(u_sign < {b!r}) + (1 - new)*z"]


#: ``neurocl.phases.PHASES`` key -> ``(b, statements setting the sign z of a new phase)``
PHASE_SIGN_CODE = {"alternating": _alternating_sign, "stochastic": _stochastic_sign}


def phase_process_code(phases, presentation_ms: float, n_patterns: int, scan_units: int = 0,
                       scan_prob: float = 0.0) -> str:
    """One step of the phase process of Williams et al. (ICML 2023, Mechanism 1/2).

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
    kind = PHASES.key_of(phases)
    if kind not in PHASE_SIGN_CODE:
        raise UnsupportedFeatureError(ENGINE, f"phase process '{kind}'")
    b, sign = PHASE_SIGN_CODE[kind](phases)
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


def spiking_update_code(psp_steps: int, clamp: bool, learn_bias: str | None, mean_field: bool, *,
                        refractory_steps: int | None = None, log_tau_offset: bool = True) -> str:
    """Discrete-time neural sampling (Buesing, Bill, Nessler & Maass 2011, Eq. 13-15).

    A unit whose refractory countdown ``zeta <= 1`` spikes with probability
    ``sigmoid(u + bias - log tau)``; a spike sets ``zeta = tau`` (absolute refractory period
    and rectangular PSP of ``tau = psp_steps`` steps); otherwise ``zeta`` counts down to 0.
    The unit is on (``s = 1``) while ``zeta >= 1``.  The stationary law of ``s`` is the
    Boltzmann law for any ``tau`` when conditionally independent units update together:
    each unit's transition leaves ``p(zeta) = p(s) prod_{k: s_k = 1} 1/tau`` invariant
    (Buesing et al. 2011, Theorem 1, discrete time), and units of one block do not see each
    other, so their simultaneous update is their sequential one.  Speed: at zero net input a
    unit's on and off runs last ``tau + 1`` steps on average, those of a Glauber unit with
    ``tau_n = dt / ln((tau + 1) / (tau - 1))`` (about ``tau dt / 2``; :func:`matching_tau_n`).

    Both keyword-only parameters exist to build the *wrong* samplers the conformance suite
    must reject (``tests/conformance/test_broken_engine.py``); the engine never sets them.

    Parameters
    ----------
    refractory_steps : int, optional
        Refractory period ``tau_ref`` in steps (default ``psp_steps``).  The unit is on for the
        first ``psp_steps`` of its ``tau_ref`` refractory steps; ``psp_steps < tau_ref`` breaks
        the sampler (Buesing et al. need PSP length = refractory period).
    log_tau_offset : bool
        ``False`` drops the ``-log tau`` offset of the membrane potential (spike probability
        ``sigmoid(u + bias)``): the unit is then on too often and the law is wrong.
    """
    tau = int(psp_steps)
    ref = tau if refractory_steps is None else int(refractory_steps)
    if not 1 <= tau <= ref:
        raise ValueError(f"psp_steps = {tau} must be in [1, refractory_steps = {ref}]")
    gain = tau if log_tau_offset else 1
    lines = [_divergence_check(), "modulation = wphase", "u_new = rand()",
             "p_on = 1/(1 + exp(-(u + bias)))",
             "can = int(zeta <= 1.5)",
             f"spike = can*int(u_new < 1/(1 + {gain}*exp(-(u + bias))))",
             f"zeta_free = spike*{ref} + (1 - spike)*clip(zeta - 1, 0, {ref})"]
    if clamp:
        lines += [f"zeta = z*clampable*data_value*{ref} + (1 - z*clampable)*zeta_free",
                  "spiked = (1 - z*clampable)*spike"]
    else:
        lines += ["zeta = zeta_free", "spiked = spike"]
    lines.append(f"s = int(zeta >= {ref - tau + 0.5!r})")
    lines.append("m = p_on" if mean_field else "m = s")
    if learn_bias:
        lines.append(f"bias += eta_dt*wphase*{learn_bias}")
    return "\n".join(lines)


def spiking_dwell_steps(psp_steps: int) -> float:
    """Mean length (steps) of an on run, and of an off run, of a neural-sampling unit at zero
    net input (:func:`spiking_update_code`): ``psp_steps + 1``.

    A unit that may spike (``zeta <= 1``) spikes with probability ``q = 1/(1 + tau)``
    (``tau = psp_steps``, ``u = 0``); a spike keeps it on for ``tau`` steps, and a spike in
    the last on step extends the run by ``tau`` more: on runs last ``tau / (1 - q)``, off runs
    ``1 / q`` steps, both ``tau + 1``.
    """
    tau = int(psp_steps)
    q = 1.0 / (1.0 + tau)
    return tau / (1.0 - q)


def glauber_dwell_steps(tau_n: float, dt: float) -> float:
    """Mean length (steps) of an on run, and of an off run, of a Glauber unit at zero net input
    (:func:`glauber_update_code`): it leaves its state with probability ``p / 2`` per step,
    ``p = 1 - exp(-dt / tau_n)``, so runs last ``2 / p`` steps (``2 tau_n / dt`` as dt -> 0)."""
    return 2.0 / (1.0 - math.exp(-dt / tau_n))


def matching_tau_n(psp_steps: int, dt: float) -> float:
    """The Glauber ``tau_n`` (ms) whose units switch as often as neural-sampling units with
    refractory period = PSP length ``tau = psp_steps * dt`` (ms), at zero net input.

    Equal mean on and off runs (:func:`spiking_dwell_steps` = :func:`glauber_dwell_steps`):
    ``tau_n = dt / ln((psp_steps + 1) / (psp_steps - 1))``, which tends to ``tau / 2`` as
    ``dt -> 0`` (continuous-time neural sampling, Buesing et al. 2011: on for ``tau``, off for an
    exponential time of mean ``tau``; continuous-time Glauber: on and off for exponential times
    of mean ``2 tau_n``).  Example: ``psp_steps = 2``, ``dt = 1 ms`` -> ``tau_n = 0.91 ms``.
    Away from zero input the two differ (continuous time, Glauber: on runs of mean
    ``tau_n (1 + e^u)``; spiking: ``tau`` whatever ``u``), so this maps speeds, not dynamics; the stationary law is
    the same Boltzmann law for any ``tau`` and ``tau_n``.  ``psp_steps = 1`` (Gibbs sampling)
    matches no finite ``tau_n`` (Glauber with ``dt / tau_n -> inf``).
    """
    k = int(psp_steps)
    if k < 2:
        raise ValueError(f"psp_steps = {k}: a one-step PSP is Gibbs sampling (tau_n -> 0); need psp_steps >= 2")
    return dt / math.log((k + 1) / (k - 1))


def device_constants(profile) -> dict:
    """Scalar constants of the device update code (``neurocl.hardware.device``)."""
    return {"dw_min": profile.dw_min, "gamma_dev": profile.gamma, "c2c_std": profile.dw_min_std,
            "w_scale": profile.weight_scale, "read_std": profile.read_noise_std * (
                profile.range if math.isfinite(profile.range) else 0.0),
            "quantum": profile.quantum if profile.weight_bits else 0.0,
            "q_lo": profile.w_min, "q_hi": profile.w_max}


#: Hardware-profile fields :func:`plasticity_code` implements (the engine's allow-list).  Not
#: implemented: ``write_noise_std``, ``drift_nu``/``drift_t0``, ``shared_rounding``, ``t_epoch``.
PROFILE_FIELDS = frozenset({
    "w_min", "w_max", "dw_min", "rounding", "update", "gamma", "up_down", "dw_min_dtod", "up_down_dtod",
    "w_bounds_dtod", "dw_min_std", "c2c", "read_noise_std", "stuck_fraction", "stuck_value", "weight_bits",
    "weight_scale"})

#: ``profile.update`` -> (statements, step factor ``f_dev``) of one pulse at the stored weight
#: ``Wd`` in direction ``up`` (``neurocl.hardware.device.step_sizes``)
STEP_FACTOR_CODE = {
    "constant": ([], "1.0"),
    "soft_bounds": ([], "up*(1 - Wd/w_hi) + (1 - up)*(1 - Wd/w_lo)"),
    "linear": (["x_dev = 2*(Wd - w_lo)/(w_hi - w_lo) - 1"],
               "up*(1 - gamma_dev*x_dev) + (1 - up)*(1 + gamma_dev*x_dev)"),
    "exponential": (["x_dev = up*(Wd - w_lo)/(w_hi - w_lo) + (1 - up)*(w_hi - Wd)/(w_hi - w_lo)"],
                    "exp(-gamma_dev*x_dev)"),
}

#: ``profile.rounding`` -> statements turning ``n_real`` into the pulse count ``n_pulse``
ROUNDING_CODE = {
    "deterministic": ["n_pulse = floor(n_real + 0.5)"],
    "stochastic": ["u_round = rand()", "n_pulse = floor(n_real) + int(u_round < n_real - floor(n_real))"],
}

#: ``profile.c2c`` -> the scale of one pulse's cycle-to-cycle noise
C2C_SCALE = {"multiplicative": "step", "additive": "dw_min"}


def plasticity_code(post_stat: str = "m_post", profile=None) -> str:
    """ISD as a three-factor rule on each synapse: ``dW = eta dt * wphase * s_pre * post``.

    Williams et al. (ICML 2023): always on, constant ``eta``, importance weight
    ``wphase`` (the third factor, broadcast by the phase process).  With a non-ideal
    ``profile`` the requested change goes through the pulsed device model of
    :func:`neurocl.hardware.device.device_update` (stochastic or nearest pulse rounding,
    weight-dependent steps with up/down asymmetry, device-to-device step scale and bounds,
    cycle-to-cycle noise, stuck-at faults) and the network reads ``W`` through read noise
    and the fixed-point grid of ``weight_bits`` (``read_weights``).  Only the fields in
    :data:`PROFILE_FIELDS` are read here; the engine refuses profiles that set any other.
    """
    request = f"dw_req = eta_dt*modulation_pre*s_pre*{post_stat}"
    if profile is None or profile.is_ideal:
        return request + "\nW += dw_req"
    lines = [request, "dw = dw_req/w_scale", "up = int(dw > 0)"]
    if profile.dw_min == 0.0:
        lines.append("Wd = clip(Wd + dw, w_lo, w_hi)")
    else:
        pre, f = STEP_FACTOR_CODE[profile.update]
        lines += pre + [f"f_dev = clip({f}, 0, inf)",
                        "step = dw_min*step_scale*(up*(1 + ud) + (1 - up)*(1 - ud))*f_dev",
                        "n_real = abs(dw)/dw_min"]
        lines += ROUNDING_CODE[profile.rounding]
        lines.append("change = n_pulse*step")
        if profile.dw_min_std:
            lines += ["xi = randn()", f"change = change + {C2C_SCALE[profile.c2c]}*c2c_std*sqrt(n_pulse)*xi"]
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
