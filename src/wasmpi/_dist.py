"""The installed version of a distribution, read from its ``.dist-info`` directory.

``importlib.metadata`` answers the same, but importing it (and the ``email`` package it parses
metadata with) costs about 8 ms: ``wasmpi run`` and a rank ask for versions of the wasmtime and
ziglang wheels (parts of cache keys) on every start."""

from __future__ import annotations

from pathlib import Path


def version(dist: str, package_file: str | None) -> str | None:
    """The version of the distribution ``dist`` whose import package's ``__init__.py`` is
    ``package_file`` (None: not found); None if it is not installed."""
    if package_file is not None:
        site = Path(package_file).parent.parent
        found = [p.name[len(dist) + 1:-len(".dist-info")]
                 for p in site.glob(f"{dist}-*.dist-info")]
        if len(found) == 1:
            return found[0]
    from importlib import metadata  # an unusual install (egg, several dist-infos): ask it

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
