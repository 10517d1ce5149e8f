"""One window per registry: a second start on the same data dir brings the first window forward.

Never blocks a start for long (the first window answers in milliseconds or is treated as gone)
and never stops the command line: desktop-registry-cli runs beside the window as before.

Why a guard rather than two windows on one registry: the registry file itself is safe with two
programs (SQLite WAL, short write transactions, the upgrade lock), and jobs know their owner's
pid. What is not safe is the rest of a window's state: two windows each write settings.json and
QSettings from their dialogs (last one wins, silently), both poll and sync the same Ollama
(double the requests, interleaved "models changed" refreshes), and a user who double-clicks the
icon twice expects the window they already have, not a second copy of it. So: QLockFile in the
data dir says who owns the window (the OS pid check makes a crashed owner's lock stale at once),
and a QLocalServer named after the data dir lets the second start ask the owner to come forward.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QMessageBox, QWidget

LOCK_NAME = ".window.lock"
SHOW = b"show\n"
SHOWN = b"shown\n"
ANSWER_MS = 3000


def server_name(data_dir: Path) -> str:
    """A local socket name per data dir (short: Unix socket paths are limited to ~100 bytes)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"desktop-registry-{digest}"


class SingleInstance:
    """The window lock of one data dir. `acquire()` first; the owner then `listen()`s."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.lock = QLockFile(str(data_dir / LOCK_NAME))
        self.lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self.name = server_name(data_dir)
        self.server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True if this process now owns the window of this data dir."""
        if self.lock.tryLock(100):
            return True
        # A lock whose process died is stale: take it over rather than refuse to start.
        return self.lock.removeStaleLockFile() and self.lock.tryLock(100)

    def owner_pid(self) -> int | None:
        pid, _host, _app = self.lock.getLockInfo()  # (0, "", "") when nobody holds it
        return int(pid) or None

    def listen(self, bring_forward: Callable[[], None]) -> None:
        """Answer later starts: each "show" brings this window forward and is acknowledged."""
        QLocalServer.removeServer(self.name)  # a socket file left by a crashed owner
        self.server = QLocalServer()
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(self.name):
            self.server = None  # later starts are told the window did not answer; this one runs
            return
        self.server.newConnection.connect(lambda: self._answer(bring_forward))

    def _answer(self, bring_forward: Callable[[], None]) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._request(s, bring_forward))
            socket.disconnected.connect(socket.deleteLater)

    def _request(self, socket: QLocalSocket, bring_forward: Callable[[], None]) -> None:
        if bytes(socket.readAll().data()).startswith(SHOW.strip()):
            bring_forward()
            socket.write(SHOWN)
            socket.flush()

    def ask_owner_to_show(self, timeout_ms: int = ANSWER_MS) -> bool:
        """From a second start: ask the owning window to come forward; True once it has."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(SHOW)
        socket.waitForBytesWritten(timeout_ms)
        answered = socket.waitForReadyRead(timeout_ms) and bytes(
            socket.readAll().data()
        ).startswith(SHOWN.strip())
        socket.disconnectFromServer()
        return answered

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self.lock.unlock()


def bring_forward(window: QWidget) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


class AlreadyOpenDialog(QMessageBox):
    """What a second start shows: the registry is open in another window; bring that one?"""

    def __init__(self, data_dir: Path, owner_pid: int | None) -> None:
        super().__init__()
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle("Desktop Registry is already open")
        who = f" (process {owner_pid})" if owner_pid else ""
        self.setText(f"The registry in {data_dir} is open in another Desktop Registry window{who}.")
        self.setInformativeText(
            "Bring that window forward? One window per registry keeps your settings and syncs "
            "from overwriting each other. To work on another registry, set DESKTOP_REGISTRY_HOME."
        )
        self.forward = self.addButton("Bring it forward", QMessageBox.ButtonRole.AcceptRole)
        self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.forward)


def second_start(guard: SingleInstance, ask: Callable[[], bool] | None = None) -> str:
    """A start that did not get the lock: 'shown' (the first window came forward), 'cancelled',
    or a message for the user when the first window did not answer."""
    if ask is None:

        def ask() -> bool:
            dialog = AlreadyOpenDialog(guard.data_dir, guard.owner_pid())
            dialog.exec()
            return dialog.clickedButton() is dialog.forward

    if not ask():
        return "cancelled"
    if guard.ask_owner_to_show():
        return "shown"
    return (
        f"The Desktop Registry window that holds {guard.data_dir} did not answer. If it is "
        "stuck, close it (or end its process); then start Desktop Registry again."
    )
