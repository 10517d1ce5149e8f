"""A study on the real engine: temperature has a real effect on a fixed-seed exact-match suite
(the expected answers are llama-server's own greedy replies), and the best trial beats the worst."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openai
import yaml

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from desktop_registry.domain.optimization import StudyRequest
from desktop_registry.services.optimization.space import parse_range
from tests.engine.conftest import LlamaServer
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

MODEL = "tiny/tiny-llama"
PROMPTS = ["What is the capital of the small island?", "Tell me about the old harbour.",
           "Where does the river go?"]  # fmt: skip


def test_a_temperature_study_on_llama_server_finds_greedy_decoding_best(
    capsys, data_home: Path, chat_server: LlamaServer, tmp_path: Path
) -> None:
    bare = openai.OpenAI(base_url=chat_server.url + "/v1", api_key="x")
    rows = []
    for prompt in PROMPTS:  # what the engine itself answers greedily: the "right" answers
        reply = bare.chat.completions.create(
            model="tiny-llama", messages=[{"role": "user", "content": prompt}],
            temperature=0, max_tokens=16, seed=42,
        )  # fmt: skip
        rows.append({"q": prompt, "expected": (reply.choices[0].message.content or "").strip()})
    assert all(r["expected"] for r in rows)
    suite = tmp_path / "greedy.prompt.yml"
    suite.write_text(yaml.safe_dump({
        "name": "Greedy", "model": MODEL,
        "modelParameters": {"maxTokens": 16, "seed": 42},
        "messages": [{"role": "user", "content": "{{q}}"}],
        "testData": rows,
        "evaluators": [{"name": "exact", "string": {"equals": "{{expected}}"}}],
    }))  # fmt: skip
    with OllamaEmulator(standard_models()) as ollama:
        db = str(data_home / "registry.db")
        endpoint = ["--db", db, "endpoint", "add", "tiny", chat_server.url, "--kind", "llamacpp"]
        assert cli(endpoint) == 0
        assert cli(["--db", db, "sync", "--ollama-url", ollama.url]) == 0
        capsys.readouterr()
        ctx = build_context(Settings(ollama_url=ollama.url), db_path=data_home / "registry.db")
        service = ctx.optimization(tracked=False)
        request = StudyRequest(
            model=MODEL, suite=str(suite), strategy="grid", trials=3, study_name="engine",
            space=[parse_range("temperature=0:2:1")],
        )  # fmt: skip

        async def go():
            try:
                return await service.optimize(request)
            finally:
                await ctx.aclose()

        summary = asyncio.run(go())
        trials = service.trials("engine")
        ctx.close()
    values = {t.params["temperature"]: t.value for t in trials}
    assert summary.trials == 3 and set(values) == {0, 1, 2}
    assert summary.best_params == {"temperature": 0}
    assert values[0] == 1.0  # greedy decoding repeats the engine's own greedy answers
    assert summary.best_value is not None and summary.best_value > min(values.values())
