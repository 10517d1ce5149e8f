"""The self-test's Qt half: builds the main window with every panel and the About box offscreen,
and syncs through the window's own services when an Ollama URL was given.

Never shows anything on a real screen and never keeps the window open after its checks.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCollator, QLibraryInfo, QLocale, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from desktop_registry.self_test import describe

if TYPE_CHECKING:
    from desktop_registry.app import AppContext

Result = dict[str, Any]


def _ok(detail: object, started: float) -> Result:
    return {"ok": True, "detail": detail, "s": round(time.perf_counter() - started, 3)}


def _failed(exc: BaseException) -> Result:
    return {"ok": False, "error": describe(exc)}


def qt_plugins() -> Result:
    """The platform plugins this Qt can load: a bundle without xcb cannot open a Linux window."""
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    names = sorted(p.name for p in folder.glob("*") if p.is_file())
    needed = {"linux": ["qxcb", "qoffscreen"], "win32": ["qwindows"], "darwin": ["qcocoa"]}
    wanted = needed.get(sys.platform, [])
    absent = [w for w in wanted if not any(w in name for name in names)]
    if absent:
        return {"ok": False, "error": f"Qt platform plugins missing in {folder}: {absent}"}
    return {"ok": True, "detail": {"platforms": names}}


# English collation as ICU's root and English data give it (the bundle's ICU data is trimmed to
# those): letters before accents and case (Äpfel sorts by a-p-f), lower case before upper, digits
# as numbers. Code-point order, what Qt falls back to without ICU data, puts Äpfel last.
COLLATED = ["Äpfel", "apple", "Apple", "banana", "file9", "file10"]


def text_check() -> Result:
    """Qt's ICU data is there (QCollator falls back to code-point order without it) and a font
    draws glyphs: the two things a trimmed ICU library or a bundle without fonts would break."""
    started = time.perf_counter()
    collator = QCollator(QLocale("en_US"))
    collator.setNumericMode(True)
    shuffled = ["file10", "banana", "Apple", "file9", "Äpfel", "apple"]
    order = sorted(shuffled, key=functools.cmp_to_key(collator.compare))
    if order != COLLATED:
        return {"ok": False, "error": f"ICU collation is not working (its data?): {order}"}
    german = QCollator(QLocale("de_DE"))  # no German data when trimmed: falls back to root
    fallback = sorted(["Zebra", "Äpfel", "apfel"], key=functools.cmp_to_key(german.compare))
    image = QImage(240, 40, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(QColor("black"))
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, "Desktop Registry")
    painter.end()
    white = QColor("white").rgb()
    inked = sum(
        image.pixel(x, y) != white for x in range(image.width()) for y in range(image.height())
    )
    if inked == 0:
        return {"ok": False, "error": "drawing text left the image blank: no usable font"}
    return _ok({"collation": order, "de_DE": fallback, "inked_pixels": inked}, started)


def save_picture(widget: QWidget, path: Path) -> str:
    """What the screen shows of `widget` (the X server's pixels under xvfb), else its render."""
    app = QApplication.instance()
    for _ in range(20):  # let the window manager (if any) map and paint it
        if app is not None:
            app.processEvents()
    screen = widget.screen()
    on_screen = QApplication.platformName() not in ("offscreen", "minimal")
    picture = screen.grabWindow(widget.winId()) if on_screen else widget.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not picture.save(str(path)):
        raise RuntimeError(f"could not write {path}")
    return str(path)


def check_window(
    ctx: AppContext, home: Path, *, sync: bool, screenshots: Path | None = None
) -> dict[str, Result]:
    import qasync

    from desktop_registry.ui import panels
    from desktop_registry.ui.about_dialog import AboutDialog
    from desktop_registry.ui.main_window import MainWindow

    results: dict[str, Result] = {"qt_plugins": qt_plugins()}
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    try:
        results["text"] = text_check()
    except Exception as exc:
        results["text"] = _failed(exc)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    started = time.perf_counter()
    window: MainWindow | None = None
    try:
        prefs = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
        window = MainWindow(ctx, prefs)
        window.show()
        app.processEvents()
        built = [title for title, make in panels.PANELS if make(ctx, window) is not None]
        results["main_window"] = _ok({"panels": built, "tabs": window.tabs.count()}, started)
    except Exception as exc:  # named in the summary, never a traceback
        results["main_window"] = _failed(exc)
    if window is not None and sync:
        started = time.perf_counter()
        try:
            reachable = loop.run_until_complete(asyncio.wait_for(window.sources.check_ollama(), 30))
            if not reachable:
                raise RuntimeError(f"Ollama at {ctx.settings.ollama_url} did not answer")
            report = loop.run_until_complete(asyncio.wait_for(ctx.sync_all().run(), 60))
            if report.failed:
                raise RuntimeError(f"sync failed for {report.failed}: {report.errors}")
            detail = {
                "added": len(report.added),
                "in_registry": ctx.models.count(),
                "ollama": window.sources.ollama_version,
            }
            results["ollama_sync"] = _ok(detail, started)
        except Exception as exc:
            results["ollama_sync"] = _failed(exc)
    started = time.perf_counter()
    try:
        about = AboutDialog(window)
        shown: dict[str, object] = dict(about.versions())
        if screenshots is not None:
            if window is not None:  # first: the About box would cover part of it
                shown["window_screenshot"] = save_picture(window, screenshots / "window.png")
            about.show()
            shown["screenshot"] = save_picture(about, screenshots / "about.png")
            about.close()
        results["about_box"] = _ok(shown, started)
        about.deleteLater()
    except Exception as exc:
        results["about_box"] = _failed(exc)
    if window is not None:
        try:
            window.close()
            loop.run_until_complete(asyncio.wait_for(window.aclose(), 30))
        except Exception as exc:
            results["window_close"] = _failed(exc)
    else:
        loop.run_until_complete(ctx.aclose())
    return results
