"""The installed version of ekt-tui, for `ekt --version` and `ekt-tui --version`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DIST = "ekt-tui"


def ekt_version() -> str:
    """The distribution's version; a source tree that was never installed says so."""
    try:
        return version(DIST)
    except PackageNotFoundError:
        return "unknown (not installed)"
