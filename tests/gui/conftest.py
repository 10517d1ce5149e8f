"""GUI fixtures: one qasync loop for the session's QApplication, the Ollama emulator on a real
socket, a fresh registry, settings.json and window preferences per test, and the main window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

PULLABLE = EmulatedModel(
    "gemma3:4b", family="gemma3", size=3_338_801_804, capabilities=["completion", "vision"]
)


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    import qasync

    loop = qasync.QEventLoop(qapp)
    yield loop
    loop.close()


@pytest.fixture
def loop(qloop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    asyncio.set_event_loop(qloop)  # other tests' asyncio.run() may have unset it
    return qloop


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator(standard_models(), library=[PULLABLE]) as emu:
        yield emu


def make_context(tmp_path: Path, url: str) -> Any:
    """A context as the window gets one: what the user chose is in settings.json."""
    from desktop_registry.app import build_context
    from desktop_registry.config import Settings, settings_path
    from desktop_registry.services.settings.store import SettingsStore

    chosen = {"home": str(tmp_path / "home"), "ollama_url": url, "github_models_sync": "never"}
    SettingsStore(settings_path()).set_many(chosen)
    return build_context(Settings(), db_path=tmp_path / "registry.db")


def run(loop: asyncio.AbstractEventLoop, coro: Any, timeout: float = 20.0) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def until(
    loop: asyncio.AbstractEventLoop, condition: Callable[[], Any], timeout: float = 20.0
) -> Any:
    """Run the event loop (Qt and asyncio both) until `condition()` is truthy."""

    async def poll() -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.01)

    return loop.run_until_complete(poll())


class WindowFactory:
    def __init__(self, loop: asyncio.AbstractEventLoop, qtbot: Any, tmp_path: Path) -> None:
        self.loop, self.qtbot, self.tmp_path = loop, qtbot, tmp_path
        self.windows: list[Any] = []

    def __call__(self, url: str, *, start: bool = True) -> Any:
        from desktop_registry.ui.main_window import MainWindow

        ctx = make_context(self.tmp_path, url)
        prefs = QSettings(str(self.tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
        window = MainWindow(ctx, prefs)
        window.show()
        self.windows.append(window)
        if start:
            window.start()
            # Let the start-up checks finish inside the running loop: a task stepped by a bare
            # Qt event pass (outside run_until_complete) has no running asyncio loop.
            run(self.loop, window.tasks.idle())
        return window

    def close_all(self) -> None:
        for window in self.windows:
            if window.isVisible():
                window.close()
            run(self.loop, window.aclose())
            window.ctx.close()
            window.deleteLater()


@pytest.fixture
def open_window(
    loop: asyncio.AbstractEventLoop, qtbot: Any, tmp_path: Path
) -> Iterator[WindowFactory]:
    factory = WindowFactory(loop, qtbot, tmp_path)
    yield factory
    factory.close_all()


@pytest.fixture
def synced_window(open_window: WindowFactory, emulator: OllamaEmulator, loop: Any) -> Any:
    """A window whose registry holds the emulator's five standard models (synced via the UI)."""
    window = open_window(emulator.url)
    window.sync()
    until(loop, lambda: len(window.entries) == 5)
    return window
