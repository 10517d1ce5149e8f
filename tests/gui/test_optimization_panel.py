"""The Optimization panel against real services: the Ollama emulator (a model that answers right
only near temperature 0.3, top_p 0.9), real SQLite, a real Optuna storage, offscreen widgets."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop_registry.domain.optimization import TrialResult, TrialState
from desktop_registry.ui import panels
from desktop_registry.ui.optimization_charts import best_so_far, pareto_indices
from desktop_registry.ui.optimization_space_table import PROBLEM
from tests.gui.conftest import make_context, run, until
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

TUNABLE = EmulatedModel(
    "tunable:1b",
    family="llama",
    parameter_size="1B",
    reply="no idea",
    answer_region={"temperature": (0.3, 0.25), "top_p": (0.9, 0.2)},
)
ECHO_SUITE = """\
name: Echo
description: The right answer repeats the word.
model: tunable:1b
messages:
  - role: user
    content: "{{word}}"
testData:
  - word: apple
  - word: river
  - word: candle
  - word: meadow
evaluators:
  - name: repeats the word
    string:
      contains: "{{word}}"
"""


@pytest.fixture
def tunable_emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator([*standard_models(), TUNABLE]) as emu:
        yield emu


@pytest.fixture
def view(loop, qtbot, tmp_path: Path, tunable_emulator) -> Iterator[Any]:
    from desktop_registry.ui.optimization_panel import create

    ctx = make_context(tmp_path, tunable_emulator.url)
    run(loop, ctx.ollama_sync().run())
    widget = create(ctx, None)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    suite = tmp_path / "echo.prompt.yml"
    suite.write_text(ECHO_SUITE, encoding="utf-8")
    widget.import_suite(suite)
    widget.form.model_box.setCurrentText(TUNABLE.name)
    widget.form.space.set_space(
        [
            _range("temperature", 0.0, 1.0, 0.1),
            _range("top_p", 0.5, 1.0, 0.1),
        ]
    )
    yield widget
    widget.stop_following()
    run(loop, ctx.jobs().shutdown())
    run(loop, ctx.aclose())
    ctx.close()


def _range(name: str, low: float, high: float, step: float | None) -> Any:
    from desktop_registry.domain.optimization import ParameterRange

    return ParameterRange(name=name, low=low, high=high, step=step)


def start(view: Any, loop: Any, *, strategy: str = "random", trials: int = 6) -> list[int]:
    """Start a study and run it to its end; the trials table's row count at each progress event."""
    view.form.strategy_box.setCurrentText(strategy)
    view.form.trials_box.setValue(trials)
    view.form.seed_box.setValue(7)
    seen: list[int] = []
    view.bridge.job_progress.connect(lambda _u: seen.append(view.trials_table.rowCount()))
    assert view.start_button.isEnabled(), view.start_button.toolTip()
    view.start_button.click()
    assert view.running()
    until(loop, lambda: not view.running(), timeout=60)
    run(loop, view.runner.idle())
    return seen


def test_optimization_is_a_registered_panel(view):
    from desktop_registry.ui.optimization_panel import OptimizationPanel

    widget = dict(panels.PANELS)["Optimize"](view.ctx, None)
    assert isinstance(widget, OptimizationPanel)
    widget.stop_following()
    widget.deleteLater()


def test_starting_a_study_fills_the_trials_table_and_best_value_chart_as_trials_finish(view, loop):
    seen = start(view, loop, trials=6)
    assert "finished" in view.status.text(), view.status.text()
    assert view.trials_table.rowCount() == 6
    # The table grew while the study ran, not only at its end.
    assert len({n for n in seen if 0 < n < 6}) >= 2, seen
    assert view.trials_table.numbers() == [5, 4, 3, 2, 1, 0]  # newest first
    assert view.trials_table.columns == [
        "#",
        "State",
        "temperature",
        "top_p",
        "quality",
        "Duration",
    ]
    values = [t.values[0] for t in sorted(view.trials.values(), key=lambda t: t.number)]
    assert view.best_chart.best == best_so_far(values, maximize=True)
    assert view.best_chart.best[-1] == max(values)
    newest = view.trials[5]
    row = [view.trials_table.item(0, c).text() for c in range(6)]
    assert row[:4] == [
        "5",
        "complete",
        f"{newest.params['temperature']:.4g}",
        f"{newest.params['top_p']:.4g}",
    ]
    assert row[4] == f"{newest.values[0]:.4g}"
    best = max(values)
    assert f"quality {best:.4g}" in view.best_label.text()
    # The parameter chart plots every finished trial for the chosen parameter.
    assert view.param_box.currentText() in ("temperature", "top_p")
    assert len(view.param_chart.points) == 6
    # The study is now a past study.
    studies = [
        view.studies.item(i).data(Qt.ItemDataRole.UserRole) for i in range(view.studies.count())
    ]
    assert studies == [view.study]
    assert view.studies.item(0).text().startswith(f"{TUNABLE.name} · random · 6 trials")


def test_an_invalid_space_row_blocks_start_with_the_reason_shown(view):
    row = 0
    view.form.space.set_cell(row, 1, "1.5")  # low above high (1.0)
    reason = view.form.space.item(row, PROBLEM).text()
    assert "temperature" in reason and "above high" in reason
    assert view.form.space.item(row, 0).foreground().color() == QColor("#cf222e")
    assert not view.start_button.isEnabled()
    assert "above high" in view.status.text()
    view.start_button.click()  # refused even if clicked
    assert view.ctx.jobs().list() == []
    view.form.space.set_cell(row, 1, "0")
    assert view.form.space.item(row, PROBLEM).text() == ""
    assert view.start_button.isEnabled()
    added = view.form.space.add_row("tempreature")
    for col, text in ((1, "0"), (2, "1")):
        view.form.space.set_cell(added, col, text)
    assert "tempreature" in view.form.space.item(added, PROBLEM).text()
    assert view.form.space.item(row, PROBLEM).text() == ""  # the other rows are not blamed
    assert not view.start_button.isEnabled()
    view.form.space.set_cell(added, 0, "min_p")
    view.form.space.set_cell(added, 3, "0.3")  # a step that does not divide 0..1
    assert "does not divide" in view.form.space.item(added, PROBLEM).text()


def test_two_objectives_show_the_pareto_front(view, loop, tunable_emulator):
    view.form.objective_box.setCurrentText("maximize_quality")
    view.form.second_box.setCurrentText("minimize_latency")
    tunable_emulator.latency_s = 0.002
    start(view, loop, strategy="random", trials=6)
    assert view.charts.isTabEnabled(2)
    assert view.charts.currentWidget() is view.pareto_chart
    done = [t for t in view.trials.values() if t.values and len(t.values) == 2]
    assert len(done) == 6
    front = set(view.pareto_chart.front)
    assert front and front <= {t.number for t in done}
    for t in done:  # a trial is on the front exactly when no other beats it on both
        beaten = any(
            o.values[0] >= t.values[0]
            and o.values[1] <= t.values[1]
            and (o.values[0] > t.values[0] or o.values[1] < t.values[1])
            for o in done
        )
        assert (t.number in front) == (not beaten)


def test_one_objective_leaves_the_pareto_tab_disabled(view, loop):
    start(view, loop, trials=2)
    assert not view.charts.isTabEnabled(2)


def test_create_variant_from_best_adds_a_registry_row(view, loop):
    start(view, loop, trials=4)
    before = {r.name for r in view.ctx.registry().list()}
    assert view.variant_button.isEnabled()
    view.variant_name.setText("tunable-tuned")
    view.variant_button.click()
    until(loop, lambda: len(view.ctx.registry().list()) > len(before))
    run(loop, view.runner.idle())
    added = [r for r in view.ctx.registry().list() if r.name not in before]
    assert len(added) == 1 and "tunable-tuned" in added[0].name
    base = next(r for r in view.ctx.registry().list() if r.name == TUNABLE.name)
    assert added[0].parent_id == base.id
    assert "Created variant" in view.status.text()


def test_pause_then_resume_continues_the_study_to_its_budget(view, loop, tunable_emulator):
    tunable_emulator.latency_s = 0.02
    view.form.trials_box.setValue(12)
    view.form.strategy_box.setCurrentText("random")
    view.start_button.click()

    async def pause_after(n: int) -> None:
        # Clicked while the loop runs, as in the app: the job's task is cancelled mid-request.
        while view.trials_table.rowCount() < n:
            await asyncio.sleep(0.01)
        view.pause_button.click()
        while view.running():
            await asyncio.sleep(0.01)

    run(loop, pause_after(2), timeout=60)
    run(loop, view.runner.idle())
    done_at_pause = _finished(view)
    assert 2 <= done_at_pause < 12
    assert "Resume" in view.status.text(), view.status.text()
    assert view.resume_button.isEnabled() and not view.pause_button.isEnabled()
    tunable_emulator.latency_s = 0.0
    view.resume_button.click()
    assert view.running()
    until(loop, lambda: not view.running(), timeout=60)
    run(loop, view.runner.idle())
    assert "finished" in view.status.text(), view.status.text()
    assert _finished(view) == 12  # the budget, counting the trials kept from before the pause
    assert view.trials_table.rowCount() == len(view.trials)


def _finished(view: Any) -> int:
    return sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in view.trials.values())


def test_pareto_indices_follow_each_objectives_direction():
    points = [(0.9, 120.0), (0.5, 40.0), (0.4, 90.0), (0.9, 200.0)]
    assert pareto_indices(points, (True, False)) == [1, 0]
    assert pareto_indices(points, (True, True)) == [3]


def test_best_so_far_keeps_the_best_value_in_the_objectives_direction():
    assert best_so_far([0.2, 0.5, 0.1, 0.7], maximize=True) == [0.2, 0.5, 0.5, 0.7]
    assert best_so_far([30.0, 50.0, 10.0], maximize=False) == [30.0, 30.0, 10.0]


def test_trial_states_other_than_complete_are_not_plotted(qtbot):
    from desktop_registry.ui.optimization_charts import BestValueChart

    chart = BestValueChart()
    qtbot.addWidget(chart)
    trials = [
        TrialResult(number=0, state=TrialState.COMPLETE, values=[0.5]),
        TrialResult(number=1, state=TrialState.PRUNED, values=None),
        TrialResult(number=2, state=TrialState.FAIL),
        TrialResult(number=3, state=TrialState.COMPLETE, values=[0.75]),
    ]
    chart.show_trials(trials, "quality", maximize=True)
    assert [p[0] for p in chart.points] == [0.0, 3.0]
    assert chart.best == [0.5, 0.75]
    assert "trial 3" in chart.hover_at(3.0, 0.75)
