"""The packaged app: the PyInstaller bundle (built once, cached by installer/build_bundle.py),
the .deb made from it, and the installer scripts. Every test here is marked `packaging`.

A cold bundle build takes two to four minutes and packing the .deb three more, so the tests
that need the bundle run when asked for (`-m packaging`, as .ci/run does) and are skipped,
saying how to run them, in a plain `pytest`; the installer scripts' own checks run in both.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# The tests' own .deb is packed at zstd -3: what they check (contents, dpkg -i, dpkg -r) does
# not depend on the level, and -19, the release's, takes minutes on two cores.
TEST_DEB_LEVEL = 3


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    asked = "packaging" in (config.getoption("markexpr") or "")
    skip = pytest.mark.skip(reason="builds the app bundle (~2-4 min cold): run with -m packaging")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.packaging)
            needs_bundle = {"bundle", "deb"} & set(getattr(item, "fixturenames", ()))
            if needs_bundle and not asked:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The bundle folder for this checkout's inputs (reused from the cache when unchanged)."""
    sys.path.insert(0, str(ROOT / "installer"))
    from build_bundle import build

    return Path(str(build()["bundle"]))


@pytest.fixture(scope="session")
def deb(bundle: Path) -> Path:
    """The .deb of that bundle at the tests' fast level (packed once per set of inputs, then
    reused from the cache; the release build keeps zstd -19)."""
    sys.path.insert(0, str(ROOT / "installer" / "linux"))
    from build_deb import build_or_reuse_deb

    return build_or_reuse_deb(bundle, level=TEST_DEB_LEVEL)[0]
