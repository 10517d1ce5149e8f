"""Starts Qt with a qasync event loop, builds the app context and shows the main window.

Never does slow work before the window is shown.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication, QMessageBox


def run_gui(argv: Sequence[str]) -> int:
    import qasync

    from desktop_registry.app import build_context
    from desktop_registry.errors import RegistryError
    from desktop_registry.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName("Desktop Registry")
    app.setOrganizationName("DesktopRegistry")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        ctx = build_context()
    except RegistryError as exc:
        QMessageBox.critical(None, "Desktop Registry", str(exc))
        return 1
    window = MainWindow(ctx)
    window.show()
    with loop:
        loop.run_until_complete(window.closed.wait())
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv))
