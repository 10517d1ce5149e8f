"""Shared fixtures: a fresh registry per test, Qt offscreen, the protocol emulators on real sockets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests must never reach a real Ollama or a real token by accident.
for _var in ("OLLAMA_HOST", "GH_TOKEN", "GITHUB_TOKEN", "DESKTOP_REGISTRY_HOME"):
    os.environ.pop(_var, None)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def private_keyring(tmp_path: Path) -> Iterator[None]:
    """Every test gets its own keyring (standing in for the OS one, which needs a desktop
    session): no test reads or writes the machine's keyring."""
    import keyring

    from tests.keyring_backend import IsolatedKeyring

    backend = IsolatedKeyring(tmp_path / "private-keyring" / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own default data folder, so no test reads or writes the user's own
    registry or settings.json (XDG_DATA_HOME too, for the CLI run as a subprocess)."""
    from desktop_registry import config, paths

    xdg = tmp_path / "user-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.setattr(config, "default_data_dir", lambda: xdg / config.APP_NAME)
    monkeypatch.setattr(paths, "default_data_dir", lambda: xdg / config.APP_NAME)
    return xdg / config.APP_NAME


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    return tmp_path / "registry.db"


@pytest.fixture
def repo(registry_path: Path) -> Iterator[object]:
    from desktop_registry.storage import Database, ModelRepository

    db = Database.open(registry_path)
    yield ModelRepository(db)
    db.dispose()


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DESKTOP_REGISTRY_HOME", str(home))
    return home


@pytest.fixture
def shared_protocols() -> Path:
    path = SHARED / "protocols"
    if not path.is_dir():
        pytest.skip("../shared/protocols is not beside this checkout (a user's own clone)")
    return path
