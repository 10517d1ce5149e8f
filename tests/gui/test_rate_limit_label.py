"""The status bar shows GitHub Models requests left once a chat has been answered.

Offscreen Qt; the window's own serving service talks to the Ollama and GitHub Models emulators
on real sockets.
"""

from __future__ import annotations

import pytest

from desktop_registry.domain.chat import ChatMessage
from desktop_registry.services.sync.remote import GitHubModelsSync
from tests.gui.conftest import run, until
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.github_models_emulator import TierLimit as ServerTier

MODEL = "openai/gpt-4o-mini"
N = 5


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch):
    tier = ServerTier(requests_per_minute=N, requests_per_day=100, concurrent=2)
    with GitHubModelsEmulator(tiers={"low": tier, "high": tier}, window_s=60) as emu:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", emu.url)
        monkeypatch.setenv("GH_TOKEN", emu.token)
        yield emu


def test_the_status_bar_shows_requests_left_beside_the_github_status_after_a_chat(
    open_window, emulator, github, loop
):
    window = open_window(emulator.url)
    label = window.rate_limits
    label.refresh()
    assert not label.isVisible()  # no GitHub Models request yet: nothing to show

    ctx = window.ctx
    run(loop, GitHubModelsSync(ctx.github_models(), ctx.models, ctx.catalog_cache()).run())

    async def chat() -> str:
        parts = []
        async for chunk in window.serving().chat(MODEL, [ChatMessage(role="user", content="hi")]):
            parts.append(chunk.content)
        return "".join(parts)

    assert run(loop, chat()).strip()
    assert run(loop, chat()).strip()
    until(loop, label.isVisible, timeout=10)  # the label's own timer picks it up
    assert label.text().startswith(f"gpt-4o-mini: {N - 2}/{N} requests left · resets ")
    assert "GitHub Models" in label.toolTip()
    # It sits in the status bar, right after the GitHub Models token label.
    bar = window.status
    assert label.parent() is bar.github.parent()
    assert label.geometry().left() > bar.github.geometry().left()
    assert label.geometry().left() < bar.last_sync.geometry().left()
