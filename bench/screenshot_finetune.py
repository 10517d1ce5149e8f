"""Screenshots of the Fine-tune panel during training, against the Ollama emulator: the tiny Llama
model (tests/engine, built offline and cached) is LoRA-trained on the shipped facts file by the
real trainer subprocess, and the window is grabbed while the loss chart is still moving.

Run under a display: `xvfb-run -a -s "-screen 0 1920x1080x24" python bench/screenshot_finetune.py
--out /tmp/shots-ft/`. Writes finetune_{1280x800,1920x1080}_{light,dark}.png; the last line is
one JSON object naming them and the training step each was taken at.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FACTS = ROOT / "tests" / "data" / "finetune" / "facts.jsonl"
STEPS = 200  # far more than the shots need: the run is cancelled after the last one
SETTINGS = {"learning_rate": "0.005", "batch_size": "2", "warmup_steps": "4", "max_steps": "200"}
SHOTS = [((1280, 800), "light", 14), ((1280, 800), "dark", 24), ((1920, 1080), "light", 34),
         ((1920, 1080), "dark", 44)]  # fmt: skip


async def scenes(app: Any, out: Path) -> tuple[list[str], list[int]]:
    from PySide6.QtCore import QSettings

    from bench.screenshots import until
    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.ui.finetune_panel import FinetunePanel
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme
    from tests.engine.tiny_model import ensure_tiny_model
    from tests.servers.ollama_emulator import OllamaEmulator, standard_models

    hf_dir = ensure_tiny_model().hf_dir
    written: list[str] = []
    steps: list[int] = []
    with tempfile.TemporaryDirectory() as tmp, OllamaEmulator(standard_models()) as emu:
        home = Path(tmp)
        ctx = build_context(
            Settings(home=home, ollama_url=emu.url, github_models_sync="never"),
            db_path=home / "registry.db",
        )
        window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        window.start()
        window.sync()
        await until(lambda: any(e.name == "llama3.1:8b" for e in window.entries))
        tabs = window.tabs
        index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Fine-tune")
        tabs.setCurrentIndex(index)
        panel = tabs.widget(index)
        assert isinstance(panel, FinetunePanel), panel
        panel.reload()
        panel.form.base_box.setCurrentText("llama3.1:8b")
        panel.form.weights.setText(str(hf_dir))
        panel.form.preset_box.setCurrentText("efficient")
        for name, value in SETTINGS.items():
            panel.form.fields[name].setText(value)
        panel.form.name.setText("llama-facts")
        panel.form.set_data(FACTS)
        await until(lambda: panel.report.report is not None and not panel.validating)
        panel.start_button.click()
        for size, theme, step in SHOTS:
            await until(lambda s=step: len(panel.chart.train) >= s, timeout=300)
            apply_theme(app, theme)
            window.resize(*size)
            panel.setup.setCurrentIndex(1 if size[0] > 1280 else 0)
            await asyncio.sleep(0.4)
            path = out / f"finetune_{size[0]}x{size[1]}_{theme}.png"
            window.grab().save(str(path))
            written.append(str(path))
            steps.append(panel.chart.train[-1][0])
        if panel.running:
            panel.cancel()
            await until(lambda: not panel.running, timeout=60)
        await window.tasks.idle()
        window.close()
        await asyncio.sleep(0.3)
        await window.aclose()
        await ctx.jobs().shutdown()
        await ctx.aclose()
        ctx.close()
    return written, steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots-ft"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    written, steps = loop.run_until_complete(scenes(app, args.out))
    loop.close()
    print(json.dumps({"screenshots": written, "step_at_each": steps, "total_steps": STEPS}))


if __name__ == "__main__":
    main()
