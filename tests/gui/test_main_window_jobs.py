"""A job whose process is killed mid-way: the next window start shows it interrupted, and Resume
in the Jobs panel finishes it (the pulled model then appears in the tree)."""

from __future__ import annotations

import signal
import time

from desktop_registry.domain.jobs import JobState
from desktop_registry.storage import Database
from desktop_registry.storage.job_repository import JobRepository
from tests.gui.conftest import PULLABLE, until
from tests.reliability.sigkill import start_cli


def test_a_pull_killed_with_its_process_is_interrupted_and_resumes_from_the_jobs_panel(
    open_window, emulator, loop, tmp_path
):
    db_path = tmp_path / "registry.db"
    Database.open(db_path).dispose()
    emulator.pull_chunk_bytes = 100_000_000
    emulator.chunk_delay_s = 0.02
    proc = start_cli(
        ["--db", str(db_path), "--ollama-url", emulator.url, "jobs", "pull", PULLABLE.name],
        {"DESKTOP_REGISTRY_HOME": str(tmp_path)},
    )
    watcher = Database.open(db_path, upgrade=False)
    try:
        jobs = JobRepository(watcher)
        deadline = time.monotonic() + 30
        while not any((j.progress or 0) > 0.2 for j in jobs.list()):
            assert proc.poll() is None and time.monotonic() < deadline, "the pull never started"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        watcher.dispose()

    emulator.chunk_delay_s = 0.0
    window = open_window(emulator.url)  # the same registry.db: start-up finds the dead job
    assert "interrupted" in window.status.currentMessage()
    window.show_jobs()
    panel = window._jobs_panel
    (job,) = panel.table_model.jobs
    assert job.kind == "pull" and job.state is JobState.INTERRUPTED
    panel.table.selectRow(0)
    assert panel.resume_button.isEnabled() and not panel.cancel_button.isEnabled()
    panel.resume_button.click()
    until(loop, lambda: window.ctx.jobs().get(job.id).state is JobState.SUCCEEDED)
    until(loop, lambda: PULLABLE.name in {e.name for e in window.entries})
    assert window.ctx.jobs().get(job.id).attempts == 2
