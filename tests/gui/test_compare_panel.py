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
    from desktop_registry.ui.compare_panel import NO_SUITE

    view.suite_box.setCurrentText(NO_SUITE)  # benchmark only: every model present can take part
    assert not view.bench_button.isEnabled() and not view.run_button.isEnabled()
    check(view, ["llama3.1:8b"])
    assert not view.bench_button.isEnabled()
    names = [view.model_list.item(i).text() for i in range(view.model_list.count())]
    check(view, names)  # all ten: the ninth and tenth are refused
    assert len(view.checked_models()) == 8
    assert "At most 8" in view.status.text()
    assert view.bench_button.isEnabled() and not view.run_button.isEnabled()  # no suite chosen
    view.suite_box.setCurrentText("General QA")
    assert view.run_button.isEnabled()


def test_only_models_that_can_run_the_suite_are_offered_the_others_greyed_with_why(view):
    view.suite_box.setCurrentText("General QA")
    picker = view.model_list
    assert "cannot answer a chat suite" in picker.reason("bge-m3:567m")
    assert "cannot answer a chat suite" in picker.reason("nomic-embed-text:latest")
    assert picker.reason("llama3.1:8b") == ""
    greyed = [
        picker.item(i)
        for i in range(picker.count())
        if picker.item(i).data(Qt.ItemDataRole.UserRole + 1)
    ]
    assert greyed and all(not (item.flags() & Qt.ItemFlag.ItemIsEnabled) for item in greyed)
    assert all("—" in item.text() for item in greyed)  # the reason is on the row
    names = picker.names()
    assert names.index("llama3.1:8b") < names.index("bge-m3:567m")  # runnable ones first
    greyed[0].setCheckState(Qt.CheckState.Checked)  # what a click on it cannot do
    assert picker.checked() == []


def test_suite_run_from_the_panel_fills_bars_scatter_table_and_exports(view, loop, tmp_path):
    check(view, ["llama3.1:8b", "phi:2.7b"])
    view.suite_box.setCurrentText("General QA")
    view.run_button.click()
    until(loop, lambda: view.pending is None)
    assert "succeeded" in view.status.text()
    # The first chart answers "which model passed more": the suite's score, not error_rate.
    assert view.metric_box.currentText() == "eval/General QA/pass_rate"
    metrics = [view.metric_box.itemText(i) for i in range(view.metric_box.count())]
    assert "eval/General QA/error_rate" not in metrics  # no errors anywhere: nothing to show
    # llama says "Paris and Mars": 2 of 5 answers; phi's greeting: none
    assert view.bars.values == [0.4, 0.0]
    assert view.bars.hover_at(0, 20) == "llama3.1:8b\nGeneral QA · Passed = 40 %"
    assert view.bars.hover_at(0.5, 20) == ""
    assert view.score_box.currentText() == "eval/General QA/pass_rate"
    for chart in (view.bars, view.history, view.scatter):  # plain numbers, the unit named
        assert "x0.0" not in chart.getAxis("left").labelString()
    assert "%" in view.history.getAxis("left").labelString()
    assert {p[0] for p in view.scatter.points} == {"llama3.1:8b", "phi:2.7b"}
    assert "llama3.1:8b" in view.scatter.front
    assert [m for m, _ in view.boxes.stats] == ["llama3.1:8b", "phi:2.7b"]
    png = view.export_png(tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.reader((view.export_csv(tmp_path / "table.csv")).open()))
    assert rows[0][0] == "Model" and "eval/General QA/pass_rate" in rows[0]
    assert [r[0] for r in rows[1:]] == ["llama3.1:8b", "phi:2.7b"]
    column = rows[0].index("eval/General QA/pass_rate")
    assert [float(r[column]) for r in rows[1:]] == [0.4, 0.0]  # stored values, not "40 %"


def test_charts_follow_the_dark_theme(view, qapp):
    from desktop_registry.ui.theme import apply_theme

    try:
        apply_theme(qapp, "dark")
        assert view.bars.backgroundBrush().color().name() == "#17181a"
        assert view.history.text_color.name() == "#e8eaed"
        apply_theme(qapp, "light")
        assert view.bars.backgroundBrush().color().name() == "#ffffff"
    finally:
        apply_theme(qapp, "light")


def test_a_benchmark_shows_each_models_progress_and_its_partial_results(view, loop):
    from desktop_registry.ui.compare_panel import NO_SUITE

    view.suite_box.setCurrentText(NO_SUITE)
    check(view, ["llama3.1:8b", "phi:2.7b"])
    seen: list[tuple[str, int, list[float | None]]] = []
    shown = view.status.setText

    def watch(text: str) -> None:
        shown(text)
        seen.append((text, view.progress.value(), list(view.bars.values)))

    view.status.setText = watch  # type: ignore[method-assign]
    view.bench_button.click()
    until(loop, lambda: view.pending is None)
    midway = [s for s in seen if s[0].startswith("1 of 2 done")]
    assert midway, [s[0] for s in seen]
    text, done, values = midway[0]
    assert "benchmarking phi:2.7b" in text and done == 1
    assert values[0] is not None and values[1] is None  # llama's figures before phi finished
    assert any(s[0].startswith("Benchmark done: 2 models") for s in seen)
    assert not view.progress.isVisible()


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
