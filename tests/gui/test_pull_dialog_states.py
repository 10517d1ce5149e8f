"""The pull dialog after a pull ends: ready for the next name after a success; after a failure
the whole message, no busy bar, and Resume only when something was downloaded."""

from __future__ import annotations

from tests.gui.conftest import PULLABLE, until


def test_after_a_successful_pull_the_next_name_can_be_pulled(synced_window, loop, emulator):
    dialog = synced_window.open_pull(PULLABLE.name)
    dialog.pull_button.click()
    until(loop, lambda: "is pulled" in dialog.status.text())
    assert not dialog.pull_button.isEnabled()  # the same name again would do nothing new
    assert dialog.name.isEnabled()
    dialog.name.setText("qwen3:8b")
    assert dialog.pull_button.isEnabled()
    dialog.close()


def test_a_pull_of_an_unknown_model_says_so_without_offering_resume(synced_window, loop):
    dialog = synced_window.open_pull("no-such-model:1b")
    dialog.show()
    dialog.pull_button.click()
    until(loop, lambda: dialog.pull_button.isEnabled() and dialog.status.text() != "")
    until(loop, lambda: not dialog.cancel_button.isEnabled())
    message = dialog.status.text()
    assert "no-such-model:1b" in message and "Starting" not in message
    assert dialog.overall.maximum() == 1000  # a range: not the busy animation
    assert not dialog.resume_button.isVisible()  # nothing downloaded, nothing to resume
    assert dialog.name.isEnabled()  # fix the name and pull again
    label = dialog.status
    assert label.height() >= label.heightForWidth(label.width())  # the whole message shows
    dialog.close()
