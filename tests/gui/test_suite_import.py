"""Importing a `.prompt.yml` suite from the window: the Compare panel's button, a file dropped on
the panel or anywhere on the window, and the importer's refusals shown with their line and field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop_registry.ui import suite_import
from tests.gui.conftest import make_context, run

SUITE = """\
name: Capitals
description: Which city is the capital
model: openai/gpt-4o-mini
messages:
  - role: user
    content: "What is the capital of {{country}}?"
testData:
  - country: France
    expected: Paris
evaluators:
  - name: names the city
    string:
      contains: "{{expected}}"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def files_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop(widget: QWidget, *paths: Path) -> bool:
    """A real drag-enter then drop, delivered to `widget` as Qt delivers them."""
    mime = files_mime(*paths)
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(10, 10), actions, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(QPointF(10, 10), actions, mime, buttons, mods)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def suites(panel: Any) -> list[str]:
    return [panel.suite_box.itemText(i) for i in range(panel.suite_box.count())]


@pytest.fixture
def panel(loop, qtbot, tmp_path: Path, emulator) -> Iterator[Any]:
    from desktop_registry.ui.compare_panel import create

    ctx = make_context(tmp_path, emulator.url)
    run(loop, ctx.ollama_sync().run())
    widget = create(ctx, None)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    run(loop, ctx.aclose())
    ctx.close()


def test_a_prompt_file_dropped_on_compare_is_imported_listed_and_chosen(panel, tmp_path):
    assert "Capitals" not in suites(panel)
    path = write(tmp_path, "capitals.prompt.yml", SUITE)

    assert drop(panel, path)

    assert "Capitals" in suites(panel)
    assert panel.suite_box.currentText() == "Capitals"
    assert panel.status.text() == "Imported suite 'Capitals'."
    assert panel.ctx.eval_suites().export("Capitals") == SUITE  # stored as brought


def test_the_import_button_imports_the_files_picked_in_the_dialog(panel, tmp_path, monkeypatch):
    path = write(tmp_path, "capitals.prompt.yml", SUITE)
    picked: list[str] = []

    def pick(parent: Any, caption: str, folder: str, filter: str) -> tuple[list[str], str]:
        picked.append(filter)
        return [str(path)], filter

    monkeypatch.setattr(suite_import.QFileDialog, "getOpenFileNames", staticmethod(pick))
    panel.import_button.click()

    assert "*.prompt.yml" in picked[0]
    assert panel.suite_box.currentText() == "Capitals"


def test_a_broken_suite_is_refused_with_its_line_in_the_panels_message(panel, tmp_path):
    before = suites(panel)
    chosen = panel.suite_box.currentText()
    broken = write(
        tmp_path, "broken.prompt.yml", "name: Broken\nmessages:\n  - role: user\n    content: [x\n"
    )

    drop(panel, broken)

    message = panel.status.text()
    assert message.startswith("Not imported: broken.prompt.yml, line ")
    assert "not valid YAML" in message
    assert suites(panel) == before and panel.suite_box.currentText() == chosen


def test_a_suite_missing_a_field_names_the_field(panel, tmp_path):
    no_messages = write(tmp_path, "empty.prompt.yml", "name: Empty\nmessages: []\n")
    bad_role = write(
        tmp_path,
        "role.prompt.yml",
        "name: Role\nmessages:\n  - role: narrator\n    content: hi\n",
    )

    drop(panel, no_messages, bad_role)

    message = panel.status.text()
    assert "empty.prompt.yml: `messages` is empty" in message
    assert "role.prompt.yml: messages[0]: role must be one of system, user, assistant" in message
    assert "Empty" not in suites(panel) and "Role" not in suites(panel)


def test_a_yaml_bomb_is_refused_and_the_good_file_beside_it_still_imports(panel, tmp_path):
    bomb = "\n".join(
        [
            "name: Bomb",
            'a: &a ["x","x","x","x","x","x","x","x","x"]',
            *(
                f"{c}: &{c} [{','.join(['*' + p] * 9)}]"
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            ),
            "messages:",
            "  - role: user",
            "    content: hi",
        ]
    )
    bomb_path = write(tmp_path, "bomb.prompt.yml", bomb)
    good = write(tmp_path, "capitals.prompt.yml", SUITE)

    drop(panel, bomb_path, good)

    message = panel.status.text()
    assert message.startswith("Imported suite 'Capitals'. Not imported: bomb.prompt.yml")
    assert "Bomb" not in suites(panel)
    assert panel.suite_box.currentText() == "Capitals"


def test_a_file_that_is_not_yaml_is_named_and_nothing_is_imported(panel, tmp_path):
    notes = write(tmp_path, "notes.txt", "hello")

    drop(panel, notes)

    assert panel.status.text() == "Not imported: notes.txt is not a suite: drop a .prompt.yml file."


def test_a_drag_without_files_is_not_accepted(panel):
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(panel, enter)
    assert not enter.isAccepted()


def test_a_suite_dropped_on_the_window_is_imported_and_shown_in_compare(
    open_window, emulator, tmp_path
):
    window = open_window(emulator.url)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    window.tabs.setCurrentIndex(titles.index("Compare"))  # the panel is built when first shown
    compare = window.tabs.currentWidget()
    path = write(tmp_path, "capitals.prompt.yml", SUITE)

    assert drop(window, path)

    assert window.status.currentMessage() == "Imported suite 'Capitals'."
    assert compare.suite_box.currentText() == "Capitals"
    assert "Capitals" in [s.name for s in window.ctx.eval_suites().list()]


def test_a_broken_suite_dropped_on_the_window_says_why_in_the_status_bar(
    open_window, emulator, tmp_path
):
    window = open_window(emulator.url)
    path = write(tmp_path, "bad.prompt.yml", "name: Bad\nmessages: {role: user}\n")

    drop(window, path)

    message = window.status.currentMessage()
    assert message.startswith("Not imported: bad.prompt.yml")
    assert "messages" in message  # the field at fault
    assert "Bad" not in [s.name for s in window.ctx.eval_suites().list()]
