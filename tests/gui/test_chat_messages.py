"""The chat pane against the Ollama emulator: Enter and Shift+Enter, Markdown replies with code
blocks, per-message actions, context figures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from tests.gui.conftest import until

CODE = 'def greet(name):\n    return f"Hello, {name}!"'
MARKDOWN_REPLY = (
    "Here is a **small** function:\n\n"
    f"```python\n{CODE}\n```\n\n"
    "Call it with a name:\n\n"
    "- `greet('Ada')`\n- `greet('Linus')`\n"
)


def chat_requests(emulator):
    return [r.body for r in emulator.requests if r.path == "/api/chat"]


def open_chat(window, name: str):
    return window.chat_with(window.ctx.models.find(name).id)


def wait_reply(loop, pane) -> None:
    until(loop, lambda: pane.task is not None and pane.task.done())


def send(pane, text: str) -> None:
    pane.input.prompt.setPlainText(text)
    pane.input.send_button.click()


def test_enter_sends_and_shift_enter_inserts_a_newline(synced_window, loop, emulator, qtbot):
    pane = open_chat(synced_window, "llama3.1:8b")
    prompt = pane.input.prompt
    qtbot.keyClicks(prompt, "first line")
    qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(prompt, "second line")
    assert pane.task is None and prompt.toPlainText() == "first line\nsecond line"
    qtbot.keyClick(prompt, Qt.Key.Key_Return)
    wait_reply(loop, pane)
    assert prompt.toPlainText() == ""
    (body,) = chat_requests(emulator)
    assert body["messages"][-1] == {"role": "user", "content": "first line\nsecond line"}
    assert pane.column.history[-1].content == emulator.model("llama3.1:8b").reply


def test_with_enter_sends_off_enter_is_a_newline_and_ctrl_enter_sends(
    synced_window, loop, emulator, qtbot
):
    pane = open_chat(synced_window, "llama3.1:8b")
    pane.enter_sends.setChecked(False)  # the setting, as the user flips it
    assert synced_window.ctx.settings_store().get("chat_enter_sends").value is False
    prompt = pane.input.prompt
    qtbot.keyClicks(prompt, "a")
    qtbot.keyClick(prompt, Qt.Key.Key_Return)
    qtbot.keyClicks(prompt, "b")
    assert pane.task is None and prompt.toPlainText() == "a\nb"
    qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_reply(loop, pane)
    assert chat_requests(emulator)[-1]["messages"][-1]["content"] == "a\nb"
    # a new chat starts with the saved choice
    assert open_chat(synced_window, "phi:2.7b").input.enter_sends is False


def test_a_markdown_reply_renders_its_code_block_highlighted_with_a_copy_button(
    synced_window, loop, emulator
):
    emulator.chunk_delay_s = 0.005
    emulator.model("llama3.1:8b").reply = MARKDOWN_REPLY
    emulator.invalidate()
    pane = open_chat(synced_window, "llama3.1:8b")
    send(pane, "Write a greeting function")
    wait_reply(loop, pane)
    view = pane.column.views[-1]
    (block,) = view.body.code_blocks()
    assert block.code == CODE and block.language_label.text() == "python"
    assert block.copy_button.isVisible() and block.copy_button.text() == "Copy"
    assert "<span" in block.body.text() and "greet" in block.body.text()  # highlighted
    prose = [w for w in view.body.blocks if isinstance(w, QLabel)]
    assert prose[0].textFormat() == Qt.TextFormat.MarkdownText
    assert "**small**" in prose[0].text()
    assert any("greet('Ada')" in w.text() for w in prose)
    block.copy_button.click()
    assert QGuiApplication.clipboard().text() == CODE
    assert block.copy_button.text() == "Copied"


def test_streaming_renders_each_finished_block_once_not_per_token(synced_window, loop, emulator):
    emulator.chunk_delay_s = 0.01
    emulator.model("llama3.1:8b").reply = MARKDOWN_REPLY
    emulator.invalidate()
    pane = open_chat(synced_window, "llama3.1:8b")
    first_blocks: list[object] = []
    tails: list[str] = []

    def observe() -> None:
        view = pane.column.current
        if view is None:
            return
        if view.body.blocks and not first_blocks:
            first_blocks.append(view.body.blocks[0])
        tails.append(view.body.tail.text())

    from tests.gui.test_chat import LoopWatch

    watch = LoopWatch(observe)
    send(pane, "Write a greeting function")
    wait_reply(loop, pane)
    watch.stop()
    view = pane.column.views[-1]
    assert first_blocks and view.body.blocks[0] is first_blocks[0]  # made once, kept
    assert any(t and not t.endswith("**") for t in tails)  # an open tail was shown as it grew
    assert len(view.body.blocks) == 4 and not view.body.tail.isVisible()


def test_regenerate_replaces_the_last_reply_through_the_emulator(synced_window, loop, emulator):
    model = emulator.model("llama3.1:8b")
    model.reply = "The first answer."
    emulator.invalidate()
    pane = open_chat(synced_window, "llama3.1:8b")
    send(pane, "Answer me")
    wait_reply(loop, pane)
    model.reply = "A better answer."
    emulator.invalidate()
    pane.column.views[-1].buttons["regenerate"].click()
    wait_reply(loop, pane)
    assert [m.content for m in pane.column.history] == ["Answer me", "A better answer."]
    assert len(pane.column.views) == 2
    assert pane.column.views[-1].content == "A better answer."
    first, second = chat_requests(emulator)
    assert second["messages"] == first["messages"]  # asked again, without the old reply
    saved = synced_window.ctx.conversations().get(pane.conversation.id)
    assert [m.content for m in saved.messages] == ["Answer me", "A better answer."]


def test_edit_and_resend_replaces_the_turn_and_what_followed(synced_window, loop, emulator):
    pane = open_chat(synced_window, "llama3.1:8b")
    send(pane, "Waht is 2+2?")
    wait_reply(loop, pane)
    send(pane, "And 3+3?")
    wait_reply(loop, pane)
    user = pane.column.views[0]
    user.buttons["edit"].click()
    assert user.editor is not None and user.editor.toPlainText() == "Waht is 2+2?"
    user.editor.setPlainText("What is 2+2?")
    user._send_edit()
    wait_reply(loop, pane)
    assert [m.role for m in pane.column.history] == ["user", "assistant"]
    assert pane.column.history[0].content == "What is 2+2?"
    assert chat_requests(emulator)[-1]["messages"] == [{"role": "user", "content": "What is 2+2?"}]


def test_delete_and_branch_change_the_saved_chat(synced_window, loop, emulator):
    pane = open_chat(synced_window, "qwen3:8b")
    pane.options.temperature.setValue(0.4)
    send(pane, "One")
    wait_reply(loop, pane)
    send(pane, "Two")
    wait_reply(loop, pane)
    pane.column.views[1].buttons["branch"].click()  # from the first reply
    branch = synced_window.tabs.currentWidget()
    assert branch is not pane
    assert branch.column.history[0].content == "One"
    assert len(branch.column.history) == 2
    assert (
        branch.picker.model_name() == "qwen3:8b" and branch.options.values()["temperature"] == 0.4
    )
    pane.column.views[3].buttons["delete"].click()
    saved = synced_window.ctx.conversations().get(pane.conversation.id)
    assert [m.content for m in saved.messages][:3] == ["One", pane.column.history[1].content, "Two"]
    assert len(saved.messages) == 3
    assert len(synced_window.ctx.conversations().list()) == 2


def test_each_reply_shows_tokens_ttft_and_context_used_and_warns_near_the_limit(
    synced_window, loop, emulator
):
    emulator.model("llama3.1:8b").reply = " ".join(f"w{i}" for i in range(40))
    emulator.invalidate()
    pane = open_chat(synced_window, "llama3.1:8b")
    send(pane, "Short question")
    wait_reply(loop, pane)
    footer = pane.column.views[-1].footer.text()
    assert "tok/s" in footer and "TTFT" in footer
    assert "of 4,096" in footer  # Ollama's default context when num_ctx is not set
    assert not pane.context_note.isVisible()
    pane.options.num_ctx.setValue(64)
    send(pane, "Another question")
    wait_reply(loop, pane)
    usage = pane.column.history[-1].usage
    used = usage.prompt_tokens + usage.completion_tokens
    assert f"context {used:,} of 64" in pane.column.views[-1].footer.text()
    assert pane.context_note.isVisible() and "num_ctx" in pane.context_note.text()


def test_a_code_block_takes_the_new_theme_when_the_theme_switches(qapp):
    from desktop_registry.ui.chat_markdown import CodeBlockView
    from desktop_registry.ui.theme import apply_theme

    try:
        apply_theme(qapp, "light")
        block = CodeBlockView(CODE, "python")
        light_html, light_sheet = block.body.text(), block.styleSheet()
        assert "#f6f8fa" in light_sheet
        apply_theme(qapp, "dark")
        qapp.processEvents()
        assert "#0d1117" in block.styleSheet()
        assert block.body.text() != light_html  # re-highlighted in the dark style
        apply_theme(qapp, "light")
        qapp.processEvents()
        assert block.styleSheet() == light_sheet and block.body.text() == light_html
    finally:
        apply_theme(qapp, "light")
