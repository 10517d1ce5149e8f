"""Compare mode when the columns change mid-conversation: a model added late answers the same
conversation as the others, shown and saved so that reopening it keeps it that way."""

from __future__ import annotations

from tests.gui.conftest import until


def ask(view, loop, text: str) -> None:
    view.input.prompt.setPlainText(text)
    view.input.send_button.click()
    until(loop, lambda: view.task is not None and view.task.done())


def chat_requests(emulator, model: str) -> list[list[tuple[str, str]]]:
    """The (role, content) messages of every /api/chat request the emulator got for `model`."""
    return [
        [(m["role"], m["content"]) for m in r.body["messages"]]
        for r in emulator.requests
        if r.path == "/api/chat" and r.body and r.body.get("model") == model
    ]


def bubbles(column) -> list:
    layout = column.messages
    widgets = [layout.itemAt(i).widget() for i in range(layout.count() - 1)]
    return [w for w in widgets if hasattr(w, "content")]


def test_a_model_added_mid_comparison_gets_the_conversation_so_far(synced_window, loop, emulator):
    llama, qwen, phi = "llama3.1:8b", "qwen3:8b", "phi:2.7b"
    llama_reply, qwen_reply = emulator.model(llama).reply, emulator.model(qwen).reply
    view = synced_window.open_compare([llama, qwen])
    ask(view, loop, "Name a colour")

    view.add_button.click()
    added = view.slots[-1]
    added.picker.select(phi)
    # The new column shows the conversation so far, greyed, before anything is sent to it.
    earlier = bubbles(added.column)
    assert [v.content for v in earlier] == ["Name a colour", llama_reply]
    assert all(v.objectName() == "bubble_earlier" for v in earlier)
    assert earlier[1].who.text() == f"{llama} · earlier"

    ask(view, loop, "Why that one?")
    # Its first request carries the same conversation the first column's model answers.
    assert chat_requests(emulator, phi) == [
        [("user", "Name a colour"), ("assistant", llama_reply), ("user", "Why that one?")]
    ]
    assert chat_requests(emulator, llama)[-1] == chat_requests(emulator, phi)[-1]
    assert chat_requests(emulator, qwen)[-1] == [  # the others keep their own replies
        ("user", "Name a colour"),
        ("assistant", qwen_reply),
        ("user", "Why that one?"),
    ]
    own = bubbles(added.column)[-1]
    assert own.content == emulator.model(phi).reply and own.objectName() == "bubble_assistant"

    # Saved once per reply (no copy of llama's first reply under phi), and reopened the same way.
    saved = synced_window.ctx.conversations().get(view.conversation.id)
    assert saved.models == [llama, qwen, phi]
    replies = [m.model for m in saved.messages if m.role == "assistant"]
    assert replies == [llama, qwen, llama, qwen, phi]
    reopened = synced_window.open_conversation(saved.id)
    column = reopened.slots[2].column
    assert [v.content for v in bubbles(column) if v.objectName() == "bubble_earlier"] == [
        "Name a colour",
        llama_reply,
    ]
    assert [v.content for v in bubbles(reopened.slots[0].column)] == [
        "Name a colour",
        llama_reply,
        "Why that one?",
        llama_reply,
    ]
    ask(reopened, loop, "And another?")
    assert chat_requests(emulator, phi)[-1] == [
        ("user", "Name a colour"),
        ("assistant", llama_reply),
        ("user", "Why that one?"),
        ("assistant", emulator.model(phi).reply),
        ("user", "And another?"),
    ]


def test_columns_cannot_change_while_the_replies_stream(synced_window, loop, emulator):
    emulator.chunk_delay_s = 0.02
    view = synced_window.open_compare(["llama3.1:8b", "qwen3:8b", "phi:2.7b"])
    assert view.add_button.isEnabled() and view.remove_button.isEnabled()
    view.input.prompt.setPlainText("Say hello")
    view.input.send_button.click()
    until(loop, lambda: view.slots[0].column.current is not None)
    assert not view.add_button.isEnabled() and not view.remove_button.isEnabled()
    until(loop, lambda: view.task.done())
    assert view.add_button.isEnabled() and view.remove_button.isEnabled()
    assert len(view.slots) == 3
