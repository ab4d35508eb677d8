"""Minimal TOML writer for resolved configs (the stdlib ``tomllib`` only reads)."""

from __future__ import annotations

import math

__all__ = ["dumps"]


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_scalar(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps(table: dict, _prefix: str = "") -> str:
    """TOML text of a nested dict of scalars, lists and tables; ``None`` values are omitted."""
    lines, subtables = [], []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict):
            subtables.append((key, value))
        else:
            lines.append(f"{key} = {_scalar(value)}")
    out = "\n".join(lines)
    for key, value in subtables:
        name = f"{_prefix}.{key}" if _prefix else key
        body = dumps(value, name)
        out += ("\n\n" if out else "") + f"[{name}]\n" + body
    return out.strip("\n") + "\n" if not _prefix else out
