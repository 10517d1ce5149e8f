"""Work-area panels that features contribute to the main window, loaded lazily.

Each entry: (tab title, "module:factory"); the factory takes (ctx, window) and returns a QWidget.
"""

from __future__ import annotations

PANEL_FACTORIES: list[tuple[str, str]] = [
    ("Library", "desktop_registry.ui.library_view:create"),
    ("Slots", "desktop_registry.ui.slots_view:create"),
    ("Compare", "desktop_registry.ui.compare_panel:create"),
]
