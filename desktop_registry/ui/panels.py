"""Work-area panels that features contribute to the main window, built the first time shown.

Each entry: (tab title, factory); a factory takes (ctx, window) and returns the panel's QWidget;
of the window it may use only what window_api.PanelHost names, and it builds without one (None).
Its module is imported inside the factory, so the window opens without paying for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.ui.window_api import PanelHost

PanelFactory = Callable[["AppContext", "PanelHost | None"], QWidget]


def library_panel(ctx: AppContext, window: PanelHost | None) -> QWidget:
    from desktop_registry.ui.library_view import create

    return create(ctx, window)


def slots_panel(ctx: AppContext, window: PanelHost | None) -> QWidget:
    from desktop_registry.ui.slots_view import create

    return create(ctx, window)


def compare_panel(ctx: AppContext, window: PanelHost | None) -> QWidget:
    from desktop_registry.ui.compare_panel import create

    return create(ctx, window)


def optimization_panel(ctx: AppContext, window: PanelHost | None) -> QWidget:
    from desktop_registry.ui.optimization_panel import create

    return create(ctx, window)


def finetune_panel(ctx: AppContext, window: PanelHost | None) -> QWidget:
    from desktop_registry.ui.finetune_panel import create

    return create(ctx, window)


PANELS: list[tuple[str, PanelFactory]] = [
    ("Library", library_panel),
    ("Slots", slots_panel),
    ("Compare", compare_panel),
    ("Optimize", optimization_panel),
    ("Fine-tune", finetune_panel),
]
