"""Make ``lava-nc==0.10.0`` importable on Python 3.11.

Lava 0.10 declares ``python < 3.11``; on 3.11 exactly one thing breaks at import:
``lava/magma/compiler/var_model.py`` uses ``ByteEncoder()`` instances as dataclass field
defaults, which Python 3.11's ``dataclasses`` rejects (unhashable mutable default).  The fix
rewrites those defaults, in that one module's source and only there, to
``field(default_factory=ByteEncoder)`` (a fresh encoder per instance instead of one shared
instance), before anything imports it.  It is a no-op where the module already imports (an
older Python, or a fixed Lava).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import re
import sys

__all__ = ["install", "TARGET"]

TARGET = "lava.magma.compiler.var_model"
_PATTERN = re.compile(r"(:\s*ByteEncoder\s*)=\s*ByteEncoder\(\)")


def patch_source(source: str) -> str:
    """The var_model source with ``x: ByteEncoder = ByteEncoder()`` made a default factory."""
    return _PATTERN.sub(r'\1= __import__("dataclasses").field(default_factory=ByteEncoder)', source)


class _Loader(importlib.abc.SourceLoader):
    def __init__(self, spec):
        self._spec = spec

    def get_filename(self, fullname):
        return self._spec.origin

    def get_data(self, path):
        with open(path, "rb") as fh:
            data = fh.read()
        if path == self._spec.origin:
            return patch_source(data.decode()).encode()
        return data


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.origin is None:
            return None
        spec.loader = _Loader(spec)
        return spec


def _needed() -> bool:
    return sys.version_info >= (3, 11)


def install() -> bool:
    """Install the fix once (before Lava is imported); returns whether it is active."""
    if not _needed() or TARGET in sys.modules:
        return False
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    return True
