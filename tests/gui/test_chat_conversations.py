"""Saved chats in the window: reopened with model and options after a restart, the Chats tab
(search, rename, delete, export), presets in the Options drawer, Ctrl+N on the selected model."""

from __future__ import annotations

import json

from PySide6.QtGui import QAction

from tests.gui.conftest import run, until


def wait_reply(loop, pane) -> None:
    until(loop, lambda: pane.task is not None and pane.task.done())


def send(pane, text: str) -> None:
    pane.input.prompt.setPlainText(text)
    pane.input.send_button.click()


def menu_action(window, text: str) -> QAction:
    for action in window.findChildren(QAction):
        if action.text().replace("&", "") == text:
            return action
    raise AssertionError(f"no menu item {text!r}")


def test_a_saved_chat_reopens_with_its_model_and_options_after_a_restart(
    open_window, emulator, loop
):
    window = open_window(emulator.url)
    window.sync()
    until(loop, lambda: len(window.entries) == 5)
    pane = window.chat_with(window.ctx.models.find("qwen3:8b").id)
    pane.options.temperature.setValue(0.3)
    pane.options.num_ctx.setValue(8192)
    pane.options.seed.setValue(7)
    pane.options.system.setPlainText("Answer like a pirate.")
    send(pane, "Where is the treasure?")
    wait_reply(loop, pane)
    reply = pane.column.history[-1].content
    window.close()
    run(loop, window.aclose())
    window.ctx.close()

    again = open_window(emulator.url)  # same data dir: a restart
    chats = again.open_saved_chat()
    assert chats.titles() == ["Where is the treasure?"]
    chats.open_selected()
    reopened = again.tabs.currentWidget()
    assert reopened.picker.model_name() == "qwen3:8b"
    assert reopened.options.values() == {"temperature": 0.3, "num_ctx": 8192, "seed": 7}
    assert reopened.options.system.toPlainText() == "Answer like a pirate."
    assert [m.content for m in reopened.column.history] == ["Where is the treasure?", reply]
    assert "of 8,192" in reopened.column.views[-1].footer.text()
    # and it goes on with the same model and options
    send(reopened, "And then?")
    wait_reply(loop, reopened)
    body = [r.body for r in emulator.requests if r.path == "/api/chat"][-1]
    assert body["model"] == "qwen3:8b"
    assert body["options"]["temperature"] == 0.3 and body["options"]["num_ctx"] == 8192
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    assert len(again.ctx.conversations().list()) == 1  # saved into the same chat


def test_a_new_chat_opens_on_the_selected_model_and_its_tab_follows_the_model(synced_window):
    window = synced_window
    phi = window.ctx.models.find("phi:2.7b")
    assert window.browser.select_model(phi.id)
    menu_action(window, "New chat").trigger()  # Ctrl+N
    pane = window.tabs.currentWidget()
    assert pane.picker.model_name() == "phi:2.7b"
    index = window.tabs.indexOf(pane)
    assert window.tabs.tabText(index) == "Chat · phi:2.7b"
    pane.picker.select("llama3.1:8b")
    assert window.tabs.tabText(window.tabs.indexOf(pane)) == "Chat · llama3.1:8b"


def test_the_chats_tab_searches_renames_deletes_and_exports(
    synced_window, loop, emulator, tmp_path
):
    window = synced_window
    emulator.model("llama3.1:8b").reply = "Use ```sorted(xs)``` for a new list."
    emulator.invalidate()
    for question in ("How do I sort a list?", "What is a tuple?"):
        pane = window.chat_with(window.ctx.models.find("llama3.1:8b").id)
        send(pane, question)
        wait_reply(loop, pane)
    chats = window.open_saved_chat()
    assert chats.titles() == ["What is a tuple?", "How do I sort a list?"]
    chats.search.setText("tuple")
    until(loop, lambda: chats.titles() == ["What is a tuple?"])
    chats.search.setText("SORTED(XS)")  # text of a reply, any case
    until(loop, lambda: len(chats.titles()) == 2)
    chats.search.setText("no such words")
    until(loop, lambda: chats.titles() == [])
    assert chats.empty.isVisible() and "No saved chat" in chats.empty.text()
    chats.search.clear()
    until(loop, lambda: len(chats.titles()) == 2)

    sort_id = next(c.id for c in window.ctx.conversations().list() if "sort" in c.title)
    chats.rename(sort_id, "Sorting in Python")
    assert "Sorting in Python" in chats.titles()
    markdown, as_json = tmp_path / "sorting.md", tmp_path / "sorting.json"
    chats.export(sort_id, markdown)
    chats.export(sort_id, as_json)
    assert markdown.read_text().startswith("# Sorting in Python\n")
    assert "## You\n\nHow do I sort a list?" in markdown.read_text()
    assert json.loads(as_json.read_text())["models"] == ["llama3.1:8b"]
    assert "Exported to" in window.status.currentMessage()
    chats.delete(sort_id)
    assert chats.titles() == ["What is a tuple?"]
    chats.select(window.ctx.conversations().list()[0].id)
    chats.open_selected()
    assert window.tabs.currentWidget().column.history[0].content == "What is a tuple?"


def test_a_preset_saved_in_the_drawer_sets_system_prompt_and_options_in_a_new_chat(
    synced_window, loop, emulator
):
    window = synced_window
    pane = window.chat_with(window.ctx.models.find("llama3.1:8b").id)
    pane.options_toggle.click()
    assert pane.drawer.isVisible()
    pane.options.temperature.setValue(0.2)
    pane.options.num_ctx.setValue(2048)
    pane.options.system.setPlainText("Answer in one sentence.")
    assert pane.drawer.save_preset("One-liner")
    other = window.chat_with(window.ctx.models.find("phi:2.7b").id)
    assert not other.drawer.isVisible()  # folded until asked for
    box = other.drawer.preset_box
    assert [box.itemText(i) for i in range(box.count())] == ["No preset", "One-liner"]
    box.setCurrentText("One-liner")
    box.activated.emit(box.currentIndex())
    assert other.options.values() == {"temperature": 0.2, "num_ctx": 2048}
    assert other.options.system.toPlainText() == "Answer in one sentence."
    send(other, "Hi")
    wait_reply(loop, other)
    body = [r.body for r in emulator.requests if r.path == "/api/chat"][-1]
    assert body["messages"][0] == {"role": "system", "content": "Answer in one sentence."}
    assert body["options"]["num_ctx"] == 2048
    other.drawer.delete_current()
    assert other.drawer.preset_box.count() == 1
