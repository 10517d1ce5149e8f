"""One window per registry: a second start on the same data dir brings the first window forward
(real QLockFile, real QLocalServer/QLocalSocket, real second processes), and a crashed window's
lock never stops the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from desktop_registry.ui.single_instance import (
    LOCK_NAME,
    AlreadyOpenDialog,
    SingleInstance,
    bring_forward,
)
from tests.gui.conftest import until

ROOT = Path(__file__).resolve().parents[2]


def _second_start(home: Path, answer: bool) -> subprocess.Popen[str]:
    """Another process starting on `home` that answers the "already open" question with `answer`."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        from desktop_registry.ui.single_instance import SingleInstance, second_start
        app = QApplication([])
        guard = SingleInstance(Path({str(home)!r}))
        if guard.acquire():
            print("got the lock")
            sys.exit(3)
        print(second_start(guard, ask=lambda: {answer!r}))
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def _finish(loop: Any, process: subprocess.Popen[str]) -> str:
    until(loop, lambda: process.poll() is not None, timeout=60)  # the first window keeps answering
    assert process.stdout is not None
    return process.stdout.read().strip()


def test_a_second_start_on_the_same_registry_brings_the_first_window_forward(
    open_window: Any, emulator: Any, loop: Any
):
    window = open_window(emulator.url)
    home = window.ctx.settings.home
    guard = SingleInstance(home)
    assert guard.acquire()
    guard.listen(lambda: bring_forward(window))
    window.showMinimized()
    assert window.isMinimized()
    try:
        assert _finish(loop, _second_start(home, answer=True)) == "shown"
        assert not window.isMinimized() and window.isVisible()
    finally:
        guard.release()


def test_a_second_start_that_is_cancelled_leaves_the_first_window_as_it_was(
    open_window: Any, emulator: Any, loop: Any
):
    window = open_window(emulator.url)
    home = window.ctx.settings.home
    guard = SingleInstance(home)
    assert guard.acquire()
    asked: list[int] = []
    guard.listen(lambda: asked.append(1))
    try:
        assert _finish(loop, _second_start(home, answer=False)) == "cancelled"
        assert asked == []
    finally:
        guard.release()


def test_the_already_open_message_names_the_registry_and_offers_to_bring_the_window(
    qtbot: Any, tmp_path: Path
):
    dialog = AlreadyOpenDialog(tmp_path / "home", 4242)
    qtbot.addWidget(dialog)
    assert str(tmp_path / "home") in dialog.text() and "4242" in dialog.text()
    assert dialog.forward.text() == "Bring it forward"
    assert dialog.defaultButton() is dialog.forward


def test_a_window_that_was_killed_does_not_keep_the_registry_locked(qapp: Any, tmp_path: Path):
    home = tmp_path / "home"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from PySide6.QtCore import QCoreApplication
        from desktop_registry.ui.single_instance import SingleInstance
        app = QCoreApplication([])
        guard = SingleInstance(Path({str(home)!r}))
        print("locked" if guard.acquire() else "refused", flush=True)
        time.sleep(120)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    second = SingleInstance(home)
    assert not second.acquire()  # held while that process lives
    assert second.owner_pid() == holder.pid  # what the "already open" message names
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    guard = SingleInstance(home)
    assert guard.acquire()  # the dead process's lock is stale: the next start takes it
    guard.release()


def test_the_real_app_answers_a_second_start_and_frees_the_registry_when_closed(
    qapp: Any, emulator: Any, tmp_path: Path
):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        DESKTOP_REGISTRY_HOME=str(home),
        DESKTOP_REGISTRY_OLLAMA_URL=emulator.url,
        DESKTOP_REGISTRY_GITHUB_MODELS_SYNC="never",
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "desktop_registry"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60  # a bound on waiting, not a timed assertion
        while not (home / LOCK_NAME).exists() and app.poll() is None:
            assert time.monotonic() < deadline, "the app never took the registry's window lock"
            time.sleep(0.1)
        guard = SingleInstance(home)
        assert not guard.acquire()  # the running app holds it
        answered = False
        while not answered and app.poll() is None and time.monotonic() < deadline:
            answered = guard.ask_owner_to_show(timeout_ms=500)  # it listens once its window is up
            time.sleep(0.1)
        assert answered, "the running window never answered a second start"
    finally:
        app.send_signal(signal.SIGINT)  # closes the window the way its close button does
        code = app.wait(timeout=60)
    assert app.stderr is not None
    assert code == 0, app.stderr.read()
    after = SingleInstance(home)
    assert after.acquire()  # closing the window released the registry
    after.release()
