"""The pull dialog and the Jobs panel: progress per layer, the new model in the tree, and jobs
left running by a dead process shown as interrupted with Resume."""

from __future__ import annotations

import subprocess
import sys

from desktop_registry.domain.jobs import JobState
from tests.gui.conftest import PULLABLE, until


def test_pull_shows_layer_progress_and_adds_the_model_to_the_tree(synced_window, loop, emulator):
    emulator.pull_chunk_bytes = 200_000_000
    emulator.chunk_delay_s = 0.005
    window = synced_window
    dialog = window.open_pull(PULLABLE.name)
    dialog.pull_button.click()
    observed: list[int] = []
    until(loop, lambda: (dialog.bars and observed.append(max(b.value() for b in dialog.bars.values())))
          or any(0 < b.value() < 1000 for b in dialog.bars.values()))  # fmt: skip
    assert (
        "/s" in dialog.status.text()
        or "ETA" in dialog.status.text()
        or "GB" in dialog.status.text()
    )
    assert dialog.cancel_button.isEnabled()
    until(loop, lambda: "is pulled" in dialog.status.text())
    assert all(b.value() == 1000 for b in dialog.bars.values())
    assert len(dialog.bars) >= 2  # weights, template, params… each with its own bar
    assert PULLABLE.name in {e.name for e in window.entries}
    assert window.browser.model.shown == 6
    dialog.close()


def test_a_cancelled_pull_can_be_resumed_from_the_dialog(synced_window, loop, emulator):
    emulator.pull_chunk_bytes = 100_000_000
    emulator.chunk_delay_s = 0.01
    dialog = synced_window.open_pull(PULLABLE.name)
    dialog.pull_button.click()
    until(loop, lambda: any(b.value() > 0 for b in dialog.bars.values()))
    dialog.cancel_button.click()
    until(loop, lambda: dialog.resume_button.isVisible())
    assert "Cancelled" in dialog.status.text()
    emulator.chunk_delay_s = 0.0
    dialog.resume_button.click()
    until(loop, lambda: "is pulled" in dialog.status.text())
    job = synced_window.ctx.jobs().get(dialog.job_id)
    assert job.state is JobState.SUCCEEDED and job.attempts == 2
    dialog.close()


def test_jobs_panel_lists_jobs_and_resumes_one_left_running_by_a_dead_process(
    open_window, emulator, loop, tmp_path
):
    from tests.gui.conftest import make_context

    ctx = make_context(tmp_path, emulator.url)
    job = ctx.jobs().repository.create("sync", {}, "Sync all sources")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ctx.jobs().repository.claim(job.id, dead.pid, None)  # as if that process had run it
    ctx.close()

    window = open_window(emulator.url)  # start-up marks it interrupted
    assert "interrupted" in window.status.currentMessage()
    window.show_jobs()
    panel = window._jobs_panel
    assert panel.table_model.jobs[0].state is JobState.INTERRUPTED
    panel.table.selectRow(0)
    assert "Interrupted" in panel.log.toPlainText()
    assert panel.resume_button.isEnabled() and not panel.cancel_button.isEnabled()
    panel.resume_button.click()
    until(loop, lambda: window.ctx.jobs().get(job.id).state is JobState.SUCCEEDED)
    until(loop, lambda: len(window.entries) == 5)
    panel.reload()
    assert panel.table_model.jobs[0].state is JobState.SUCCEEDED
    assert "Resumed" in panel.log.toPlainText()
