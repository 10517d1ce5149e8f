"""Importing `.prompt.yml` evaluation suites from the window: the file dialog and drag-and-drop
(on the window or the Compare panel), through the evaluation service's catalog.

Never parses a suite itself and never lets a refused file raise: the catalog's message (with the
file's line and field) is what the user reads, in the panel's message line or the status bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_registry.errors import RegistryError

if TYPE_CHECKING:
    from desktop_registry.services.evaluation.suite import EvalSuite
    from desktop_registry.ui.main_window import MainWindow

SUITE_SUFFIXES = (".yml", ".yaml")  # `.prompt.yml` by gh-models' convention; any YAML is tried
FILE_FILTER = "Prompt files (*.prompt.yml *.prompt.yaml *.yml *.yaml)"


class SuiteImporter(Protocol):
    """The catalog's one call this module uses (services/evaluation/catalog.SuiteCatalog)."""

    def import_file(self, path: Path) -> EvalSuite: ...


def dropped_files(mime: QMimeData) -> list[Path]:
    """The local files a drag carries (web links and text are not files)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def import_suite_files(
    catalog: SuiteImporter, paths: Iterable[Path], say: Callable[[str], None]
) -> list[str]:
    """Import each file; says what was imported and why any file was not. Returns the names."""
    imported: list[str] = []
    refused: list[str] = []
    for path in paths:
        if not path.name.lower().endswith(SUITE_SUFFIXES):
            refused.append(f"{path.name} is not a suite: drop a .prompt.yml file.")
            continue
        try:
            suite = catalog.import_file(path)
        except RegistryError as exc:
            refused.append(str(exc))
            continue
        imported.append(suite.name)
    parts = []
    if imported:
        names = ", ".join(repr(name) for name in imported)
        parts.append(f"Imported suite{'s' if len(imported) > 1 else ''} {names}.")
    if refused:
        parts.append("Not imported: " + " ".join(refused))
    if parts:
        say(" ".join(parts))
    return imported


def ask_suite_files(parent: QWidget) -> list[Path]:
    names, _ = QFileDialog.getOpenFileNames(parent, "Import evaluation suite", "", FILE_FILTER)
    return [Path(name) for name in names]


class SuiteDrop(QObject):
    """Accepts dragged local files on `widget` and hands their paths to `on_files`."""

    def __init__(self, widget: QWidget, on_files: Callable[[list[Path]], None]) -> None:
        super().__init__(widget)
        self.on_files = on_files
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDragMoveEvent)
            if dropped_files(event.mimeData()):
                event.acceptProposedAction()
                return True
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            files = dropped_files(event.mimeData())
            if not files:
                return False
            event.acceptProposedAction()
            self.on_files(files)
            return True
        return False


def accept_window_drops(window: MainWindow) -> SuiteDrop:
    """A suite dropped anywhere on the window is imported; the status bar says how it went and
    an open Compare panel lists it at once."""

    def imported(files: list[Path]) -> None:
        names = import_suite_files(window.ctx.eval_suites(), files, window.report)
        if not names:
            return
        for index in range(window.tabs.count()):
            panel = window.tabs.widget(index)
            show = getattr(panel, "show_imported_suite", None)
            if callable(show):
                show(names[-1])

    return SuiteDrop(window, imported)
