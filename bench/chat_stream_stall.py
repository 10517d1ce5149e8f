"""How long the event loop stalls while the chat pane streams a long Markdown reply.

A real window (offscreen) chats with the Ollama emulator on a real socket; a 10 ms Qt timer
records the gaps between its ticks while the reply (prose, lists and code blocks) streams in
and is rendered block by block. For scale it also times one whole-document Markdown render of
the finished reply: what a re-render per token would cost at the end of the stream.
Prints one JSON object as its last line: max_loop_stall_ms (target < 50), p99_loop_gap_ms,
tokens, chunks_per_s, code_blocks, full_render_ms.

    QT_QPA_PLATFORM=offscreen python bench/chat_stream_stall.py [--sections 12] [--delay-ms 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECTION = """## Step {n}: reading the file

First we open the file and read it line by line. Each line is **stripped** of its newline and
*split* on commas, so that `fields[0]` is the name and `fields[1]` the value. See
[the csv docs](https://docs.python.org/3/library/csv.html) for the quoting rules.

- keep the header row apart
- skip blank lines
- convert numbers with `float()`

```python
def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as handle:
        header = next(handle).rstrip("\\n").split(",")
        for line in handle:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\\n").split(","))))
    return rows  # step {n}
```

| column | type  |
|--------|-------|
| name   | text  |
| value  | float |

"""


def long_markdown(sections: int) -> str:
    return "".join(SECTION.format(n=i + 1) for i in range(sections))


async def until(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the window")
        await asyncio.sleep(0.01)


async def measure(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QLabel

    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.ui.main_window import MainWindow
    from tests.servers.ollama_emulator import OllamaEmulator, standard_models

    reply = long_markdown(args.sections)
    with OllamaEmulator(standard_models()) as emu:
        ctx = build_context(
            Settings(home=home, ollama_url=emu.url, github_models_sync="never"),
            db_path=home / "registry.db",
        )
        window = MainWindow(ctx, QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        window.start()
        window.sync()
        await until(lambda: len(window.entries) == 5)
        await window.tasks.idle()
        emu.model("llama3.1:8b").reply = reply
        emu.chunk_delay_s = args.delay_ms / 1000
        emu.invalidate()
        pane = window.chat_with(ctx.models.find("llama3.1:8b").id)
        await asyncio.sleep(0.3)  # the tab is laid out and painted before the clock starts

        gaps: list[float] = []
        last: list[float] = []

        def tick() -> None:
            now = time.perf_counter()
            if last:
                gaps.append(now - last[0])
            last[:] = [now]

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(tick)
        timer.start()
        started = time.perf_counter()
        last.append(started)  # the send itself is inside the watch (the first builds serving)
        pane.input.prompt.setPlainText("Explain reading a CSV file step by step, with code.")
        pane.input.send_button.click()
        await until(lambda: pane.task is not None and pane.task.done())
        wall = time.perf_counter() - started
        await asyncio.sleep(0.1)  # the last frame and the save are inside the watch too
        timer.stop()

        message = pane.column.history[-1]
        view = pane.column.views[-1]
        assert message.content == reply, "the reply arrived incomplete"
        usage = message.usage
        tokens = usage.completion_tokens if usage and usage.completion_tokens else 0
        probe = QLabel()
        probe.setWordWrap(True)
        probe.resize(600, 100)
        render_started = time.perf_counter()
        probe.setText("")
        probe.setTextFormat(probe.textFormat().MarkdownText)
        probe.setText(reply)
        probe.heightForWidth(600)
        full_render_ms = (time.perf_counter() - render_started) * 1000
        window.close()
        await window.aclose()
        ctx.close()
    gaps_ms = sorted(g * 1000 for g in gaps)
    return {
        "max_loop_stall_ms": round(gaps_ms[-1], 1),
        "p99_loop_gap_ms": round(gaps_ms[int(len(gaps_ms) * 0.99) - 1], 1),
        "median_loop_gap_ms": round(statistics.median(gaps_ms), 1),
        "tokens": tokens,
        "chunks_per_s": round(tokens / wall, 1) if wall else None,
        "reply_chars": len(reply),
        "code_blocks": len(view.body.code_blocks()),
        "full_render_ms": round(full_render_ms, 1),
        "target_ms": 50,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=12)
    parser.add_argument("--delay-ms", type=float, default=4.0, help="emulator delay per chunk")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        # The user's own settings.json and data stay untouched.
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        import qasync
        from PySide6.QtWidgets import QApplication

        from desktop_registry.ui.theme import apply_theme

        app = QApplication([])
        app.setQuitOnLastWindowClosed(False)
        apply_theme(app, "light")
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        result = loop.run_until_complete(measure(args, Path(tmp) / "home"))
        loop.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
