"""What the tabs, panels and dialogs the window opens may use of it, one small Protocol per need.

Types only: MainWindow satisfies these structurally (mypy checks it where the window is passed);
this module never imports MainWindow, and nothing here runs or imports anything at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop_registry.app import AppContext
    from desktop_registry.domain.entries import ModelEntry
    from desktop_registry.domain.local import LoadedModel, ServerInfo
    from desktop_registry.services.serving.service import ServingService
    from desktop_registry.ui.tasks import TaskRunner


class WindowServices(Protocol):
    """The app context, the runner that reports a background task's failure, the status line:
    what the Jobs tab, a chat and a dialog use of the window."""

    ctx: AppContext
    tasks: TaskRunner

    def report(self, message: str) -> None: ...


class DialogOwner(WindowServices, Protocol):
    """A window that owns the dialogs it opens (Pull, Settings)."""

    def window(self) -> QWidget: ...  # QWidget.window(): the top-level window, their parent


class SettingsOwner(DialogOwner, Protocol):
    """What the Settings dialog hands its saved choices to."""

    def apply_settings(self, *, ollama_url: str, data_dir: str, theme: str) -> None: ...


class ChatHost(WindowServices, Protocol):
    """What a chat tab (one model, or several side by side) uses: the models it can pick and the
    serving service (built at the first chat)."""

    entries: list[ModelEntry]

    def serving(self) -> ServingService: ...


class PullOpener(Protocol):
    """A window that can open the Pull dialog for a model's name."""

    def open_pull_dialog(self, name: str) -> object: ...


class PanelHost(PullOpener, Protocol):
    """What a work-area panel (panels.PANELS) gets besides the context."""

    tasks: TaskRunner


class OllamaServer(Protocol):
    """What the window asks the local Ollama directly (through AppContext.ollama())."""

    async def version(self) -> ServerInfo: ...

    async def loaded_models(self) -> list[LoadedModel]: ...

    async def unload(self, model: str) -> None: ...

    async def delete(self, name: str) -> None: ...
