"""A long Markdown reply streamed from the Ollama emulator: every chunk arrives, every block is
shown at the height its text needs, and the bubble's buttons come back when the reply ends."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from desktop_registry.ui.chat_markdown import CodeBlockView, prose_label
from tests.gui.conftest import until
from tests.gui.test_chat import LoopWatch


def section(n: int) -> tuple[str, str]:
    code = f'def step_{n}(rows):\n    """Step {n}."""\n    return [r for r in rows if r]'
    text = (
        f"## Step {n}\n\n"
        f"Each row is **stripped** and *split*, so `fields[{n}]` is the value.\n\n"
        "- keep the header\n- skip blank lines\n\n"
        f"```python\n{code}\n```\n\n"
    )
    return text, code


def stream(window, loop, emulator, reply: str):
    emulator.chunk_delay_s = 0.002
    emulator.model("llama3.1:8b").reply = reply
    emulator.invalidate()
    pane = window.chat_with(window.ctx.models.find("llama3.1:8b").id)
    seen: list[tuple[bool, ...]] = []

    def observe() -> None:
        view = pane.column.current
        if view is not None:
            seen.append(tuple(b.isVisible() for b in view.buttons.values()))

    watch = LoopWatch(observe)
    pane.input.prompt.setPlainText("Explain it step by step")
    pane.input.send_button.click()
    until(loop, lambda: pane.task is not None and pane.task.done())
    watch.stop()
    return pane, seen


def test_a_long_streamed_reply_arrives_whole_with_every_code_block(synced_window, loop, emulator):
    parts = [section(n) for n in range(1, 7)]
    reply = "".join(text for text, _ in parts) + "That is all."
    pane, _ = stream(synced_window, loop, emulator, reply)
    view = pane.column.views[-1]
    assert pane.column.history[-1].content == reply  # coalesced frames dropped nothing
    assert view.content == reply
    assert [b.code for b in view.body.code_blocks()] == [code for _, code in parts]
    prose = [w.text() for w in view.body.blocks if not isinstance(w, CodeBlockView)]
    assert [p for p in prose if p.startswith("## Step")] == [f"## Step {n}" for n in range(1, 7)]
    assert prose[-1] == "That is all."
    assert all("<span" in b.body.text() for b in view.body.code_blocks())  # highlighted


def test_reply_buttons_are_hidden_while_it_streams_and_back_when_it_ends(
    synced_window, loop, emulator
):
    reply = "".join(section(n)[0] for n in range(1, 4))
    pane, seen = stream(synced_window, loop, emulator, reply)
    view = pane.column.views[-1]
    assert seen and all(not any(state) for state in seen)
    assert view.buttons and all(b.isVisible() for b in view.buttons.values())
    assert view.footer.isVisible() and "tokens" in view.footer.text()


def test_a_finished_block_takes_the_height_its_text_font_and_width_need(qtbot):
    holder = QWidget()
    qtbot.addWidget(holder)
    label = prose_label("A sentence that wraps onto several lines when the column is narrow. " * 4)
    label.setParent(holder)
    wide, narrow = label.heightForWidth(900), label.heightForWidth(160)
    assert narrow > wide  # a narrower column wraps the text onto more lines
    assert label.heightForWidth(900) == wide  # measured again: the same answer
    label.setText("Short.")
    assert label.heightForWidth(160) < narrow  # new text, new height: never a stale one
    short = label.heightForWidth(160)
    font = QFont(label.font())
    font.setPointSize(font.pointSize() * 3)
    label.setFont(font)
    assert label.heightForWidth(160) > short  # a larger font is not clipped to the old height
