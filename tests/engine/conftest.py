"""The real-engine tier: llama.cpp's llama-server (built from the pinned sdist, cached) serving the
tiny model built offline, on 127.0.0.1. Every test here is marked `engine`.

In CI (CI=true) a missing engine fails the run; on a user's machine without a compiler, torch or
transformers the tier skips, saying why and how to get it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.engine.build_llama_server import EngineBuildError, ensure_llama_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.engine)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the engine tier cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"engine tier skipped: {reason}")


@dataclass(frozen=True)
class EngineFiles:
    binary: Path
    gguf: Path
    hf_dir: Path
    context_length: int


@pytest.fixture(scope="session")
def engine_files() -> EngineFiles:
    try:
        binary = ensure_llama_server(lambda line: None)
    except EngineBuildError as exc:
        _unavailable(f"llama-server could not be built ({exc}); it needs cmake and a C++ compiler")
    try:
        from tests.engine.tiny_model import ensure_tiny_model

        model = ensure_tiny_model()
    except ImportError as exc:
        _unavailable(
            f"the tiny model needs {exc.name}: pip install torch==2.13.0 transformers "
            "sentencepiece safetensors"
        )
    except EngineBuildError as exc:
        _unavailable(f"the tiny model could not be built ({exc})")
    return EngineFiles(binary, model.gguf, model.hf_dir, model.context_length)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    """One llama-server process; `restart()` brings it back on the same port."""

    files: EngineFiles
    alias: str
    args: tuple[str, ...]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LlamaServer:
        log = open(self.log_dir / f"llama-server-{self.alias}-{self.port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(self.files.binary),
                "-m",
                str(self.files.gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--alias",
                self.alias,
                "-t",
                "1",
                "--no-webui",
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("llama-server did not become healthy in 30 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> LlamaServer:
        self.stop()
        return self.start()


CHAT_ARGS = ("--jinja", "--slots", "--metrics", "-c", "2048", "-np", "2")
EMBED_ARGS = ("--embeddings", "--pooling", "mean", "-c", "512", "-np", "1")


@pytest.fixture(scope="session")
def engine_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-logs")


@pytest.fixture(scope="session")
def chat_server(engine_files: EngineFiles, engine_logs: Path) -> Iterator[LlamaServer]:
    server = LlamaServer(engine_files, "tiny-llama", CHAT_ARGS, engine_logs).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def embed_server(engine_files: EngineFiles, engine_logs: Path) -> Iterator[LlamaServer]:
    server = LlamaServer(engine_files, "tiny-embed", EMBED_ARGS, engine_logs).start()
    yield server
    server.stop()


@pytest.fixture
def own_server(engine_files: EngineFiles, engine_logs: Path) -> Iterator[LlamaServer]:
    """A server of this test's own, free to be killed and restarted."""
    server = LlamaServer(engine_files, "tiny-llama", CHAT_ARGS, engine_logs).start()
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line CI's log can be read for: how the engine tier went, and that nothing skipped."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if "engine" in getattr(report, "keywords", {}) and report.when in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] += 1
    if any(counts.values()):
        terminalreporter.write_line(
            "engine tier (real llama-server): "
            + ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        )
