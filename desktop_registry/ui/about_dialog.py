"""Help → About: the app's name, icon and version, and the versions of what it runs on.

Reads versions only (package metadata, Qt, what Ollama last reported); never calls a server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop_registry.resources_path import resource
from desktop_registry.self_test import finetune_status, package_version

if TYPE_CHECKING:
    from desktop_registry.ui.main_window import MainWindow

APP_NAME = "Desktop Registry"
ICON_FILE = ("icons", "desktop-registry.svg")


def app_icon() -> QIcon:
    """The app's icon (SVG, with the generated PNGs as fallbacks); empty if none is shipped."""
    icon = QIcon()
    folder = resource("icons")
    for size in (16, 32, 48, 64, 128, 256):
        png = folder / f"desktop-registry-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    svg = resource(*ICON_FILE)
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


class AboutDialog(QDialog):
    def __init__(self, window: MainWindow | None = None) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(f"About {APP_NAME}")
        self.setWindowIcon(app_icon())
        layout = QVBoxLayout(self)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(logo)
        title = QLabel(f"<h2>{APP_NAME} {package_version('desktop-registry')}</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(title)
        blurb = QLabel("One registry for every LLM you run: local, remote and derived.")
        blurb.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(blurb)
        rows = "".join(
            f"<tr><td><b>{name}</b>&nbsp;&nbsp;</td><td>{value}</td></tr>"
            for name, value in self.versions().items()
        )
        self.table = QLabel(f"<table>{rows}</table>")
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.table, alignment=Qt.AlignmentFlag.AlignHCenter)
        finetune = finetune_status()
        # The hint already starts "Fine-tuning needs …": no "Fine-tuning:" label before it.
        self.finetune = QLabel("Fine-tuning: available" if finetune == "available" else finetune)
        self.finetune.setWordWrap(True)
        layout.addWidget(self.finetune)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)

    def versions(self) -> dict[str, str]:
        """What a bug report needs: this app's version and those of the parts it runs on."""
        seen = self.window_.sources.ollama_version if self.window_ is not None else None
        data_dir = str(self.window_.ctx.settings.home) if self.window_ is not None else ""
        return {
            APP_NAME: package_version("desktop-registry"),
            "Qt": f"{qVersion()} (PySide6 {pyside_version})",
            "Ollama": seen or "not seen yet (is it running?)",
            "MLflow": _first_installed("mlflow-skinny", "mlflow"),
            "Optuna": package_version("optuna"),
            "Data folder": data_dir,
        }


def _first_installed(*names: str) -> str:
    for name in names:
        found = package_version(name)
        if found != "not installed":
            return found
    return "not installed"


def show_about(window: MainWindow) -> QWidget:
    dialog = AboutDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
