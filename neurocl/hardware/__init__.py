"""Hardware profiles (schema, loading) and device models."""

from neurocl.hardware.device import SynapseArray, device_update, draw_device_params, read_weights
from neurocl.hardware.profile import HardwareProfile, load_profile, shipped_profiles

__all__ = ["HardwareProfile", "load_profile", "shipped_profiles", "SynapseArray", "device_update",
           "draw_device_params", "read_weights"]
