"""Work-area panels that features contribute to the main window, built the first time shown.

Each entry: (tab title, factory); a factory takes (ctx, window) and returns the panel's QWidget.
Its module is imported inside the factory, so the window opens without paying for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QWidget

PanelFactory = Callable[[Any, Any], QWidget]


def library_panel(ctx: Any, window: Any) -> QWidget:
    from desktop_registry.ui.library_view import create

    return create(ctx, window)


def slots_panel(ctx: Any, window: Any) -> QWidget:
    from desktop_registry.ui.slots_view import create

    return create(ctx, window)


def compare_panel(ctx: Any, window: Any) -> QWidget:
    from desktop_registry.ui.compare_panel import create

    return create(ctx, window)


PANELS: list[tuple[str, PanelFactory]] = [
    ("Library", library_panel),
    ("Slots", slots_panel),
    ("Compare", compare_panel),
]
