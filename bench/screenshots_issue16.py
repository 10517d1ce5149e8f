"""Issue 16's screenshot set: the window at 1280x800 and 1920x1080, light and dark, against the
Ollama and GitHub Models emulators (the full model set, a variant and an ensemble).

Scenes: tree (every model once, names whole), inspector of a local model with performance rows,
chat with a Markdown reply holding a code block, the conversation list, Compare with a suite
score chart, the Library tab with the ensemble present, the Slots panel with its forms. Run under a display:
`xvfb-run -a -s "-screen 0 1920x1080x24" python3 bench/screenshots_issue16.py --out /tmp/shots-16`.
Also chat_reopened_*_dark.png: the same chat rendered afresh in the dark theme.
Last line: one JSON object naming the files written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = ((1280, 800), (1920, 1080))
THEMES = ("light", "dark")
# (name, General QA reply, server latency): replies decide which rows pass, so scores differ.
EVALUATED = [
    ("llama3.1:8b", "Paris. Mars. 8. Au.", 0.030),
    ("qwen3:8b", "Paris, Mars and carbon dioxide.", 0.055),
    ("phi:2.7b", "I think it is Paris.", 0.012),
]
MARKDOWN_REPLY = """\
Here is a **small** function that reverses the words of a sentence:

```python
def reverse_words(sentence: str) -> str:
    \"\"\"'the sky is blue' -> 'blue is sky the'\"\"\"
    return " ".join(reversed(sentence.split()))
```

- `split()` breaks on any whitespace
- `reversed()` walks the list backwards, without copying it

Call it as `reverse_words("hello world")`.
"""


async def until(condition: Any, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the window")
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    written = loop.run_until_complete(scenes(app, args.out))
    loop.close()
    print(json.dumps({"out": str(args.out), "screenshots": written}))


async def prepare(ctx: Any, emu: Any) -> None:
    """Measurements the inspector and Compare show: a General QA run and a benchmark per model."""
    from desktop_registry.services.experiments.recipes import parse_recipe

    await ctx.experiments().create(
        parse_recipe(
            {
                "type": "parameter_tuning",
                "base": "llama3.1:8b",
                "name": "llama-cold",
                "options": {"temperature": 0.2, "num_ctx": 8192},
            }
        )
    )
    await ctx.experiments().create(
        parse_recipe(
            {"type": "ensemble", "name": "trio", "members": [name for name, _, _ in EVALUATED]}
        )
    )
    ctx.eval_suites().ensure_shipped()
    runner = ctx.evaluation(tracked=False)
    bench = ctx.benchmarks(tracked=False)
    bench.repeats = 3
    for name, reply, latency in EVALUATED:
        emu.model(name).reply = reply
        emu.model(name).thinking = ""
        emu.invalidate()
        emu.latency_s = latency
        run = runner.prepare("General QA", [name])
        await runner.run(run.id)
        await bench.run([name])
    emu.latency_s = 0.0
    versions = ctx.versions(tracked=False)
    versions.create_slot("chat assistant", "completion", "The model the team chats with")
    versions.add_version("chat assistant", "llama3.1:8b", "1.0.0")
    versions.add_version("chat assistant", "qwen3:8b", "1.1.0")


async def scenes(app: Any, out: Path) -> list[str]:
    from PySide6.QtCore import QSettings

    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme
    from tests.servers.github_models_emulator import GitHubModelsEmulator, standard_catalog
    from tests.servers.ollama_emulator import OllamaEmulator, standard_models

    written: list[str] = []
    with (
        OllamaEmulator(standard_models()) as emu,
        GitHubModelsEmulator(standard_catalog()) as github,
        tempfile.TemporaryDirectory() as tmp,
    ):
        home = Path(tmp)
        os.environ["GH_TOKEN"] = github.token or ""  # the emulator's test-only token
        ctx = build_context(
            Settings(
                home=home,
                ollama_url=emu.url,
                github_models_url=github.url,
                github_models_sync="auto",
            ),
            db_path=home / "registry.db",
        )
        apply_theme(app, "light")
        window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
        window.resize(*SIZES[0])
        window.show()
        window.start()
        window.sync()
        await until(lambda: len(window.entries) == len(standard_models()) + len(standard_catalog()))
        await prepare(ctx, emu)
        window.refresh_models()

        emu.model("llama3.1:8b").reply = MARKDOWN_REPLY
        emu.model("qwen3:8b").reply = "Rayleigh scattering: air scatters **blue** light most."
        emu.invalidate()
        asked = window.chat_with(ctx.models.find("qwen3:8b").id)
        asked.input.prompt.setPlainText("Why is the sky blue?")
        asked.input.send_button.click()
        await until(lambda: asked.task is not None and asked.task.done())
        pane = window.chat_with(ctx.models.find("llama3.1:8b").id)
        pane.input.prompt.setPlainText("Write a Python function that reverses the words.")
        pane.input.send_button.click()
        await until(lambda: pane.task is not None and pane.task.done())

        llama = ctx.models.find("llama3.1:8b")
        titles = {window.tabs.tabText(i): i for i in range(window.tabs.count())}

        async def shot(name: str) -> None:
            await asyncio.sleep(0.15)  # layout and paint settle
            app.processEvents()
            path = out / name
            window.grab().save(str(path))
            written.append(str(path))

        for width, height in SIZES:
            for theme in THEMES:
                apply_theme(app, theme)
                window.resize(width, height)
                window.status.clearMessage()
                suffix = f"{width}x{height}_{theme}"

                window.tabs.setCurrentIndex(titles["Home"])
                window.browser.view.expandAll()
                window.browser.select_model(llama.id)
                window.browser.view.scrollToTop()
                await until(lambda: window.inspector.fields["memory"].text() != "checking…")
                await shot(f"tree_{suffix}.png")

                window.browser.select_model(ctx.models.find("qwen3:8b").id)
                await until(lambda: window.inspector.fields["memory"].text() != "checking…")
                window.inspector.ensureWidgetVisible(window.inspector.performance)
                await shot(f"inspector_{suffix}.png")
                window.inspector.verticalScrollBar().setValue(0)
                window.browser.select_model(llama.id)

                window.tabs.setCurrentWidget(pane)
                await shot(f"chat_{suffix}.png")  # rendered before the theme changed
                if theme == "dark":
                    pane.load(pane.conversation)  # reopened: rendered in the dark theme
                    await shot(f"chat_reopened_{suffix}.png")

                window.open_saved_chat()
                await shot(f"conversations_{suffix}.png")

                window.tabs.setCurrentIndex(titles["Compare"])
                compare = window.tabs.currentWidget()
                compare.reload()
                compare.suite_box.setCurrentText("General QA")
                compare.select([name for name, _, _ in EVALUATED])
                compare.charts.setCurrentWidget(compare.bars)
                await shot(f"compare_{suffix}.png")

                window.tabs.setCurrentIndex(titles["Library"])
                await shot(f"library_{suffix}.png")

                window.tabs.setCurrentIndex(titles["Slots"])  # the create and add forms
                await shot(f"slots_{suffix}.png")
                window.status.clearMessage()

        window.close()
        await window.aclose()
        ctx.close()
    return written


if __name__ == "__main__":
    main()
