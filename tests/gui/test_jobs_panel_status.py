"""The Jobs panel at the window's default size: a one-word status per row, the full message in
the row's tooltip and under the table, and every column in view without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop_registry.domain.jobs import JobRecord, JobState
from desktop_registry.ui.jobs_view import STARTED_COLUMN, STATUS_COLUMN
from tests.gui.conftest import until


@pytest.fixture
def failed_pull(synced_window: Any, emulator: Any, loop: Any) -> tuple[Any, JobRecord]:
    """The Jobs panel of a default-size window: the sync, then a pull that Ollama refused."""
    window = synced_window
    emulator.errors["/api/pull"] = (500, "pull model manifest: file does not exist")
    job = window.ctx.jobs().submit("pull", {"model": "no-such-model:1b"}, "Pull no-such-model:1b")
    until(loop, lambda: window.ctx.jobs().get(job.id).state is JobState.FAILED)
    window.show_jobs()
    panel = window._jobs_panel
    panel.reload()
    until(loop, lambda: panel.table.viewport().width() > 0)
    return panel, job


def test_a_failed_pull_reads_failed_in_its_row_and_shows_the_whole_error_below(failed_pull):
    panel, job = failed_pull
    row = next(i for i, j in enumerate(panel.table_model.jobs) if j.id == job.id)
    status = panel.table_model.index(row, STATUS_COLUMN)

    assert status.data(Qt.ItemDataRole.DisplayRole) == "Failed"
    tooltip = status.data(Qt.ItemDataRole.ToolTipRole)
    assert "answered 500" in tooltip and "file does not exist" in tooltip

    panel.table.selectRow(row)
    assert panel.detail.isVisible()
    assert panel.detail.text().startswith(f"#{job.id} Pull no-such-model:1b — Failed:")
    assert "file does not exist" in panel.detail.text()


def test_every_jobs_column_fits_the_default_window_without_a_horizontal_scrollbar(failed_pull):
    panel, _job = failed_pull
    table, header = panel.table, panel.table.horizontalHeader()

    assert not table.horizontalScrollBar().isVisible()
    started_end = header.sectionViewportPosition(STARTED_COLUMN) + header.sectionSize(
        STARTED_COLUMN
    )
    assert started_end <= table.viewport().width()
    started = panel.table_model.index(0, STARTED_COLUMN).data(Qt.ItemDataRole.DisplayRole)
    assert started and header.sectionSize(STARTED_COLUMN) >= table.fontMetrics().horizontalAdvance(
        started
    )
