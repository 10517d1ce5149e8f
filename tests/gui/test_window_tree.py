"""The category tree, filter, inspector and first-run states of the main window."""

from __future__ import annotations

import socket

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from desktop_registry.config import Settings
from desktop_registry.ui.model_tree_badges import BADGES_ROLE
from tests.gui.conftest import until
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


def tree_names(window) -> set[str]:
    model = window.browser.model
    names = set()
    for s in model.root.children:
        for c in s.children:
            names.update(leaf.entry.name for leaf in c.children)
    return names


def tree_rows(window) -> list[tuple[str, str]]:
    """(category key, model name) for every model row, at any depth below a category."""
    model = window.browser.model
    rows, todo = (
        [],
        [(c.key, n) for s in model.root.children for c in s.children for n in c.children],
    )
    while todo:
        category, node = todo.pop()
        if node.entry is not None:
            rows.append((category, node.entry.name))
        todo.extend((category, child) for child in node.children)
    return rows


def test_sync_lists_each_model_once_under_its_primary_category_with_capability_badges(
    synced_window,
):
    model = synced_window.browser.model
    (source,) = model.root.children
    assert source.label == "Ollama (local)  (5)"
    assert model.counts() == {
        ("ollama", "embedding"): 1,
        ("ollama", "multimodal"): 1,
        ("ollama", "function_calling"): 1,  # llama3.1 (tools)
        ("ollama", "reasoning"): 1,  # qwen3: thinking first, tools as a badge
        ("ollama", "general"): 1,
    }
    names = [name for _category, name in tree_rows(synced_window)]
    assert sorted(names) == sorted(set(names)) and len(names) == 5  # each model once
    labels = [c.label for c in source.children]
    assert "Function calling  (1)" in labels
    qwen = model.first_index_of(synced_window.ctx.models.find("qwen3:8b").id)
    assert model.entry_at(qwen.parent()) is None and model.node(qwen.parent()).key == "reasoning"
    assert ("tools", "capability") in qwen.data(BADGES_ROLE)
    assert "also: Function calling" in qwen.data(Qt.ItemDataRole.ToolTipRole)
    assert "Ollama 0.12.6" in synced_window.status.ollama.text()
    assert synced_window.status.last_sync.text() != "Last sync: never"
    assert synced_window.home.title.text() == "5 models in your registry"


def test_typing_in_the_filter_narrows_the_tree(synced_window, qtbot, loop):
    browser = synced_window.browser
    qtbot.keyClicks(browser.filter_box, "qwen")
    until(loop, lambda: browser.model.shown == 1)
    assert tree_names(synced_window) == {"qwen3:8b"}
    assert browser.model.counts() == {("ollama", "reasoning"): 1}
    browser.filter_box.setText("nomic-bert")  # the family, not the name
    until(loop, lambda: tree_names(synced_window) == {"nomic-embed-text:latest"})
    browser.filter_box.clear()
    until(loop, lambda: browser.model.shown == 5)


def test_selecting_a_model_fills_the_inspector(synced_window, loop, emulator):
    window = synced_window
    qwen = window.ctx.models.find("qwen3:8b")
    assert window.browser.select_model(qwen.id)
    inspector = window.inspector
    assert inspector.title.text() == "qwen3:8b"
    fields = {k: v.text() for k, v in inspector.fields.items()}
    assert fields["capabilities"] == "completion, tools, thinking"
    assert fields["category"] == "Reasoning, Function calling\nreported by the server"
    assert fields["parameters"].startswith("8.2B")
    assert fields["quantization"] == "Q4_K_M"
    assert fields["context"] == "40,960 tokens"
    assert fields["size"] == "5.2 GB"
    assert fields["endpoint"] == emulator.url
    until(loop, lambda: inspector.fields["memory"].text() == "not loaded")
    assert inspector.template.text.toPlainText() != ""
    assert inspector.chat_button.isEnabled()
    embed = window.ctx.models.find("nomic-embed-text:latest")
    window.browser.select_model(embed.id)
    assert not inspector.chat_button.isEnabled()  # embedding models cannot chat


def test_without_ollama_a_banner_says_what_to_do_and_retry_recovers(open_window, loop):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    window = open_window(f"http://127.0.0.1:{port}")
    until(loop, lambda: window.banner.isVisible())
    assert "Ollama is not running" in window.banner.text.text()
    assert "ollama serve" in window.banner.text.text()
    assert window.home.title.text() == "Your registry is empty"
    assert window.home.sync_button.isVisible() and window.home.pull_button.isVisible()
    with OllamaEmulator(standard_models(), port=port):
        window.banner.retry.click()
        until(loop, lambda: not window.banner.isVisible())
        assert "Ollama 0.12.6" in window.status.ollama.text()


def test_a_failing_sync_reports_in_the_status_bar_not_a_traceback(open_window, loop, emulator):
    window = open_window(emulator.url)
    emulator.errors["/api/tags"] = (500, "disk on fire")
    window.sync()
    until(loop, lambda: "disk on fire" in window.status.currentMessage())
    assert window.entries == []


def test_window_geometry_and_splitters_persist(open_window, emulator, tmp_path):
    window = open_window(emulator.url)
    window.resize(640, 520)
    QApplication.processEvents()
    window.splitter.setSizes([150, 300, 200])
    QApplication.processEvents()
    sizes = window.splitter.sizes()
    window.close()
    again = open_window(emulator.url)
    QApplication.processEvents()
    assert again.height() == 520  # (the offscreen screen clamps the width to its own)
    assert again.splitter.sizes() == sizes
    assert QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat).contains(
        "window/splitter"
    )


def test_a_panel_whose_factory_fails_shows_an_error_in_its_tab(open_window, emulator, monkeypatch):
    from desktop_registry.ui import panels

    def broken(ctx: object, window: object) -> object:
        import no_such_module_here  # noqa: F401  (a feature whose module is missing)

        raise AssertionError("unreachable")

    monkeypatch.setattr(panels, "PANELS", [("Broken", broken)])
    window = open_window(emulator.url)
    index = next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == "Broken")
    window.tabs.setCurrentIndex(index)
    label = window.tabs.widget(index)
    assert "could not open" in label.text()
    assert "no_such_module_here" in label.text()


def test_settings_test_button_checks_the_ollama_url_and_save_switches_to_it(
    open_window, loop, emulator
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    window = open_window(f"http://127.0.0.1:{dead_port}")
    until(loop, lambda: window.banner.isVisible())
    dialog = window.open_settings()
    dialog.ollama_url.setText(emulator.url)
    dialog.test_button.click()
    until(loop, lambda: "5 models" in dialog.test_result.text())
    assert "Ollama 0.12.6" in dialog.test_result.text()
    assert "No token" in dialog.token_state.text()
    dialog.theme.setCurrentText("dark")
    dialog.save()
    until(loop, lambda: not window.banner.isVisible())
    assert window.ctx.settings.ollama_url == emulator.url
    assert Settings().theme == "dark"  # in settings.json, where the next start reads it
    assert window.prefs.value("theme") is None  # QSettings keeps only the window's layout


def test_a_malformed_ollama_url_in_settings_is_called_invalid_not_not_running(
    open_window, loop, emulator
):
    window = open_window(emulator.url)
    dialog = window.open_settings()
    dialog.ollama_url.setText("localhost:99999")
    dialog.test_button.click()
    until(loop, lambda: "not a valid Ollama URL" in dialog.test_result.text())
    assert "port '99999'" in dialog.test_result.text()
    assert "not running" not in dialog.test_result.text()
    dialog.save()
    assert dialog.message.text() == (
        "Ollama URL: port '99999' is not a port number from 1 to 65535."
    )
    assert dialog.isVisible()  # nothing was saved; the user can correct it
    assert window.ctx.settings.ollama_url == emulator.url
