"""Screenshot of a llama.cpp server in the tree and the inspector, against a real llama-server.

Run under a display: `xvfb-run -a python bench/screenshot_llamacpp.py --out screenshots/`. Builds
(or reuses the cached) llama-server and tiny model like the engine tests; writes
llamacpp_{1280x800,1920x1080}_{light,dark}.png; the last line is one JSON object naming them.
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


async def scenes(app: Any, out: Path) -> list[str]:
    from PySide6.QtCore import QSettings

    from bench.screenshots import until
    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme
    from tests.engine.build_llama_server import ensure_llama_server
    from tests.engine.conftest import CHAT_ARGS, EngineFiles, LlamaServer
    from tests.engine.tiny_model import ensure_tiny_model
    from tests.servers.ollama_emulator import OllamaEmulator, standard_models

    model = ensure_tiny_model()
    files = EngineFiles(ensure_llama_server(lambda _: None), model.gguf, model.hf_dir, 2048)
    written: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, OllamaEmulator(standard_models()) as emu:
        home = Path(tmp)
        server = LlamaServer(files, "tiny-llama", CHAT_ARGS, home).start()
        try:
            ctx = build_context(
                Settings(home=home, ollama_url=emu.url), db_path=home / "registry.db"
            )
            ctx.endpoints().add("llamacpp", server.url, kind="llamacpp")
            window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
            window.show()
            window.start()
            window.sync()
            await until(lambda: any(e.name.startswith("llamacpp/") for e in window.entries))
            record = ctx.models.find("llamacpp/tiny-llama")
            for size in ((1280, 800), (1920, 1080)):
                for theme in ("light", "dark"):
                    apply_theme(app, theme)
                    window.resize(*size)
                    await asyncio.sleep(0.3)  # a theme change re-shows the selected model
                    window.browser.select_model(record.id)
                    for _ in range(2):  # settled: the server's state shown, and still shown
                        await until(
                            lambda: window.inspector.fields["memory"].text().startswith("llama.cpp")
                        )
                        await asyncio.sleep(0.3)
                    path = out / f"llamacpp_{size[0]}x{size[1]}_{theme}.png"
                    window.grab().save(str(path))
                    written.append(str(path))
            window.close()
            await asyncio.sleep(0.5)  # the window's last reads finish before the clients close
            await ctx.aclose()
        finally:
            server.stop()
    return written


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
    print(json.dumps({"screenshots": written}))


if __name__ == "__main__":
    main()
