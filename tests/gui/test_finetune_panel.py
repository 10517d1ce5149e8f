"""The Fine-tune panel against real services: the Ollama emulator, real SQLite, the real job
service and, where torch is installed, the real trainer subprocess on the tiny Llama model."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from desktop_registry.domain.jobs import JobState
from desktop_registry.services.finetune.data_validation import validate_file
from desktop_registry.services.finetune.presets import get_preset
from desktop_registry.ui import panels
from desktop_registry.ui.finetune_form import ERROR_STYLE
from tests.gui.conftest import make_context, run, until
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

DATA = Path(__file__).resolve().parents[1] / "data" / "finetune"
BASE = "llama3.1:8b"  # in the mapping table; the emulator serves it
QUICK = {  # big steps, few of them: the panel is under test here, not learning
    "learning_rate": "0.01",
    "batch_size": "2",
    "warmup_steps": "2",
    "max_steps": "24",
}


def tiny_model() -> Path:
    for name in ("torch", "peft", "transformers", "gguf"):
        pytest.importorskip(name)
    from tests.engine.tiny_model import ensure_tiny_model

    try:
        return ensure_tiny_model().hf_dir
    except Exception as exc:  # no llama.cpp converter on this machine
        pytest.skip(f"the tiny model cannot be built here: {exc}")


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator(standard_models()) as emu:
        yield emu


@pytest.fixture
def ctx(loop, tmp_path: Path, emulator, monkeypatch) -> Iterator[Any]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    context = make_context(tmp_path, emulator.url)
    run(loop, context.ollama_sync().run())
    yield context
    run(loop, context.jobs().shutdown())
    run(loop, context.aclose())
    context.close()


def open_panel(ctx: Any, qtbot: Any, shown: list[int] | None = None) -> Any:
    from desktop_registry.ui.finetune_panel import FinetunePanel

    panel = FinetunePanel(ctx, show_model=shown.append if shown is not None else None)
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    panel.show()
    return panel


@pytest.fixture
def panel(ctx, qtbot) -> Iterator[Any]:
    widget = open_panel(ctx, qtbot)
    yield widget
    widget.stop_following()


def choose(panel: Any, loop: Any, data: Path, name: str = "llama-facts") -> None:
    panel.form.base_box.setCurrentText(BASE)
    panel.form.name.setText(name)
    panel.form.set_data(data)
    until(loop, lambda: not panel.validating)
    assert panel.report.report is not None, panel.report.summary.text()


def quick_settings(panel: Any, hf_dir: Path) -> None:
    panel.form.weights.setText(str(hf_dir))
    panel.form.preset_box.setCurrentText("efficient")
    for name, value in QUICK.items():
        panel.form.fields[name].setText(value)


def test_fine_tune_is_a_registered_panel(ctx):
    from desktop_registry.ui.finetune_panel import FinetunePanel

    widget = dict(panels.PANELS)["Fine-tune"](ctx, None)
    assert isinstance(widget, FinetunePanel)
    widget.stop_following()
    widget.deleteLater()


def test_a_bad_file_lists_each_bad_line_and_start_waits_for_drop_bad_rows(panel, loop):
    bad = DATA / "bad.jsonl"
    choose(panel, loop, bad)
    expected = validate_file(bad)
    lines = panel.report.bad_lines()
    assert lines == [f"line {r.line}: {r.reason}" for r in expected.bad]
    assert [int(t.split(":")[0].removeprefix("line ")) for t in lines] == [
        2, 3, 4, 5, 7, 10, 11, 12, 13
    ]  # fmt: skip
    assert lines[0].startswith("line 2: invalid JSON")
    assert "line 9 repeats line 1" in panel.report.duplicates.text()
    assert f"{expected.bad_count} bad" in panel.report.summary.text()
    assert panel.report.histogram.counts and sum(panel.report.histogram.counts) == sum(
        b.count for b in expected.token_histogram
    )
    assert f"{expected.train_rows} train, {expected.validation_rows} validation" in (
        panel.report.split.text()
    )
    assert not panel.start_button.isEnabled()
    assert "Drop bad rows" in panel.start_button.toolTip()
    panel.start_button.click()  # refused even if clicked
    assert panel.ctx.jobs().list() == []
    panel.report.drop_bad.setChecked(True)
    assert panel.start_button.isEnabled(), panel.start_button.toolTip()
    panel.form.columns.setText("prompt=question,completion=answer")  # the csv's own header
    choose(panel, loop, DATA / "bad.csv")  # another file: the user decides again
    assert panel.report.report.bad_count > 0
    assert not panel.report.drop_bad.isChecked()
    assert not panel.start_button.isEnabled()


def test_a_data_file_dropped_on_the_panel_is_validated(panel, loop):
    clean = DATA / "clean.jsonl"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clean))])
    where, how = QPointF(5, 5), Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    several = QMimeData()
    several.setUrls([QUrl.fromLocalFile(str(clean)), QUrl.fromLocalFile(str(clean))])
    refused = QDragEnterEvent(where.toPoint(), how, several, buttons, keys)
    panel.dragEnterEvent(refused)  # one file at a time
    assert not refused.isAccepted()
    # Qt calls these handlers during a real drag; offscreen there is no drag to send.
    enter = QDragEnterEvent(where.toPoint(), how, mime, buttons, keys)
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(where, how, mime, buttons, keys)
    panel.dropEvent(drop)
    assert drop.isAccepted()
    until(loop, lambda: not panel.validating)
    assert panel.report.report is not None, panel.report.summary.text()
    assert panel.form.data_path() == clean
    assert panel.report.report.file == str(clean.resolve())
    assert panel.report.bad_lines() == []
    assert panel.setup.currentIndex() == 1  # the report is in view


def test_bases_without_known_weights_are_greyed_with_the_reason(panel, tmp_path):
    model = panel.form.base_box.model()
    items = {model.item(r).text(): model.item(r) for r in range(model.rowCount())}
    assert items[BASE].isEnabled()
    assert "meta-llama/Llama-3.1-8B-Instruct" in items[BASE].toolTip()
    embed = items["nomic-embed-text:latest"]
    assert not embed.isEnabled()
    assert "No Hugging Face weights are known" in embed.toolTip()
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    panel.form.weights.setText(str(folder))  # a folder of weights makes any base trainable
    assert embed.isEnabled()


def test_an_invalid_setting_blocks_start_and_names_the_field(panel, loop):
    choose(panel, loop, DATA / "clean.jsonl")
    assert panel.start_button.isEnabled(), panel.start_button.toolTip()
    panel.form.fields["lora.rank"].setText("0")
    assert not panel.start_button.isEnabled()
    assert "lora.rank" in panel.start_button.toolTip()
    assert panel.form.fields["lora.rank"].styleSheet() == ERROR_STYLE
    assert panel.form.fields["epochs"].styleSheet() == ""
    panel.form.fields["lora.rank"].setText("16")
    assert panel.start_button.isEnabled()
    assert panel.form.params()["settings"] == {"lora.rank": 16}
    panel.form.preset_box.setCurrentText("high quality")  # the preset's own figures come back
    preset = get_preset("high_quality")
    assert panel.form.fields["learning_rate"].text() == f"{preset.learning_rate:g}"
    assert panel.form.fields["batch_size"].text() == str(preset.batch_size)
    assert panel.form.params()["settings"] == {}


def test_without_the_finetune_extra_the_panel_opens_and_says_how_to_enable_it(
    ctx, qtbot, loop, monkeypatch
):
    monkeypatch.setitem(sys.modules, "torch", None)  # as if the extra were not installed
    view = open_panel(ctx, qtbot)
    try:
        assert view.missing.isVisible()
        assert "pip install 'desktop-registry[finetune]'" in view.missing.text()
        assert "torch" in view.missing.text()
        choose(view, loop, DATA / "clean.jsonl")  # validation still works without it
        assert view.report.bad_lines() == [] and view.report.report.good > 0
        assert not view.start_button.isEnabled()
        assert "desktop-registry[finetune]" in view.start_button.toolTip()
    finally:
        view.stop_following()


def test_starting_a_clean_file_trains_with_a_live_loss_chart_and_opens_the_variant(
    ctx, qtbot, loop
):
    hf_dir = tiny_model()
    shown: list[int] = []
    view = open_panel(ctx, qtbot, shown)
    points: list[int] = []
    phases: list[str] = []
    view.bridge.job_progress.connect(lambda _u: points.append(len(view.chart.train)))
    view.bridge.job_progress.connect(lambda _u: phases.append(view.progress.text()))
    try:
        quick_settings(view, hf_dir)
        choose(view, loop, DATA / "facts.jsonl")
        assert view.start_button.isEnabled(), view.start_button.toolTip()
        view.start_button.click()
        assert view.running and view.cancel_button.isEnabled()
        (job,) = ctx.jobs().list()
        assert job.kind == "finetune" and job.params["base"] == BASE
        assert job.params["settings"]["max_steps"] == 24
        until(loop, lambda: not view.running, timeout=240)
        run(loop, view.runner.idle())
        record = ctx.jobs().get(job.id)
        assert record.state is JobState.SUCCEEDED, record.error
        # The chart grew while the job ran, a point per step, not only at the end.
        assert len({n for n in points if 0 < n < 24}) >= 5, points
        assert [s for s, _ in view.chart.train] == list(range(1, 25))
        assert view.chart.validation  # checkpoints measured the validation loss
        assert any("step 12 of 24" in text for text in phases)
        assert any(text.startswith("deploying") for text in phases)
        assert view.log.toPlainText()
        name = record.result["model"]
        assert name in view.variant.text() and view.open_button.isVisible()
        view.open_button.click()
        assert shown == [record.result["model_id"]]
        assert ctx.models.find(name).parent_id == ctx.models.find(BASE).id
    finally:
        view.stop_following()


def test_cancel_then_resume_continues_the_step_count_from_the_checkpoint(ctx, qtbot, loop):
    hf_dir = tiny_model()
    view = open_panel(ctx, qtbot)
    steps: list[int] = []

    def listen(update: Any) -> None:
        step = update.detail.get("step") if update.detail else None
        if update.detail.get("loss") is not None and (not steps or steps[-1] != step):
            steps.append(step)

    view.bridge.job_progress.connect(listen)
    try:
        quick_settings(view, hf_dir)
        choose(view, loop, DATA / "facts.jsonl")
        view.start_button.click()

        async def cancel_after(step: int) -> None:
            while not view.chart.train or view.chart.train[-1][0] < step:
                await asyncio.sleep(0.02)
            view.cancel_button.click()
            while view.running:
                await asyncio.sleep(0.02)

        run(loop, cancel_after(11), timeout=240)
        run(loop, view.runner.idle())
        (job,) = ctx.jobs().list()
        assert ctx.jobs().get(job.id).state is JobState.CANCELLED
        stopped_at = view.chart.train[-1][0]
        assert "Resume" in view.status.text() and view.resume_button.isEnabled()
        assert not view.cancel_button.isEnabled()

        again = open_panel(ctx, qtbot)  # the panel reopened (e.g. the app restarted)
        assert again.job_id == job.id and again.resume_button.isEnabled()
        assert [s for s, _ in again.chart.train] == list(range(1, stopped_at + 1))
        again.stop_following()

        steps.append(-1)  # the resumed attempt's steps follow
        cut = len(steps)
        view.resume_button.click()
        assert view.running
        until(loop, lambda: not view.running, timeout=240)
        run(loop, view.runner.idle())
        record = ctx.jobs().get(job.id)
        assert record.state is JobState.SUCCEEDED, record.error
        assert steps[cut] == 11  # from the checkpoint at step 10, not from zero
        assert [s for s, _ in view.chart.train] == list(range(1, 25))  # each step once
        assert record.result["steps"] == 24
    finally:
        view.stop_following()
