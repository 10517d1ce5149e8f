"""Screenshots of the desktop window, against the Ollama emulator, for people to look at.

Run under a display (e.g. `xvfb-run -a python bench/screenshots.py --out screenshots/`). Saves
main.png, chat_streaming.png, compare.png, pull_dialog.png, jobs.png, dark.png; prints one JSON
object as its last line with the files written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STORY = (
    "Once upon a time, a small language model lived on a laptop. Every morning it woke up, "
    "loaded its weights into memory and waited for questions. Some days it was asked about "
    "the weather, other days about recursion, and once, memorably, about why the sky is blue. "
    "It answered each one as well as it could, one token at a time."
)


def until(loop: Any, condition: Any, timeout: float = 30.0) -> None:
    async def poll() -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for the window")
            await asyncio.sleep(0.02)

    loop.run_until_complete(poll())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme
    from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

    app = QApplication([])
    apply_theme(app, "light")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    written: list[str] = []

    def shot(widget: Any, name: str) -> None:
        app.processEvents()
        path = out / name
        widget.grab().save(str(path))
        written.append(str(path))

    library = [EmulatedModel("gemma3:4b", family="gemma3", size=3_338_801_804,
                             capabilities=["completion", "vision"])]  # fmt: skip
    with (
        OllamaEmulator(standard_models(), library=library) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        home = Path(tmp)
        ctx = build_context(
            Settings(home=home, ollama_url=emu.url, github_models_sync="never"),
            db_path=home / "registry.db",
        )
        window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
        window.resize(1400, 860)
        window.show()
        window.start()
        window.sync()
        until(loop, lambda: len(window.entries) == 5)
        qwen = ctx.models.find("qwen3:8b")
        window.browser.select_model(qwen.id)
        until(loop, lambda: window.inspector.fields["memory"].text() != "checking…")
        shot(window, "main.png")

        emu.model("llama3.1:8b").reply = STORY
        emu.invalidate()
        emu.chunk_delay_s = 0.04
        pane = window.chat_with(ctx.models.find("llama3.1:8b").id)
        pane.input.prompt.setPlainText("Tell me a short story about a model on a laptop.")
        pane.input.send_button.click()
        until(
            loop, lambda: pane.column.current is not None and len(pane.column.current.content) > 120
        )
        shot(window, "chat_streaming.png")
        until(loop, lambda: pane.task.done())

        emu.chunk_delay_s = 0.0
        view = window.open_compare(["llama3.1:8b", "qwen3:8b", "phi:2.7b"])
        view.input.prompt.setPlainText("Why is the sky blue?")
        view.input.send_button.click()
        until(loop, lambda: view.task is not None and view.task.done())
        shot(window, "compare.png")

        emu.pull_chunk_bytes = 150_000_000
        emu.chunk_delay_s = 0.03
        dialog = window.open_pull("gemma3:4b")
        dialog.pull_button.click()
        until(loop, lambda: any(300 < b.value() < 800 for b in dialog.bars.values()))
        shot(dialog, "pull_dialog.png")
        emu.chunk_delay_s = 0.0
        until(loop, lambda: "is pulled" in dialog.status.text())
        dialog.close()

        emu.errors["/api/pull"] = (500, "pull model manifest: file does not exist")
        failed = ctx.jobs().submit("pull", {"model": "no-such-model:1b"}, "Pull no-such-model:1b")
        until(loop, lambda: ctx.jobs().get(failed.id).state.finished)
        window.show_jobs()
        window._jobs_panel.table.selectRow(1)
        shot(window, "jobs.png")

        apply_theme(app, "dark")
        window.tabs.setCurrentIndex(0)
        window.browser.select_model(ctx.models.find("llava:7b").id)
        until(loop, lambda: window.inspector.fields["memory"].text() != "checking…")
        window.tabs.setCurrentWidget(pane)
        shot(window, "dark.png")

        window.close()
        loop.run_until_complete(window.aclose())
        ctx.close()
    print(json.dumps({"screenshots": written}))


if __name__ == "__main__":
    main()
