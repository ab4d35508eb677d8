"""Shipped data: the circuit specs and hardware profiles that come with the package.

The top-level folders ``circuits/`` and ``hardware_profiles/`` of the source tree are the
only copy.  The package reaches them through ``neurocl/_shipped/``, whose two entries are
symbolic links to those folders: an editable install reads them in place, and building a
wheel or an sdist copies the files behind the links into ``neurocl/_shipped/`` as package
data (``[options.package_data]`` in ``setup.cfg``).  Either way they are read through
:mod:`importlib.resources`, so ``neurocl run bas3`` works from any directory.  A spec
added to ``circuits/`` is shipped with no other change.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from neurocl.errors import ConfigError

__all__ = ["shipped_dir", "shipped_specs", "shipped_profile_files", "resolve_spec", "SHIPPED_KINDS"]

#: the shipped data folders (names of the top-level source folders, and of their links in ``neurocl/_shipped/``)
SHIPPED_KINDS = ("circuits", "hardware_profiles")


def shipped_dir(kind: str) -> Traversable:
    """The folder of shipped ``kind`` files inside the installed package.

    Parameters
    ----------
    kind : {"circuits", "hardware_profiles"}
        Which folder.

    Returns
    -------
    importlib.resources.abc.Traversable
        The folder (a :class:`pathlib.Path` for any installed or editable package).
    """
    if kind not in SHIPPED_KINDS:
        raise ValueError(f"kind must be one of {SHIPPED_KINDS}, got {kind!r}")
    return resources.files("neurocl").joinpath("_shipped", kind)


def _tomls(kind: str) -> dict:
    folder = shipped_dir(kind)
    if not folder.is_dir():
        return {}
    entries = [p for p in folder.iterdir() if p.name.endswith(".toml") and p.is_file()]
    return {p.name[: -len(".toml")]: p for p in sorted(entries, key=lambda p: p.name)}


def shipped_specs() -> dict:
    """``{name: path}`` of the shipped circuit specs (``circuits/*.toml``), sorted by name.

    Returns
    -------
    dict of str to pathlib.Path
        The names ``neurocl run NAME`` and :func:`neurocl.load_spec` accept.
    """
    return _tomls("circuits")


def shipped_profile_files() -> dict:
    """``{name: path}`` of the shipped hardware profiles (``hardware_profiles/*.toml``), sorted by name."""
    return _tomls("hardware_profiles")


def resolve_spec(spec: str | os.PathLike) -> Path:
    """The file of a circuit spec given by a path or by a shipped name.

    An existing file wins; otherwise a shipped name (``"bas3"``, as ``neurocl circuits``
    lists) gives the shipped file.

    Parameters
    ----------
    spec : str or os.PathLike
        A TOML path (``"my/bas3.toml"``) or a shipped spec name (``"bas3"``).

    Returns
    -------
    pathlib.Path
        The spec's file.

    Raises
    ------
    neurocl.errors.ConfigError
        Neither a file nor a shipped name; the message lists the shipped names.
    """
    path = Path(spec)
    if path.is_file() or path.is_dir():
        return path
    specs = shipped_specs()
    if str(spec) in specs:
        return Path(str(specs[str(spec)]))
    names = ", ".join(specs) or "none found"
    raise ConfigError(f"{spec}: no such file, and not a shipped circuit spec name ({names}; see `neurocl circuits`)")
