"""The window wires in experiments (New experiment…, Open in MLflow), the inspector's
Compatibility section and lineage in the tree: base → variants."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Qt

from desktop_registry.domain import Kind, ModelRecord, Source
from desktop_registry.services.library.hardware import HardwareProbe, HardwareProfile
from desktop_registry.ui.experiment_dialog import ExperimentDialog
from desktop_registry.ui.model_tree_badges import BADGES_ROLE
from desktop_registry.ui.theme import BADGE
from tests.gui.conftest import run, until


class DescribedMachine(HardwareProbe):
    """The test machine has no GPU: this probe answers for a described one (a 8 GiB NVIDIA
    card, 32 GiB RAM) and records the thread it was asked on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def probe(self) -> HardwareProfile:
        self.threads.append(threading.current_thread())
        return HardwareProfile.describe(ram_gb=32, gpu_vram_gb=8, gpu_name="NVIDIA RTX 4060")


def register_variant(window: Any, base_name: str, name: str, **parameters: Any) -> ModelRecord:
    base = window.ctx.models.find(base_name)
    variant = window.ctx.models.register(
        base.model_copy(
            update={
                "id": None,
                "name": name,
                "source": Source.MLFLOW,
                "kind": Kind.VARIANT,
                "parent_id": base.id,
                "digest": "",
                "parameters": {**base.parameters, **parameters},
            }
        )
    )
    window.refresh_models()
    return variant


def model_rows(model: Any, parent: Any) -> list[Any]:
    return [model.index(r, 0, parent) for r in range(model.rowCount(parent))]


def leaves_named(model: Any, name: str) -> list[Any]:
    """Every index in the tree showing `name`, at any depth."""
    found, todo = [], model_rows(model, model.index(-1, -1))
    while todo:
        index = todo.pop()
        entry = model.entry_at(index)
        if entry is not None and entry.name == name:
            found.append(index)
        todo.extend(model_rows(model, index))
    return found


# ----- lineage in the tree ---------------------------------------------------------------
def test_a_variant_shows_once_and_only_under_its_base(synced_window):
    window = synced_window
    variant = register_variant(window, "llama3.1:8b", "llama-cold")
    model, view = window.browser.model, window.browser.view
    (base,) = leaves_named(model, "llama3.1:8b")  # each model once, under its primary category
    assert [model.entry_at(i).name for i in model_rows(model, base)] == ["llama-cold"]
    assert view.isExpanded(base)  # base → variant is seen without a click
    (child,) = leaves_named(model, "llama-cold")  # not also under an "MLflow" source
    assert child.parent() == base
    assert [s.key for s in model.root.children] == ["ollama"]
    assert ("variant", "kind") in model.data(child, BADGES_ROLE)
    assert "variant of llama3.1:8b" in model.data(child, Qt.ItemDataRole.ToolTipRole)
    assert model.shown == 6
    # Picking the variant under its base opens it in the inspector.
    view.setCurrentIndex(child)
    assert window.inspector.title.text() == "llama-cold"
    assert "derived from" in window.inspector.fields["lineage"].text()
    assert window.browser.selected_id() == variant.id


def test_the_variants_toggle_hides_and_shows_variants_under_their_bases(synced_window):
    window = synced_window
    register_variant(window, "llama3.1:8b", "llama-cold")
    browser = window.browser
    browser.variants_toggle.setChecked(False)
    assert leaves_named(browser.model, "llama-cold") == []
    assert browser.model.shown == 5
    browser.variants_toggle.setChecked(True)
    (child,) = leaves_named(browser.model, "llama-cold")
    assert browser.model.entry_at(child.parent()).name == "llama3.1:8b"


def test_filtering_for_a_variant_keeps_it_under_a_matching_base_only(synced_window, loop):
    window = synced_window
    register_variant(window, "qwen3:8b", "qwen3-tuned")
    browser = window.browser
    browser.filter_box.setText("qwen3")
    until(loop, lambda: browser.model.shown == 2)
    (base,) = [i for i in leaves_named(browser.model, "qwen3:8b") if i.parent().isValid()][:1]
    assert [browser.model.entry_at(i).name for i in model_rows(browser.model, base)] == [
        "qwen3-tuned"
    ]
    browser.filter_box.setText("tuned")  # the base no longer matches: no lineage row
    until(loop, lambda: browser.model.shown == 1)
    assert all(
        browser.model.entry_at(i.parent()) is None
        for i in leaves_named(browser.model, "qwen3-tuned")
    )


# ----- experiments from the inspector -----------------------------------------------------
def test_new_experiment_opens_the_dialog_for_the_selected_base_and_the_tree_shows_the_result(
    synced_window, loop, qtbot
):
    window = synced_window
    llama = window.ctx.models.find("llama3.1:8b")
    window.browser.select_model(llama.id)
    inspector = window.inspector
    assert inspector.experiment_button.isEnabled()
    assert not inspector.mlflow_button.isEnabled()  # a pulled model has no MLflow run
    inspector.experiment_button.click()
    dialog = next(w for w in window.findChildren(ExperimentDialog))
    assert dialog.isVisible() and dialog.windowTitle() == "New experiment from llama3.1:8b"
    dialog.type_box.setCurrentIndex(2)  # Ensemble: nothing is created in Ollama or MLflow
    dialog.name.setText("duo")
    for i in range(dialog.members.count()):
        item = dialog.members.item(i)
        if item.text() in ("llama3.1:8b", "qwen3:8b"):
            item.setCheckState(Qt.CheckState.Checked)
    dialog.create_button.click()
    until(loop, lambda: dialog.pending is not None and dialog.pending.done())
    assert dialog.error.text() == "", dialog.error.text()
    dialog.reject()  # closing the dialog shows the new model in the tree, selected
    until(loop, lambda: window.inspector.title.text() == "duo")
    assert any(e.name == "duo" for e in window.entries)
    assert "Created duo" in window.status.currentMessage()


def test_open_in_mlflow_shows_the_run_of_a_tracked_variant(synced_window):
    window = synced_window
    tracking = {"run_id": "0af3c5e1d2", "tracking_uri": "sqlite:///mlflow.db", "experiment": "x"}
    variant = register_variant(window, "phi:2.7b", "phi-cold", mlflow=tracking)
    window.browser.select_model(variant.id)
    inspector = window.inspector
    assert inspector.mlflow_button.isEnabled()
    inspector.mlflow_button.click()
    box = inspector.mlflow_box
    assert box.isVisible()
    assert "Run ID: 0af3c5e1d2" in box.text() and "sqlite:///mlflow.db" in box.text()
    box.close()


# ----- compatibility ----------------------------------------------------------------------
def test_compatibility_shows_memory_fit_badge_and_advice_probed_off_the_ui_thread(
    synced_window, loop
):
    window = synced_window
    probe = DescribedMachine()
    window.ctx._hardware = probe
    inspector = window.inspector
    compat = inspector.compat

    phi = window.ctx.models.find("phi:2.7b")
    window.browser.select_model(phi.id)
    assert inspector.compat_box.isVisible()
    until(loop, lambda: compat["fit"].text() != "")
    assert probe.threads and probe.threads[0] is not threading.main_thread()
    assert "GiB at 2,048 tokens" in compat["memory"].text()
    assert compat["fit"].text() == "● Runs fully on the GPU"
    assert compat["fit"].property("badge") == "green"
    assert BADGE["local"] in compat["fit"].styleSheet()  # drawn as a green badge
    assert "fits in 8.0 GiB of GPU memory" in compat["reason"].text()

    # Without num_ctx Ollama loads llama3.1:8b (trained for 131,072 tokens) at its default
    # context for an 8 GiB card, 4,096 tokens; with num_ctx 131072 its KV cache alone is 16 GiB.
    llama = window.ctx.models.find("llama3.1:8b")
    window.browser.select_model(llama.id)
    until(loop, lambda: compat["fit"].text() != "")
    assert "at 4,096 tokens" in compat["memory"].text()
    assert compat["fit"].text() == "● Runs fully on the GPU"
    llama = window.ctx.models.update(llama.id, parameters={**llama.parameters, "num_ctx": 131072})
    window.refresh_models()
    window.browser.select_model(phi.id)
    until(loop, lambda: "2,048" in compat["memory"].text())
    window.browser.select_model(llama.id)
    assert compat["fit"].text() == ""  # the old verdict is not left on the new model
    until(loop, lambda: compat["fit"].text() != "")
    assert "at 131,072 tokens" in compat["memory"].text()
    assert compat["fit"].text() == "● Does not fit"
    assert BADGE["error"] in compat["fit"].styleSheet()  # red
    assert compat["warning"].text() == "the context's KV cache is larger than the model itself"
    assert compat["suggestion"].text().startswith("shorten the context to 65536 tokens")
    assert compat["suggestion"].isVisible()

    qwen = window.ctx.models.find("qwen3:8b")  # 40,960 tokens: more than the 8 GiB card holds
    qwen = window.ctx.models.update(qwen.id, parameters={**qwen.parameters, "num_ctx": 40960})
    window.refresh_models()
    window.browser.select_model(qwen.id)
    until(loop, lambda: compat["fit"].text() != "")
    assert compat["fit"].text() == "● Split between GPU and CPU"
    assert BADGE["missing"] in compat["fit"].styleSheet()  # amber
    assert "layers on the GPU" in compat["reason"].text()
    assert len(probe.threads) == 1  # probed once, then cached


def test_a_remote_model_says_it_needs_no_memory_here(synced_window, loop):
    window = synced_window
    remote = window.ctx.models.register(
        ModelRecord(name="openai/gpt-4.1", source=Source.GITHUB_MODELS, serving="remote")
    )
    window.refresh_models()
    window.browser.select_model(remote.id)
    run(loop, window.tasks.idle())
    assert window.inspector.compat["memory"].text() == "none here: served remotely by its provider"
    assert window.inspector.compat["fit"].text() == ""


def test_the_memory_estimate_follows_the_ollama_version_the_window_saw(synced_window, loop):
    """The emulator reports 0.12.6: once the window has seen it, estimates use the newer
    engine's accounting instead of reporting both (the version-unknown case)."""
    window = synced_window
    window.ctx._hardware = DescribedMachine()
    compat = window.inspector.compat
    until(loop, lambda: window.ctx.ollama_version == "0.12.6")
    window.browser.select_model(window.ctx.models.find("phi:2.7b").id)
    until(loop, lambda: compat["fit"].text() != "")
    tip = compat["memory"].toolTip()
    assert "Ollama ≥ 0.12 engine" in tip and "server version unknown" not in tip
