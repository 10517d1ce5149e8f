"""The window's Sync says GitHub Models were skipped for want of a token, and how to set one.

Offscreen Qt, the Ollama emulator on a real socket, the test's own (empty) file keyring.
"""

from __future__ import annotations

from tests.gui.conftest import until


def test_sync_in_the_window_explains_that_github_models_need_a_token(open_window, emulator, loop):
    window = open_window(emulator.url)
    window.ctx.settings.github_models_sync = "auto"  # the default a user has
    window.sync()
    until(loop, lambda: "GitHub Models were skipped" in window.status.currentMessage())
    message = window.status.currentMessage()
    assert "no GitHub token is set" in message
    assert "Settings → GitHub Models" in message and "desktop-registry-cli token set" in message
    until(loop, lambda: len(window.entries) == 5)  # Ollama was synced all the same
