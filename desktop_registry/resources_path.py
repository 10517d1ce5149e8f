"""Finds the shipped resources/ folder: a source checkout, an installed copy, or a PyInstaller bundle.

Reads nothing and writes nothing; only resolves paths.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The first resources/ that exists: bundle (sys._MEIPASS), beside the package, inside it."""
    package = Path(__file__).resolve().parent
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates += [package.parent / "resources", package / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0] if bundle else package.parent / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
