"""The Compare panel: pick 2–8 models, run a suite as a job, see bars / latency boxes / Pareto
scatter / slot history, hover values, export PNG and CSV — offscreen, real emulator sockets."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop_registry.ui import panels
from tests.gui.conftest import make_context, run, until
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

BGE = EmulatedModel(
    "bge-m3:567m",
    family="bert",
    capabilities=["embedding"],
    embedding_length=1024,
    embedding_dim=1024,
)
EXTRA = [EmulatedModel(f"extra{i}:1b", reply="Paris") for i in range(4)]


@pytest.fixture
def compare_emulator() -> Iterator[OllamaEmulator]:
    models = standard_models()
    for m in models:
        if m.name == "llama3.1:8b":
            m.reply = "Paris and Mars"
    with OllamaEmulator([*models, BGE, *EXTRA]) as emu:
        yield emu


@pytest.fixture
def view(loop, qtbot, tmp_path: Path, compare_emulator) -> Iterator[Any]:
    from desktop_registry.ui.compare_panel import create

    ctx = make_context(tmp_path, compare_emulator.url)
    run(loop, ctx.ollama_sync().run())
    widget = create(ctx, None)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    run(loop, ctx.jobs().shutdown())
    run(loop, ctx.aclose())
    ctx.close()


def check(view: Any, names: list[str]) -> None:
    for i in range(view.model_list.count()):
        item = view.model_list.item(i)
        if item.text() in names:
            item.setCheckState(Qt.CheckState.Checked)


def test_compare_is_a_registered_panel(view):
    from desktop_registry.ui.compare_panel import ComparePanel

    factory = dict(panels.PANELS)["Compare"]
    widget = factory(view.ctx, None)
    assert isinstance(widget, ComparePanel)
    widget.deleteLater()


def test_picking_models_enables_actions_between_two_and_eight(view):
    assert not view.bench_button.isEnabled() and not view.run_button.isEnabled()
    check(view, ["llama3.1:8b"])
    assert not view.bench_button.isEnabled()
    names = [view.model_list.item(i).text() for i in range(view.model_list.count())]
    check(view, names)  # all ten: the ninth and tenth are refused
    assert len(view.checked_models()) == 8
    assert "At most 8" in view.status.text()
    assert view.bench_button.isEnabled() and view.run_button.isEnabled()


def test_suite_run_from_the_panel_fills_bars_scatter_table_and_exports(view, loop, tmp_path):
    check(view, ["llama3.1:8b", "phi:2.7b"])
    view.suite_box.setCurrentText("General QA")
    view.run_button.click()
    until(loop, lambda: view.pending is None)
    assert "succeeded" in view.status.text()
    view.metric_box.setCurrentText("eval/General QA/pass_rate")
    # llama says "Paris and Mars": 2 of 5 answers; phi's greeting: none
    assert view.bars.values == [0.4, 0.0]
    assert view.bars.hover_at(0, 0.2) == "llama3.1:8b\neval/General QA/pass_rate = 0.4"
    assert view.bars.hover_at(0.5, 0.2) == ""
    view.score_box.setCurrentText("eval/General QA/pass_rate")
    assert {p[0] for p in view.scatter.points} == {"llama3.1:8b", "phi:2.7b"}
    assert "llama3.1:8b" in view.scatter.front
    assert [m for m, _ in view.boxes.stats] == ["llama3.1:8b", "phi:2.7b"]
    png = view.export_png(tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.reader((view.export_csv(tmp_path / "table.csv")).open()))
    assert rows[0][0] == "Model" and "eval/General QA/pass_rate" in rows[0]
    assert [r[0] for r in rows[1:]] == ["llama3.1:8b", "phi:2.7b"]


def test_embedding_slot_upgrade_demo_in_a_few_clicks(view, loop):
    versions = view.ctx.versions(tracked=False)
    versions.create_slot("text embedding", "embedding")
    versions.add_version("text embedding", "nomic-embed-text", "1.0.0")
    versions.add_version("text embedding", "bge-m3:567m", "2.0.0")
    view.reload()
    view.slot_box.setCurrentText("text embedding")  # click 1
    view.slot_button.click()  # click 2
    until(loop, lambda: view.pending is None)
    assert view.charts.currentWidget() is view.history
    assert view.metric_box.currentText() == "recall@1"
    points = view.history.series["text embedding"]
    assert [p.label for p in points] == ["1.0.0", "2.0.0"]
    assert points[1].value == 1.0 > points[0].value
    assert "2.0.0: 1" in view.history.hover_at(1, 1.0)
