"""What happens to the selected model: the inspector filled for it, its memory state read, and
its Delete, Unload, Copy name and New experiment buttons carried out.

Asks before anything destructive; failures go to the window's status bar, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from desktop_registry.errors import RegistryError

if TYPE_CHECKING:
    from desktop_registry.domain import ModelRecord
    from desktop_registry.ui.experiment_dialog import ExperimentDialog
    from desktop_registry.ui.inspector import ModelInspector
    from desktop_registry.ui.main_window import MainWindow


class ModelActions:
    """The selected model's commands for `window` (a MainWindow: ctx, inspector, browser)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def connect(self, inspector: ModelInspector) -> None:
        window = self.window
        inspector.copy_requested.connect(self.copy_name)
        inspector.delete_requested.connect(
            lambda i: window.tasks.spawn(self.delete(i), "deleting a model")
        )
        inspector.unload_requested.connect(
            lambda i: window.tasks.spawn(self.unload(i), "unloading a model")
        )
        inspector.experiment_requested.connect(self.new_experiment)

    def show(self, model_id: int) -> None:
        window = self.window
        models = window.ctx.registry()
        try:
            record = models.get(model_id)
            parent = models.get(record.parent_id) if record.parent_id else None
            variants = models.variants(model_id)
            measured = len(models.performance(model_id)) if record.performance else 0
        except RegistryError as exc:
            window.report(str(exc))
            return
        window.inspector.show_model(
            record, parent=parent, variants=variants, performance_rows=measured
        )
        if record.is_local and record.source.value == "ollama":
            window.tasks.spawn(self.memory_state(model_id), "reading loaded models")
        if record.details.engine == "llamacpp":
            window.tasks.spawn(self.server_state(record), "reading the llama.cpp server's state")
        if record.is_local:
            window.tasks.spawn(
                window.inspector.check_compatibility(window.ctx, record), "estimating memory"
            )

    def model_served(self, model_id: object) -> None:
        """A chat or embedding used a model: the shown local model's "In memory" is re-read
        (Ollama loads on first use, and may have unloaded another model to do it)."""
        record = self.window.inspector.record
        if record is None or record.id is None or not record.is_local:
            return
        if record.source.value == "ollama":
            self.window.tasks.spawn(self.memory_state(record.id), "reading loaded models")

    async def memory_state(self, model_id: int) -> None:
        inspector = self.window.inspector
        record = inspector.record
        try:
            loaded = await self.window.ollama().loaded_models()
        except RegistryError as exc:
            if inspector.record is record:
                inspector.show_memory(None, error=str(exc).split(" — ")[0])
            return
        if inspector.record is None or inspector.record.id != model_id:
            return  # another model was selected meanwhile
        name = inspector.record.ollama_name or inspector.record.name
        match = next((m for m in loaded if m.name == name), None)
        inspector.show_memory(match)

    async def server_state(self, record: ModelRecord) -> None:
        inspector = self.window.inspector
        try:
            facts = await self.window.ctx.llamacpp_status(record)
        except RegistryError as exc:
            inspector.show_server(record.id, [], error=str(exc))
            return
        inspector.show_server(record.id, facts)

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text)
        return answer == QMessageBox.StandardButton.Yes

    async def delete(self, model_id: int) -> None:
        window = self.window
        record = window.ctx.registry().get(model_id)
        where = "from Ollama's disk and the registry" if record.is_local else "from the registry"
        if not self.confirm("Delete model", f"Delete {record.name} {where}?"):
            return
        variants = window.ctx.registry().variants(model_id)
        force = False
        if variants:
            names = ", ".join(v.name for v in variants[:5])
            if not self.confirm(
                "Variants depend on this model",
                f"{len(variants)} model(s) derive from {record.name} ({names}). Delete it "
                "anyway and keep them without their parent?",
            ):
                return
            force = True
        await window.ctx.local_models().remove(model_id, force=force)
        window.inspector.clear()
        window.report(f"Deleted {record.name}.")

    async def unload(self, model_id: int) -> None:
        record = await self.window.ctx.local_models().stop(model_id)
        self.window.report(f"Unloaded {record.name} from memory.")
        await self.memory_state(model_id)

    def new_experiment(self, model_id: int) -> ExperimentDialog | None:
        """The "New experiment…" dialog for a base; the tree shows the variant when it closes."""
        from desktop_registry.ui.experiment_dialog import open_experiment_dialog

        window = self.window
        try:
            base = window.ctx.registry().get(model_id)
        except RegistryError as exc:
            window.report(str(exc))
            return None
        dialog = open_experiment_dialog(window.ctx, window, base, window.tasks)
        dialog.finished.connect(lambda _result: self._experiment_closed(dialog))
        return dialog

    def _experiment_closed(self, dialog: ExperimentDialog) -> None:
        created = dialog.created
        if created is None or created.id is None:
            return
        self.window.events.flush()  # the tree has the new variant before it is selected
        self.window.browser.select_model(created.id)
        self.window.report(f"Created {created.name} from {dialog.base.name}.")

    def copy_name(self, name: str) -> None:
        QGuiApplication.clipboard().setText(name)
        self.window.report(f"Copied {name}")
