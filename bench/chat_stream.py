"""Streaming overhead of services/serving/service.py versus the bare official `openai` client.

Both read the same GitHub Models emulator stream on a real socket, interleaved run by run.
Prints one JSON object as its last line: ttft_overhead_ms (median serving TTFT minus median
bare TTFT) and throughput_ratio (median serving tokens/s over median bare tokens/s).

    python bench/chat_stream.py [--runs 40] [--words 300] [--chunk-delay-ms 1]
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

import openai  # noqa: E402

from desktop_registry.domain import Source  # noqa: E402
from desktop_registry.domain.chat import ChatMessage  # noqa: E402
from desktop_registry.services.serving.service import ServingService  # noqa: E402
from desktop_registry.services.sync.remote import CatalogCache, GitHubModelsSync  # noqa: E402
from desktop_registry.sources.github_models import GitHubModelsSource  # noqa: E402
from desktop_registry.sources.rate_limit import RateLimiter  # noqa: E402
from desktop_registry.storage import Database, ModelRepository  # noqa: E402
from tests.servers.github_models_emulator import (  # noqa: E402
    CatalogEntry,
    GitHubModelsEmulator,
)
from tests.servers.github_models_emulator import TierLimit as ServerTier  # noqa: E402

MODEL = "openai/gpt-4.1"
PROMPT = [{"role": "user", "content": "Tell me a long story."}]


def reply_text(words: int) -> str:
    vocabulary = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "while",
        "rivers",
        "run",
        "to",
        "the",
        "sea",
    ]
    return " ".join(vocabulary[i % len(vocabulary)] for i in range(words)) + "."


async def bare_run(client: openai.AsyncOpenAI) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = last = None
    pieces = 0
    stream = await client.chat.completions.create(
        model=MODEL, messages=PROMPT, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in stream:
        for choice in chunk.choices or []:
            if choice.delta and choice.delta.content:
                now = time.perf_counter()
                first = first or now
                last = now
                pieces += 1
    assert first is not None and last is not None
    return first - started, last - first, pieces


async def serving_run(service: ServingService, record: object) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = last = None
    pieces = 0
    async for chunk in service.chat(
        record, [ChatMessage(role="user", content=PROMPT[0]["content"])]
    ):  # type: ignore[arg-type]
        if chunk.content:
            now = time.perf_counter()
            first = first or now
            last = now
            pieces += 1
    assert first is not None and last is not None
    return first - started, last - first, pieces


async def main(runs: int, words: int, chunk_delay_s: float) -> dict[str, object]:
    catalog = [
        CatalogEntry(
            id=MODEL,
            name="OpenAI GPT-4.1",
            publisher="OpenAI",
            rate_limit_tier="high",
            reply=reply_text(words),
        )
    ]
    unlimited = {
        "high": ServerTier(requests_per_minute=100000, requests_per_day=10**7, concurrent=64)
    }
    with (
        GitHubModelsEmulator(catalog, tiers=unlimited) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        emu.chunk_delay_s = chunk_delay_s
        db = Database.open(Path(tmp) / "registry.db")
        repo = ModelRepository(db)
        source = GitHubModelsSource(emu.url, token=lambda: emu.token, gate=RateLimiter({}))
        await GitHubModelsSync(source, repo, CatalogCache(Path(tmp) / "catalog.json")).run()
        service = ServingService(repo, {})
        service.register_backend(Source.GITHUB_MODELS, source)
        record = repo.resolve(MODEL)  # resolved once, as the chat pane holds its record
        bare = openai.AsyncOpenAI(base_url=emu.inference_url, api_key=emu.token, max_retries=0)

        for _ in range(3):  # warm both connection pools
            await bare_run(bare)
            await serving_run(service, record)
        bare_ttft, bare_tps, serve_ttft, serve_tps = [], [], [], []
        pieces = 0
        for n in range(runs):
            order = (True, False) if n % 2 == 0 else (False, True)
            for use_bare in order:
                if use_bare:
                    ttft, span, pieces = await bare_run(bare)
                    bare_ttft.append(ttft)
                    bare_tps.append((pieces - 1) / span)
                else:
                    ttft, span, pieces = await serving_run(service, record)
                    serve_ttft.append(ttft)
                    serve_tps.append((pieces - 1) / span)
        await bare.close()
        await source.aclose()
        db.dispose()

    return {
        "runs": runs,
        "chunks_per_reply": pieces,
        "chunk_delay_ms": chunk_delay_s * 1000,
        "bare_ttft_ms": round(statistics.median(bare_ttft) * 1000, 3),
        "serving_ttft_ms": round(statistics.median(serve_ttft) * 1000, 3),
        "bare_chunks_per_s": round(statistics.median(bare_tps), 1),
        "serving_chunks_per_s": round(statistics.median(serve_tps), 1),
        "ttft_overhead_ms": round(
            (statistics.median(serve_ttft) - statistics.median(bare_ttft)) * 1000, 3
        ),
        "throughput_ratio": round(statistics.median(serve_tps) / statistics.median(bare_tps), 4),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--chunk-delay-ms", type=float, default=1.0)
    args = parser.parse_args()
    result = asyncio.run(main(args.runs, args.words, args.chunk_delay_ms / 1000))
    print(json.dumps(result))
