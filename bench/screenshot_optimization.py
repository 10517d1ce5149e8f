"""Screenshots of the Optimization panel mid-study, against the Ollama emulator: a model that
answers right only near temperature 0.3 / top_p 0.9 is tuned on a small suite, and the window is
grabbed while trials are still finishing (charts and trials table filling in).

Run under a display: `xvfb-run -a -s "-screen 0 1920x1080x24" python bench/screenshot_optimization.py
--out screenshots/`. Writes optimization_{1280x800,1920x1080}_{light,dark}.png; the last line is
one JSON object naming them and how many trials had finished in each.
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

SUITE = """\
name: Capitals and colours
description: Short factual answers; the right answer repeats the question's key word.
model: tunable:3b
messages:
  - role: user
    content: "{{word}}"
testData:
  - word: Paris
  - word: Lisbon
  - word: cobalt
  - word: saffron
  - word: Oslo
  - word: crimson
evaluators:
  - name: names it
    string:
      contains: "{{word}}"
"""
TRIALS = 60
LATENCY_S = 0.03  # per request: a trial takes ~0.2 s, so the study is still running at each shot


async def scenes(app: Any, out: Path) -> tuple[list[str], list[int]]:
    from PySide6.QtCore import QSettings

    from bench.screenshots import until
    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.domain.optimization import Strategy, StudyRequest
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.optimization_panel import OptimizationPanel
    from desktop_registry.ui.theme import apply_theme
    from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models

    tunable = EmulatedModel(
        "tunable:3b",
        family="llama",
        parameter_size="3.2B",
        reply="I am not sure.",
        answer_region={"temperature": (0.3, 0.35), "top_p": (0.9, 0.25)},
    )
    written: list[str] = []
    counts: list[int] = []
    with tempfile.TemporaryDirectory() as tmp, OllamaEmulator([*standard_models(), tunable]) as emu:
        home = Path(tmp)
        emu.latency_s = LATENCY_S
        ctx = build_context(
            Settings(home=home, ollama_url=emu.url, github_models_sync="never"),
            db_path=home / "registry.db",
        )
        window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        window.start()
        window.sync()
        await until(lambda: any(e.name == tunable.name for e in window.entries))
        suite = home / "capitals.prompt.yml"
        suite.write_text(SUITE, encoding="utf-8")
        ctx.eval_suites().import_file(suite)
        emu.latency_s = 0.0
        for strategy, trials in (("random", 8), ("grid", 6)):  # past studies for the list
            await ctx.optimization(tracked=False).optimize(
                StudyRequest(model=tunable.name, suite="Capitals and colours",
                             strategy=Strategy(strategy), trials=trials, seed=1)
            )  # fmt: skip
        emu.latency_s = LATENCY_S
        tabs = window.tabs
        index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Optimize")
        tabs.setCurrentIndex(index)
        panel = tabs.widget(index)
        assert isinstance(panel, OptimizationPanel), panel
        panel.import_suite(suite)
        panel.form.model_box.setCurrentText(tunable.name)
        panel.form.objective_box.setCurrentText("maximize_quality")
        panel.form.second_box.setCurrentText("minimize_latency")
        panel.form.strategy_box.setCurrentText("bayesian")
        panel.form.trials_box.setValue(TRIALS)
        panel.form.seed_box.setValue(3)
        panel.start_button.click()
        shots = [
            ((1280, 800), "light", 0, 8),
            ((1280, 800), "dark", 1, 14),
            ((1920, 1080), "light", 0, 20),
            ((1920, 1080), "dark", 2, 26),
        ]
        for size, theme, tab, finished in shots:
            await until(lambda n=finished: len(panel.trials) >= n, timeout=120)
            apply_theme(app, theme)
            window.resize(*size)
            panel.charts.setCurrentIndex(tab)
            if tab == 1:
                panel.param_box.setCurrentText("temperature")
            await asyncio.sleep(0.3)
            path = out / f"optimization_{size[0]}x{size[1]}_{theme}.png"
            window.grab().save(str(path))
            written.append(str(path))
            counts.append(len(panel.trials))
        if panel.running():
            panel.stop_study(pause=False)
            await until(lambda: not panel.running(), timeout=60)
        await window.tasks.idle()
        window.close()
        await asyncio.sleep(0.3)
        await window.aclose()
        await ctx.jobs().shutdown()
        await ctx.aclose()
        ctx.close()
    return written, counts


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
    written, counts = loop.run_until_complete(scenes(app, args.out))
    loop.close()
    print(json.dumps({"screenshots": written, "trials_at_each": counts}))


if __name__ == "__main__":
    main()
