"""Screenshots of the desktop window, against the Ollama and GitHub Models emulators.

Run under a display (e.g. `xvfb-run -a python bench/screenshots.py --out screenshots/`). Saves
main.png, inspector_compat.png, chat_streaming.png, compare.png, compare_joined.png (a third model
added mid-conversation), pull_dialog.png, jobs.png, dark.png, pull_failed.png and
main_{1280x800,1920x1080}_{light,dark}.png; prints one JSON object as its last line with the files written. The registry holds
local models (Ollama), remote ones (GitHub Models, test token via GH_TOKEN in this process)
and one experiment variant under its base.
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

STORY = (
    "Once upon a time, a small language model lived on a laptop. Every morning it woke up, "
    "loaded its weights into memory and waited for questions. Some days it was asked about "
    "the weather, other days about recursion, and once, memorably, about why the sky is blue. "
    "It answered each one as well as it could, one token at a time."
)
SKY = {  # compare mode's answers (the emulator's defaults are a greeting)
    "llama3.1:8b": "Sunlight is scattered by the molecules of the air, and blue light, with its "
    "short wavelength, is scattered far more than red (Rayleigh scattering). So blue light "
    "reaches your eyes from every part of the sky.",
    "phi:2.7b": "Because air scatters blue light more than the other colours of sunlight.",
}
SUNSET = {
    "llama3.1:8b": "At sunset the light crosses much more air, so most of the blue is scattered "
    "away before it reaches you and the reds and oranges are left.",
    "qwen3:8b": "The low sun's light travels through more atmosphere; blue is scattered out, red "
    "gets through.",
    "phi:2.7b": "Sunlight at dusk passes through more air: the blue is scattered away on the way, "
    "leaving the red and orange light.",
}


async def until(condition: Any, timeout: float = 60.0) -> None:
    # Generous: a cold first run imports MLflow and probes the hardware before the first scene.
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the window")
        await asyncio.sleep(0.02)


async def settled(window: Any) -> None:
    """The inspector has read the memory state and filled its Compatibility section."""
    inspector = window.inspector
    await until(
        lambda: (
            inspector.fields["memory"].text() != "checking…"
            and inspector.compat["fit"].text() != ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop_registry.ui.theme import apply_theme

    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing the window ends the scenes, not the loop
    apply_theme(app, "light")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # One coroutine for every scene: qasync's run_until_complete ends with an event pass outside
    # the running loop, which would step streaming chats and pulls where they find no loop.
    written = loop.run_until_complete(scenes(app, out))
    loop.close()  # joins the worker threads (the compatibility probe) before Qt goes away
    print(json.dumps({"screenshots": written}))


async def scenes(app: Any, out: Path) -> list[str]:
    from PySide6.QtCore import QSettings

    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.services.experiments.recipes import parse_recipe
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme
    from tests.servers.github_models_emulator import GitHubModelsEmulator, standard_catalog
    from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

    written: list[str] = []

    async def shot(widget: Any, name: str) -> None:
        await asyncio.sleep(0.05)  # layout and paint settle
        path = out / name
        widget.grab().save(str(path))
        written.append(str(path))

    library = [EmulatedModel("gemma3:4b", family="gemma3", size=3_338_801_804,
                             capabilities=["completion", "vision"])]  # fmt: skip
    with (
        OllamaEmulator(standard_models(), library=library) as emu,
        GitHubModelsEmulator(standard_catalog()) as github,
        tempfile.TemporaryDirectory() as tmp,
    ):
        home = Path(tmp)
        os.environ["GH_TOKEN"] = github.token or ""  # the emulator's test-only token
        remote = len(standard_catalog())
        ctx = build_context(
            Settings(
                home=home,
                ollama_url=emu.url,
                github_models_url=github.url,
                github_models_sync="auto",
            ),
            db_path=home / "registry.db",
        )
        window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
        window.resize(1400, 860)
        window.splitter.setSizes([420, 580, 400])  # room for remote ids like openai/gpt-4.1
        window.show()
        window.start()
        window.sync()
        await until(lambda: len(window.entries) == 5 + remote)
        # One experiment variant (a real /api/create and MLflow run), shown under its base.
        recipe = {"type": "parameter_tuning", "base": "llama3.1:8b", "name": "llama-cold",
                  "options": {"temperature": 0.2, "num_ctx": 8192}}  # fmt: skip
        variant = await ctx.experiments().create(parse_recipe(recipe))
        window.refresh_models()
        window.browser.select_model(variant.id)
        await settled(window)
        window.browser.view.scrollToTop()
        await shot(window, "main.png")

        # The inspector alone, on a model whose full context does not fit most machines:
        # estimate, fit badge, reason, first warning and suggestion (this machine's hardware).
        llama = ctx.models.find("llama3.1:8b")
        window.browser.select_model(llama.id)
        await settled(window)
        window.inspector.ensureWidgetVisible(window.inspector.compat_box)
        await shot(window.inspector, "inspector_compat.png")
        window.inspector.verticalScrollBar().setValue(0)

        emu.model("llama3.1:8b").reply = STORY
        emu.invalidate()
        emu.chunk_delay_s = 0.04
        pane = window.chat_with(ctx.models.find("llama3.1:8b").id)
        pane.input.prompt.setPlainText("Tell me a short story about a model on a laptop.")
        pane.input.send_button.click()
        await until(
            lambda: pane.column.current is not None and len(pane.column.current.content) > 120
        )
        await shot(window, "chat_streaming.png")
        await until(lambda: pane.task.done())

        emu.chunk_delay_s = 0.0
        for name, reply in SKY.items():
            emu.model(name).reply = reply
        emu.invalidate()
        view = window.open_compare(["llama3.1:8b", "qwen3:8b", "phi:2.7b"])
        view.input.prompt.setPlainText("Why is the sky blue?")
        view.input.send_button.click()
        await until(lambda: view.task is not None and view.task.done())
        await shot(window, "compare.png")

        # A third model joins a two-model comparison: it starts from the conversation so far.
        joined = window.open_compare(["llama3.1:8b", "qwen3:8b"])
        joined.input.prompt.setPlainText("Why is the sky blue?")
        joined.input.send_button.click()
        await until(lambda: joined.task is not None and joined.task.done())
        joined.add_button.click()
        joined.slots[-1].picker.select("phi:2.7b")
        for name, reply in SUNSET.items():
            emu.model(name).reply = reply
        emu.invalidate()
        joined.input.prompt.setPlainText("And why are sunsets red?")
        joined.input.send_button.click()
        await until(lambda: joined.task is not None and joined.task.done())
        await shot(window, "compare_joined.png")

        emu.pull_chunk_bytes = 150_000_000
        emu.chunk_delay_s = 0.03
        dialog = window.open_pull("gemma3:4b")
        dialog.pull_button.click()
        await until(lambda: any(300 < b.value() < 800 for b in dialog.bars.values()))
        await shot(dialog, "pull_dialog.png")
        emu.chunk_delay_s = 0.0
        await until(lambda: "is pulled" in dialog.status.text())
        dialog.close()

        emu.errors["/api/pull"] = (500, "pull model manifest: file does not exist")
        failed = ctx.jobs().submit("pull", {"model": "no-such-model:1b"}, "Pull no-such-model:1b")
        await until(lambda: ctx.jobs().get(failed.id).state.finished)
        window.show_jobs()
        window._jobs_panel.table.selectRow(1)
        await settled(window)  # the pull's refresh showed the selected model again
        await shot(window, "jobs.png")

        apply_theme(app, "dark")
        window.tabs.setCurrentIndex(0)
        window.browser.select_model(ctx.models.find("llava:7b").id)
        await settled(window)
        window.tabs.setCurrentWidget(pane)
        window.status.clearMessage()  # the jobs scene's failed pull is not news here
        await shot(window, "dark.png")

        # A failed pull in the dialog: the whole message, no busy bar, no Resume.
        bad = window.open_pull("no-such-model:1b")
        bad.pull_button.click()
        await until(lambda: bad.pull_button.isEnabled() and not bad.cancel_button.isEnabled())
        await shot(bad, "pull_failed.png")
        bad.close()

        # The window at the two sizes people use, light and dark.
        window.tabs.setCurrentIndex(0)
        window.status.clearMessage()
        for width, height in ((1280, 800), (1920, 1080)):
            for theme in ("light", "dark"):
                apply_theme(app, theme)
                window.resize(width, height)
                await settled(window)
                await shot(window, f"main_{width}x{height}_{theme}.png")

        window.close()
        await window.aclose()
        ctx.close()
    return written


if __name__ == "__main__":
    main()
