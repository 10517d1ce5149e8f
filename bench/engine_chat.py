"""The app's streaming chat against a real llama-server vs the bare `openai` client, interleaved.

Same server, prompts and options (temperature 0, 256 tokens); each round runs both, in
alternating order. Prints one JSON object as its last line: ttft_overhead_ms (median app TTFT
minus median bare TTFT), throughput_ratio (median app tokens/s over median bare tokens/s),
tokens (completion tokens streamed in all), rounds. Targets: overhead ≤ 5 ms, ratio ≥ 0.95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPTS = [
    "What is the capital of the small island?",
    "Tell me about the seven bridges.",
    "What does a seed do?",
    "Describe the lighthouse keeper.",
]
MAX_TOKENS = 256


async def app_round(ctx, prompt: str) -> tuple[float, float, int]:
    from desktop_registry.domain.chat import ChatMessage

    started = time.perf_counter()
    first = last = None
    tokens = 0
    async for chunk in ctx.serving().chat(
        "bench/tiny-llama",
        [ChatMessage(role="user", content=prompt)],
        options={"temperature": 0, "num_predict": MAX_TOKENS},
    ):
        now = time.perf_counter()
        if chunk.content and first is None:
            first = now
        if chunk.content:
            last = now
        if chunk.done and chunk.usage:
            tokens = chunk.usage.completion_tokens or 0
    assert first is not None and last is not None
    return (first - started) * 1000, (tokens - 1) / (last - first), tokens


async def bare_round(client, prompt: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = last = None
    tokens = 0
    stream = await client.chat.completions.create(
        model="tiny-llama",
        messages=[{"role": "user", "content": prompt}],
        temperature=0,
        max_tokens=MAX_TOKENS,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for part in stream:
        now = time.perf_counter()
        if part.choices and part.choices[0].delta.content:
            if first is None:
                first = now
            last = now
        if part.usage:
            tokens = part.usage.completion_tokens
    assert first is not None and last is not None
    return (first - started) * 1000, (tokens - 1) / (last - first), tokens


async def run(rounds: int) -> dict[str, float]:
    import openai

    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from tests.engine.build_llama_server import ensure_llama_server
    from tests.engine.conftest import CHAT_ARGS, EngineFiles, LlamaServer
    from tests.engine.tiny_model import ensure_tiny_model

    model = ensure_tiny_model()
    files = EngineFiles(ensure_llama_server(lambda _: None), model.gguf, model.hf_dir, 2048)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        server = LlamaServer(files, "tiny-llama", CHAT_ARGS, home).start()
        ctx = build_context(
            Settings(home=home, ollama_url="http://127.0.0.1:9"), db_path=home / "registry.db"
        )
        client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)
        try:
            ctx.endpoints().add("bench", server.url, kind="llamacpp")
            from desktop_registry.services.sync.llamacpp import LlamaCppSync

            source = ctx.endpoint_source(ctx.endpoints().get("bench"))
            await LlamaCppSync(source, ctx.models).run()  # type: ignore[arg-type]
            app: list[tuple[float, float, int]] = []
            bare: list[tuple[float, float, int]] = []
            for prompt in PROMPTS:  # warm both paths (SDK import, connections, prompt cache)
                await app_round(ctx, prompt)
                await bare_round(client, prompt)
            for n in range(rounds):
                prompt = PROMPTS[n % len(PROMPTS)]
                if n % 2:
                    app.append(await app_round(ctx, prompt))
                    bare.append(await bare_round(client, prompt))
                else:
                    bare.append(await bare_round(client, prompt))
                    app.append(await app_round(ctx, prompt))
        finally:
            await client.close()
            await ctx.aclose()
            ctx.close()
            server.stop()
    return {
        "ttft_overhead_ms": round(
            statistics.median(a[0] for a in app) - statistics.median(b[0] for b in bare), 3
        ),
        "throughput_ratio": round(
            statistics.median(a[1] for a in app) / statistics.median(b[1] for b in bare), 3
        ),
        "tokens": sum(a[2] for a in app) + sum(b[2] for b in bare),
        "rounds": rounds,
        "app_ttft_ms": round(statistics.median(a[0] for a in app), 3),
        "bare_ttft_ms": round(statistics.median(b[0] for b in bare), 3),
        "app_tokens_per_s": round(statistics.median(a[1] for a in app), 1),
        "bare_tokens_per_s": round(statistics.median(b[1] for b in bare), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rounds))))


if __name__ == "__main__":
    main()
