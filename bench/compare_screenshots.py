"""Screenshots of the Compare panel (bars, latency boxes, score-vs-latency, slot history) against
the Ollama emulator: four chat models run the General QA suite at different latencies, and an
embedding slot is upgraded from nomic-embed-text (1.0.0) to bge-m3 (2.0.0) and benchmarked.

Run under a display: `xvfb-run -a python bench/compare_screenshots.py --out screenshots/`.
`capture(out_dir)` can be called from bench/screenshots.py. Last line: JSON with the files.
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

from desktop_registry.app import build_context  # noqa: E402
from desktop_registry.config import Settings  # noqa: E402
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models  # noqa: E402

# (name, reply, per-request latency): replies decide which General QA rows pass.
CHAT_MODELS = [
    ("llama3.1:8b", "Paris. Mars. 8. Au.", 0.030),
    ("qwen3:8b", "Paris, Mars and carbon dioxide.", 0.055),
    ("phi:2.7b", "I think it is Paris.", 0.012),
    ("mistral:7b", "Paris, Mars, 8, Au, carbon dioxide.", 0.080),
]
BGE = EmulatedModel(
    "bge-m3:567m",
    family="bert",
    parameter_size="567M",
    capabilities=["embedding"],
    embedding_length=1024,
    embedding_dim=1024,
)


def emulated_models() -> list[EmulatedModel]:
    models = {m.name: m for m in standard_models()}
    for name, reply, _ in CHAT_MODELS:
        model = models.get(name) or EmulatedModel(name, family="mistral", parameter_size="7.2B")
        model.reply = reply
        model.thinking = ""
        models[name] = model
    models[BGE.name] = BGE
    return list(models.values())


async def prepare(emu: OllamaEmulator, home: Path) -> None:
    ctx = build_context(
        Settings(home=home, ollama_url=emu.url, github_models_sync="never"),
        db_path=home / "registry.db",
    )
    try:
        await ctx.ollama_sync().run()
        ctx.eval_suites().ensure_shipped()
        runner = ctx.evaluation(tracked=False)
        for name, _, latency in CHAT_MODELS:  # one run per model: each its own server latency
            emu.latency_s = latency
            run = runner.prepare("General QA", [name])
            await runner.run(run.id)
        bench = ctx.benchmarks(tracked=False)
        bench.repeats = 3
        for name, _, latency in CHAT_MODELS:
            emu.latency_s = latency
            await bench.run([name])
        emu.latency_s = 0.0
        versions = ctx.versions(tracked=False)
        versions.create_slot("text embedding", "embedding", "Embeddings for document search")
        versions.add_version("text embedding", "nomic-embed-text", "1.0.0")
        versions.add_version("text embedding", "bge-m3:567m", "2.0.0")
        await bench.run(
            ["nomic-embed-text", "bge-m3:567m"],
            versions={"nomic-embed-text:latest": "1.0.0", "bge-m3:567m": "2.0.0"},
            notes="slot text embedding",
        )
    finally:
        await ctx.aclose()
        ctx.close()


def capture(out: Path) -> list[str]:
    from PySide6.QtWidgets import QApplication

    from desktop_registry.ui.compare_panel import ComparePanel
    from desktop_registry.ui.theme import apply_theme

    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, OllamaEmulator(emulated_models()) as emu:
        home = Path(tmp)
        asyncio.run(prepare(emu, home))
        app: Any = QApplication.instance() or QApplication(sys.argv)
        apply_theme(app, "light")
        ctx = build_context(Settings(home=home, ollama_url=emu.url), db_path=home / "registry.db")
        view = ComparePanel(ctx)
        view.resize(1280, 820)
        view.show()
        view.select([name for name, _, _ in CHAT_MODELS])
        view.metric_box.setCurrentText("eval/General QA/pass_rate")
        view.score_box.setCurrentText("eval/General QA/pass_rate")
        shots = [
            ("compare_bars.png", view.bars),
            ("compare_latency.png", view.boxes),
            ("compare_scatter.png", view.scatter),
        ]
        for filename, chart in shots:
            view.charts.setCurrentWidget(chart)
            app.processEvents()
            if chart is view.bars:
                chart.hover_at(0, 0.3)
            app.processEvents()
            view.grab().save(str(out / filename))
            written.append(filename)
        view.slot_box.setCurrentText("text embedding")
        view.select(["nomic-embed-text:latest", "bge-m3:567m"])
        view.metric_box.setCurrentText("recall@1")
        view.charts.setCurrentWidget(view.history)
        app.processEvents()
        view.grab().save(str(out / "compare_history.png"))
        written.append("compare_history.png")
        view.history.export_png(out / "compare_history_export.png")
        written.append("compare_history_export.png")
        view.export_csv(out / "compare_table.csv")
        written.append("compare_table.csv")
        view.close()
        ctx.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    files = capture(args.out)
    print(json.dumps({"out": str(args.out), "files": files}))


if __name__ == "__main__":
    main()
