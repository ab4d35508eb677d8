"""Hardware profiles: a typed, validated description of a synaptic device (or target).

One schema, presets as data (``hardware_profiles/*.toml``, shipped as package data: see
:mod:`neurocl.shipped`), as aihwkit does with its device
dataclasses: each effect has its own parameter with the meaning aihwkit gives it where one
exists (``dw_min``, ``up_down``, ``dw_min_dtod``, ``dw_min_std``, ``w_max``/``w_min``,
``write_noise_std``, ``read_noise_std``; aihwkit ``PulsedDevice`` and
``SoftBoundsDevice`` docs).  All noise levels are relative to the conductance range
``w_max - w_min`` unless stated.  Times (drift) are in ms.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from neurocl.errors import ConfigError
from neurocl.schema import build, init_fields
from neurocl.shipped import shipped_dir, shipped_profile_files
from neurocl.validate import check_fields, non_negative, one_of, positive, positive_int

__all__ = ["HardwareProfile", "load_profile", "shipped_profiles", "PROFILES_DIR"]

#: fields that name and describe a profile (not device parameters)
LABEL_FIELDS = ("name", "description", "source")

#: the shipped presets' folder inside the installed package (read with :mod:`importlib.resources`)
PROFILES_DIR = shipped_dir("hardware_profiles")


def _finite_or_inf(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
        raise ConfigError(f"{name} = {v!r} must be a number")
    return float(v)


@dataclass(frozen=True)
class HardwareProfile:
    """Device model parameters.  The defaults describe an ideal synapse.

    Conductance and updates
        ``w_min``, ``w_max``: weight range (``-inf``/``inf`` for unbounded).
        ``dw_min``: weight change of one pulse (0: continuous, no pulses).
        ``rounding``: ``"stochastic"`` (pulse count rounded up with probability equal to its
        fraction: unbiased) or ``"deterministic"`` (nearest integer: biased for small updates).
        ``update``: step size against the current weight: ``"constant"``; ``"linear"``
        (step changes linearly by ``gamma`` over the range); ``"soft_bounds"`` (up step
        ``dw_min (1 - w/w_max)``, down step ``dw_min (1 - w/w_min)``: needs ``w_min < 0 < w_max``);
        ``"exponential"`` (step ``dw_min exp(-gamma x)``, ``x`` the normalised distance from the
        bound the step moves away from).
        ``up_down``: up steps are ``(1 + up_down)`` and down steps ``(1 - up_down)`` times
        ``dw_min`` (systematic asymmetry: a source of bias).
    Device-to-device (drawn once per synapse)
        ``dw_min_dtod``, ``up_down_dtod``, ``w_bounds_dtod``: relative std of step size, std of
        ``up_down``, relative std of the bounds.
    Cycle-to-cycle (every pulse)
        ``dw_min_std`` with ``c2c`` ``"multiplicative"`` (step times ``1 + dw_min_std xi``) or
        ``"additive"`` (plus ``dw_min dw_min_std xi``).
    Reading
        ``write_noise_std``: programming noise added to the stored value whenever a synapse
        is written (a read sees it, from ``t = 0`` on); ``read_noise_std``: fresh noise on
        every read; ``drift_nu``, ``drift_t0``: a read ``t`` ms after the last write sees
        ``w (t / t0)^-nu`` for ``t > t0``; ``stuck_fraction`` of synapses stuck at
        ``stuck_value`` (``"zero"``, ``"min"``, ``"max"``).
    Loihi 2 style fixed point
        ``weight_bits``: signed mantissa bits of a read weight (0: analog); the grid step is
        ``(w_max - w_min) / 2^weight_bits`` (the shared exponent).  ``shared_rounding``: the
        learning engine draws one random number per update for all synapses (Lava's
        ``fixed_pt`` learning model does), so rounding errors are correlated.  ``t_epoch``:
        updates are accumulated and applied every ``t_epoch`` calls (learning epochs).
        ``accumulator_bits`` ``m`` (0: none): a per-synapse accumulator (Loihi's synaptic tag)
        of step ``dw_min / 2^m`` takes each update (rounded by ``rounding`` on that finer grid)
        and passes whole ``dw_min`` steps (nearest) to the weight, keeping the remainder
        (error feedback: the rounding noise reaching the weights is the fine grid's;
        :mod:`neurocl.theory_fixed_point`).
    Mapping
        ``weight_scale``: network weight per device unit (the gain of the array periphery);
        every range and step above is in device units.
    """

    name: str = "ideal"
    description: str = "ideal synapse"
    source: str = ""
    w_min: float = -math.inf
    w_max: float = math.inf
    dw_min: float = 0.0
    rounding: str = "stochastic"
    update: str = "constant"
    gamma: float = 0.0
    up_down: float = 0.0
    dw_min_dtod: float = 0.0
    up_down_dtod: float = 0.0
    w_bounds_dtod: float = 0.0
    dw_min_std: float = 0.0
    c2c: str = "multiplicative"
    write_noise_std: float = 0.0
    read_noise_std: float = 0.0
    drift_nu: float = 0.0
    drift_t0: float = 1.0
    stuck_fraction: float = 0.0
    stuck_value: str = "zero"
    weight_bits: int = 0
    shared_rounding: bool = False
    t_epoch: int = 1
    accumulator_bits: int = 0
    weight_scale: float = 1.0

    def __post_init__(self):
        check_fields(self)
        lo = _finite_or_inf("w_min", self.w_min)
        hi = _finite_or_inf("w_max", self.w_max)
        if not lo < hi:
            raise ConfigError(f"w_min = {lo:g} must be < w_max = {hi:g}")
        object.__setattr__(self, "w_min", lo)
        object.__setattr__(self, "w_max", hi)
        for f in ("dw_min", "gamma", "dw_min_dtod", "up_down_dtod", "w_bounds_dtod", "dw_min_std",
                  "write_noise_std", "read_noise_std", "drift_nu"):
            object.__setattr__(self, f, non_negative(f, getattr(self, f)))
        if self.dw_min and math.isfinite(hi - lo) and self.dw_min > hi - lo:
            raise ConfigError(f"dw_min = {self.dw_min:g} must be <= w_max - w_min = {hi - lo:g}")
        if not -1.0 < float(self.up_down) < 1.0:
            raise ConfigError(f"up_down = {self.up_down:g} is outside the allowed range (-1, 1)")
        one_of("rounding", self.rounding, {"stochastic", "deterministic"})
        one_of("update", self.update, {"constant", "linear", "soft_bounds", "exponential"})
        one_of("c2c", self.c2c, {"multiplicative", "additive"})
        one_of("stuck_value", self.stuck_value, {"zero", "min", "max"})
        if self.update == "soft_bounds" and not lo < 0.0 < hi:
            raise ConfigError("update = 'soft_bounds' needs w_min < 0 < w_max")
        if self.update != "constant" or self.weight_bits or self.write_noise_std or self.read_noise_std:
            if not math.isfinite(hi - lo):
                raise ConfigError(f"update = {self.update!r}, weight_bits, write/read noise need finite w_min, w_max")
        if self.update == "linear" and self.gamma >= 1.0:
            raise ConfigError(f"gamma = {self.gamma:g} must be < 1 for update = 'linear' (steps stay > 0)")
        if not 0.0 <= float(self.stuck_fraction) < 1.0:
            raise ConfigError(f"stuck_fraction = {self.stuck_fraction:g} is outside the allowed range [0, 1)")
        object.__setattr__(self, "drift_t0", _finite_or_inf("drift_t0", self.drift_t0))
        if self.drift_t0 <= 0:
            raise ConfigError(f"drift_t0 = {self.drift_t0:g} must be > 0")
        if self.weight_bits and not 2 <= int(self.weight_bits) <= 16:
            raise ConfigError(f"weight_bits = {self.weight_bits} must be 0 (analog) or in [2, 16]")
        object.__setattr__(self, "t_epoch", positive_int("t_epoch", self.t_epoch))
        if not 0 <= int(self.accumulator_bits) <= 16:
            raise ConfigError(f"accumulator_bits = {self.accumulator_bits} must be in [0, 16]")
        if self.accumulator_bits and not self.dw_min:
            raise ConfigError("accumulator_bits needs a pulsed device (dw_min > 0)")
        object.__setattr__(self, "weight_scale", positive("weight_scale", self.weight_scale))

    @property
    def range(self) -> float:
        return self.w_max - self.w_min

    @property
    def quantum(self) -> float:
        """Grid step of a read weight (0 for analog)."""
        return self.range / 2**self.weight_bits if self.weight_bits else 0.0

    @property
    def is_ideal(self) -> bool:
        return not self.non_default()

    def non_default(self) -> dict:
        """``{field: value}`` of every device field that differs from the ideal synapse
        (``name``, ``description``, ``source`` are labels, not device fields).  Engines compare
        these against the fields they implement."""
        ideal = HardwareProfile()
        return {f.name: getattr(self, f.name) for f in init_fields(HardwareProfile)
                if f.name not in LABEL_FIELDS and getattr(self, f.name) != getattr(ideal, f.name)}


def shipped_profiles() -> dict:
    """``{name: path}`` of the shipped TOML presets (``hardware_profiles/*.toml``), sorted by name.

    Returns
    -------
    dict of str to pathlib.Path
        The names :func:`load_profile` and ``--profile`` accept.
    """
    return shipped_profile_files()


def load_profile(name_or_path: str | os.PathLike) -> HardwareProfile:
    """A shipped preset by name or a TOML file, validated.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A shipped name (``"rram_hfo2"``, see :func:`shipped_profiles`) or a TOML file.

    Returns
    -------
    HardwareProfile
        The validated profile; ``name`` defaults to the file's stem.

    Raises
    ------
    neurocl.errors.ConfigError
        Neither a shipped name nor a file, malformed TOML, or a field out of range.
    """
    shipped = shipped_profiles()
    path = Path(str(shipped[str(name_or_path)])) if str(name_or_path) in shipped else Path(name_or_path)
    if not path.is_file():
        raise ConfigError(f"profile {str(name_or_path)!r} is neither a shipped profile "
                          f"({', '.join(shipped)}) nor a file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {exc.start}); expected a TOML profile") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    raw.setdefault("name", path.stem)
    try:
        return build(HardwareProfile, raw, "profile")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
