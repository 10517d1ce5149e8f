"""Chat pane and compare mode against the Ollama emulator, streaming on the qasync loop."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from tests.gui.conftest import until

LONG_REPLY = " ".join(f"word{i}" for i in range(60))


class LoopWatch:
    """Ticks every 10 ms on the Qt loop and records the gaps between ticks."""

    def __init__(self, on_tick=None) -> None:
        self.gaps: list[float] = []
        self.last: float | None = None  # gaps count from the first tick, once the loop runs
        self.on_tick = on_tick
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.gaps.append(now - self.last)
        self.last = now
        if self.on_tick:
            self.on_tick()

    def stop(self) -> None:
        self.timer.stop()


def send(pane, text: str) -> None:
    pane.input.prompt.setPlainText(text)
    pane.input.send_button.click()


def last_reply(column):
    return column.messages.itemAt(column.messages.count() - 2).widget()


def test_chat_streams_chunk_by_chunk_while_the_window_stays_responsive(
    synced_window, loop, emulator
):
    emulator.chunk_delay_s = 0.02
    emulator.model("llama3.1:8b").reply = LONG_REPLY
    emulator.invalidate()
    window = synced_window
    pane = window.chat_with(window.ctx.models.find("llama3.1:8b").id)
    seen: list[str] = []

    def observe() -> None:
        if pane.column.current is not None:
            text = pane.column.current.content
            if not seen or seen[-1] != text:
                seen.append(text)

    watch = LoopWatch(observe)
    send(pane, "Tell me a story")
    until(loop, lambda: pane.task is not None and pane.task.done())
    watch.stop()
    view = last_reply(pane.column)
    assert view.content == LONG_REPLY
    assert len([s for s in seen if s and s != LONG_REPLY]) >= 10  # partial texts, growing
    assert all(seen[i + 1].startswith(seen[i]) for i in range(len(seen) - 1))
    stats = view.footer.text()
    assert "tokens" in stats and "TTFT" in stats and "tok/s" in stats
    # The loop kept turning while the reply streamed (no timed assertion here: the stall figure
    # is bench/chat_stream_stall.py's, measured apart from a loaded test run).
    assert len(watch.gaps) >= 10
    # the conversation is saved in the registry and reopens with the same text
    (saved,) = window.ctx.conversations().list()
    assert saved.title == "Tell me a story"
    reopened = window.open_conversation(saved.id)
    assert [m.content for m in reopened.column.history] == ["Tell me a story", LONG_REPLY]


def test_stop_keeps_the_partial_reply(synced_window, loop, emulator):
    emulator.chunk_delay_s = 0.03
    emulator.model("llama3.1:8b").reply = LONG_REPLY
    emulator.invalidate()
    pane = synced_window.chat_with(synced_window.ctx.models.find("llama3.1:8b").id)
    send(pane, "Go on")
    until(loop, lambda: pane.column.current is not None and len(pane.column.current.content) > 20)
    pane.input.stop_button.click()
    until(loop, lambda: pane.task.done())
    view = last_reply(pane.column)
    assert 20 < len(view.content) < len(LONG_REPLY)
    assert LONG_REPLY.startswith(view.content)
    assert "Stopped" in view.footer.text()
    assert pane.input.send_button.isEnabled()
    saved = synced_window.ctx.conversations().get(pane.conversation.id)
    assert saved.messages[-1].content == view.content and saved.messages[-1].error


def test_a_dropped_stream_shows_an_error_and_keeps_the_partial_reply(synced_window, loop, emulator):
    emulator.model("llama3.1:8b").reply = LONG_REPLY
    emulator.invalidate()
    emulator.disconnect_after_chunks = 5
    pane = synced_window.chat_with(synced_window.ctx.models.find("llama3.1:8b").id)
    send(pane, "Hello")
    until(loop, lambda: pane.task is not None and pane.task.done())
    view = last_reply(pane.column)
    assert view.content and LONG_REPLY.startswith(view.content)
    assert len(view.content) < len(LONG_REPLY)
    assert "kept" in view.footer.text()  # "…dropped… Whatever had arrived is kept"
    assert view.footer.objectName() == "error"
    assert "kept" in synced_window.status.currentMessage()


def test_thinking_is_shown_collapsed_for_reasoning_models(synced_window, loop, emulator):
    pane = synced_window.chat_with(synced_window.ctx.models.find("qwen3:8b").id)
    send(pane, "Why is the sky blue?")
    until(loop, lambda: pane.task is not None and pane.task.done())
    view = last_reply(pane.column)
    assert view.content == emulator.model("qwen3:8b").reply
    assert view.thinking_text == emulator.model("qwen3:8b").thinking
    assert view.thinking_toggle.isVisible() and not view.thinking.isVisible()
    view.thinking_toggle.click()
    assert view.thinking.isVisible()


def test_chat_options_and_images_reach_the_model(synced_window, loop, emulator, tmp_path):
    pane = synced_window.chat_with(synced_window.ctx.models.find("llava:7b").id)
    assert pane.input.attach.isEnabled()  # a vision model takes images
    image = tmp_path / "dog.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    pane.input.add_image(image)
    pane.options.temperature.setValue(0.3)
    pane.options.seed.setValue(42)
    pane.options.system.setPlainText("Be brief.")
    send(pane, "What is in this picture?")
    until(loop, lambda: pane.task is not None and pane.task.done())
    body = [r for r in emulator.requests if r.path == "/api/chat"][-1].body
    assert body["options"]["temperature"] == 0.3 and body["options"]["seed"] == 42
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][1]["images"]
    phi = synced_window.chat_with(synced_window.ctx.models.find("phi:2.7b").id)
    assert not phi.input.attach.isEnabled()


def test_compare_mode_streams_the_same_prompt_to_three_models(synced_window, loop, emulator):
    names = ["llama3.1:8b", "qwen3:8b", "phi:2.7b"]
    view = synced_window.open_compare(names)
    assert [s.picker.model_name() for s in view.slots] == names
    view.input.prompt.setPlainText("Say hello")
    view.input.send_button.click()
    until(loop, lambda: view.task is not None and view.task.done())
    for slot, name in zip(view.slots, names, strict=True):
        assert last_reply(slot.column).content == emulator.model(name).reply
        assert "tok/s" in last_reply(slot.column).footer.text()
    saved = synced_window.ctx.conversations().get(view.conversation.id)
    assert saved.models == names
    assert [m.model for m in saved.messages if m.role == "assistant"] == names
    assert not view.add_button.isEnabled() or len(view.slots) < 4
