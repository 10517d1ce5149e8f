"""In the window, a GitHub Models reply that stalls midway keeps what arrived and says why it stopped.

Offscreen Qt; the window's own serving service talks to the GitHub Models emulator on a real
socket, which sends the first piece of a reply and then nothing.
"""

from __future__ import annotations

import json

import pytest

from desktop_registry.services.sync.remote import GitHubModelsSync
from tests.gui.conftest import emulator, loop, open_window, qloop, run, until  # noqa: F401
from tests.servers.github_models_emulator import GitHubModelsEmulator, RawReply

MODEL = "openai/gpt-4.1"


def sse(*events: object) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch):
    with GitHubModelsEmulator() as emu:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", emu.url)
        monkeypatch.setenv("GH_TOKEN", emu.token)
        monkeypatch.setenv("DESKTOP_REGISTRY_REQUEST_TIMEOUT_S", "1.5")
        yield emu


def test_a_stalled_remote_reply_keeps_the_partial_text_and_the_window_says_it_stalled(
    open_window,  # noqa: F811 (the window fixtures of tests/gui, imported above)
    emulator,  # noqa: F811
    github,
    loop,  # noqa: F811
):
    window = open_window(emulator.url)
    ctx = window.ctx
    run(loop, GitHubModelsSync(ctx.github_models(), ctx.models, ctx.catalog_cache()).run())
    first = sse({"choices": [{"index": 0, "delta": {"content": "The answer begins"}}]})
    github.raw_replies["/inference/chat/completions"] = RawReply(
        first + sse({"choices": [{"index": 0, "delta": {"content": " and ends."}}]}),
        content_type="text/event-stream",
        chunked=True,
        piece_bytes=len(first),
        stall_after_bytes=len(first),
        stall_s=4,
    )
    pane = window.chat_with(ctx.models.find(MODEL).id)
    pane.input.prompt.setPlainText("Tell me")
    pane.input.send_button.click()
    until(loop, lambda: pane.task is not None and pane.task.done())
    view = pane.column.messages.itemAt(pane.column.messages.count() - 2).widget()
    assert view.content == "The answer begins"
    footer = view.footer.text()
    assert "stalled" in footer and "The partial reply is kept." in footer
    assert view.footer.objectName() == "error"
    assert "stalled" in window.status.currentMessage()
    assert pane.input.send_button.isEnabled()
    saved = ctx.conversations().get(pane.conversation.id)
    assert saved.messages[-1].content == "The answer begins" and saved.messages[-1].error
