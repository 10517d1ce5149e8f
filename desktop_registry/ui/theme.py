"""Light and dark palettes; `system` follows the OS colour scheme (QStyleHints.colorScheme).

Never changes anything but the application's style, palette and small style sheet.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a",
    QPalette.ColorRole.AlternateBase: "#26272b",
    QPalette.ColorRole.ToolTipBase: "#303134",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Button: "#2d2e31",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d6fd6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.Mid: "#3c4043",
    QPalette.ColorRole.Dark: "#111214",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f3f4f6",
    QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f6f8fa",
    QPalette.ColorRole.ToolTipBase: "#ffffe8",
    QPalette.ColorRole.ToolTipText: "#1f2328",
    QPalette.ColorRole.Text: "#1f2328",
    QPalette.ColorRole.PlaceholderText: "#6e7781",
    QPalette.ColorRole.Button: "#eceef1",
    QPalette.ColorRole.ButtonText: "#1f2328",
    QPalette.ColorRole.BrightText: "#cf222e",
    QPalette.ColorRole.Highlight: "#2f6fdb",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#0969da",
    QPalette.ColorRole.Mid: "#d0d7de",
    QPalette.ColorRole.Dark: "#8c959f",
}

# Colours for badges and banners, readable on either background.
BADGE = {"local": "#1a7f37", "remote": "#8250df", "missing": "#9a6700", "error": "#cf222e"}
_BADGE_LIGHT = dict(BADGE)
_BADGE_DARK = {"local": "#3fb950", "remote": "#bc8cff", "missing": "#d29922", "error": "#ff7b72"}


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def effective_dark(mode: str) -> bool:
    return mode == "dark" or (mode == "system" and system_is_dark())


def apply_theme(app: QApplication, mode: str) -> bool:
    """Apply `system`, `light` or `dark`; returns whether the dark palette is in use."""
    dark = effective_dark(mode if mode in THEMES else "system")
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (_DARK if dark else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#6b6f75") if dark else QColor("#a0a7b0")
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(palette)
    BADGE.update(_BADGE_DARK if dark else _BADGE_LIGHT)  # read at paint time by the tree
    border = "#3c4043" if dark else "#d0d7de"
    banner_bg = "#4a3b10" if dark else "#fff8c5"
    banner_fg = "#f5e3a3" if dark else "#3b2e00"
    app.setStyleSheet(
        f"""
        QFrame#banner {{ background: {banner_bg}; color: {banner_fg};
                         border: 1px solid {border}; border-radius: 4px; }}
        QFrame#banner QLabel {{ color: {banner_fg}; }}
        QLabel#sectionTitle {{ font-weight: 600; font-size: 14px; }}
        QLabel#muted {{ color: {"#9aa0a6" if dark else "#57606a"}; }}
        QFrame#bubble_user {{ background: {"#263a5c" if dark else "#ddeaff"}; border-radius: 6px; }}
        QFrame#bubble_assistant {{ background: {"#2a2b2f" if dark else "#ffffff"};
                                   border: 1px solid {border}; border-radius: 6px; }}
        QFrame#bubble_assistant QLabel, QFrame#bubble_user QLabel {{ background: transparent; }}
        QLabel#stats {{ color: {"#9aa0a6" if dark else "#57606a"}; font-size: 11px; }}
        QLabel#error {{ color: {"#ff8182" if dark else "#cf222e"}; }}
        """
    )
    return dark
