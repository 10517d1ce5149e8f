"""Integration fixtures: the protocol emulators on real sockets (a test file may override them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


@pytest.fixture
def ollama() -> Iterator[OllamaEmulator]:
    """Ollama with the standard model set."""
    with OllamaEmulator(standard_models()) as emu:
        yield emu


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubModelsEmulator]:
    """GitHub Models, which the app is pointed at; no token is set here."""
    with GitHubModelsEmulator() as emu:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", emu.url)
        yield emu


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """A machine with no keyring backend at all (keyring's own 'fail' backend)."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)
