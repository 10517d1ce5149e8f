"""The GitHub Models emulator against the official `openai` SDK and the real recorded shapes.

Shapes are compared with ``../shared/protocols/github-models-fixtures/``; those tests skip when
the shared folder is not beside the checkout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.servers.github_models_emulator import (
    CATALOG_KEYS,
    CatalogEntry,
    GitHubModelsEmulator,
    TierLimit,
    standard_catalog,
)

TOKEN = "ghp_test_token"
HI = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


@pytest.fixture
def emu() -> Iterator[GitHubModelsEmulator]:
    with GitHubModelsEmulator() as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
def fixtures(shared_protocols: Path) -> Path:
    path = shared_protocols / "github-models-fixtures"
    if not path.is_dir():
        pytest.skip("../shared/protocols/github-models-fixtures is missing")
    return path


def client(emu: GitHubModelsEmulator, api_key: str = TOKEN, **kw: Any) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=kw.pop("base_url", emu.inference_url), api_key=api_key, **kw)


def aclient(emu: GitHubModelsEmulator, **kw: Any) -> openai.AsyncOpenAI:
    kw.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(base_url=emu.inference_url, api_key=TOKEN, **kw)


def load(fixtures: Path, name: str) -> Any:
    return json.loads((fixtures / name).read_text())


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def header_names(fixtures: Path, name: str) -> set[str]:
    lines = (fixtures / name).read_text().splitlines()[1:]
    return {line.split(":", 1)[0].strip().lower() for line in lines if ":" in line}


def template(message: str) -> re.Pattern[str]:
    """A fixture's 429 message with its numbers and limit name as wildcards."""
    pattern = re.escape(message)
    pattern = re.sub(r"\d+", r"\\d+", pattern)
    pattern = re.sub(r"UserByModelBy\w+", r"\\w+", pattern)
    return re.compile("^" + pattern.replace(r"\d+s", r"[\d.]+s") + "$")


# --------------------------------------------------------------------------- catalog


def test_catalog_is_a_bare_array_served_without_a_token(emu: GitHubModelsEmulator) -> None:
    r = httpx.get(emu.url + "/catalog/models")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list)
    ids = {e["id"] for e in body}
    for wanted in (
        "openai/gpt-4.1",
        "openai/gpt-4o-mini",
        "openai/text-embedding-3-small",
        "meta/Llama-3.3-70B-Instruct",
        "deepseek/DeepSeek-R1",
        "deepseek/DeepSeek-V3-0324",
        "microsoft/Phi-4-multimodal-instruct",
        "mistral-ai/Codestral-2501",
        "cohere/cohere-command-a",
        "xai/grok-3",
    ):
        assert wanted in ids
    by_id = {e["id"]: e for e in body}
    assert by_id["openai/text-embedding-3-small"]["rate_limit_tier"] == "embeddings"
    assert by_id["openai/text-embedding-3-small"]["supported_output_modalities"] == ["embeddings"]
    assert "reasoning" in by_id["deepseek/DeepSeek-R1"]["tags"]
    assert {"image", "audio"} <= set(
        by_id["microsoft/Phi-4-multimodal-instruct"]["supported_input_modalities"]
    )
    assert by_id["xai/grok-3"]["rate_limit_tier"] == "custom"
    assert emu.count("/catalog/models", "GET") == 1


def test_catalog_keys_and_types_match_the_real_catalog(
    emu: GitHubModelsEmulator, fixtures: Path
) -> None:
    real = load(fixtures, "catalog.json")
    real_keys = {frozenset(e) for e in real}
    assert real_keys == {frozenset(CATALOG_KEYS)}, "fixture changed: update CATALOG_KEYS"
    ours = httpx.get(emu.url + "/catalog/models").json()
    by_id = {e["id"]: e for e in ours}
    for entry in ours:
        assert set(entry) == set(CATALOG_KEYS), entry["id"]
        for key, value in entry.items():
            assert type(value) is type(real[0][key]), (entry["id"], key)
        assert set(entry["limits"]) == set(real[0]["limits"])
    # The fixture's own entries are served as recorded (gpt-4.1-mini's summary was cut there).
    for recorded in real:
        served = dict(by_id[recorded["id"]])
        if recorded["summary"].endswith("...."):
            served.pop("summary")
            recorded = {k: v for k, v in recorded.items() if k != "summary"}
        assert served == recorded


# --------------------------------------------------------------------------- chat


def test_chat_non_stream_matches_the_real_openai_body(
    emu: GitHubModelsEmulator, fixtures: Path
) -> None:
    c = client(emu)
    raw = c.chat.completions.with_raw_response.create(model="OpenAI/GPT-4o-mini", messages=HI)
    body = raw.http_response.json()
    real = load(fixtures, "chat_completion.json")
    assert list(body) == list(real)
    assert list(body["choices"][0]) == list(real["choices"][0])
    assert list(body["choices"][0]["message"]) == list(real["choices"][0]["message"])
    assert body["usage"].keys() == real["usage"].keys()
    assert body["model"] == real["model"] == "gpt-4o-mini-2024-07-18"
    assert body["id"].startswith("chatcmpl-")
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello from the cloud."
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert raw.headers["x-ratelimit-limit-requests"] == "15"  # gpt-4o-mini is "low"
    assert raw.headers["x-ratelimit-remaining-requests"] == "14"


def test_chat_non_openai_model_matches_the_real_deepseek_body(
    emu: GitHubModelsEmulator, fixtures: Path
) -> None:
    raw = client(emu).chat.completions.with_raw_response.create(
        model="deepseek/DeepSeek-V3-0324", messages=HI
    )
    body = raw.http_response.json()
    real = load(fixtures, "chat_completion_deepseek_v3.json")
    assert list(body) == list(real)
    assert body["choices"][0].keys() == real["choices"][0].keys()
    assert body["choices"][0]["message"] == {
        **real["choices"][0]["message"],
        "content": "Hello from the cloud.",
    }
    assert body["usage"].keys() == real["usage"].keys()
    assert body["usage"]["prompt_tokens_details"] is None
    assert body["model"] == real["model"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])


def test_stream_opens_with_the_empty_chunk_and_ends_with_done(emu: GitHubModelsEmulator) -> None:
    stream = client(emu).chat.completions.create(model="openai/gpt-4.1", messages=HI, stream=True)
    chunks = list(stream)
    assert chunks[0].choices == [] and chunks[0].id == "" and chunks[0].model == ""
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the cloud."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert {c.model for c in chunks[1:]} == {"gpt-4.1-2025-04-14"}
    assert chunks[-1].choices[0].finish_reason == "stop"

    emu.empty_first_chunk = False
    first = next(
        iter(client(emu).chat.completions.create(model="openai/gpt-4.1", messages=HI, stream=True))
    )
    assert first.choices and first.choices[0].delta.role == "assistant"


def test_stream_wire_format_matches_the_recorded_azure_stream(
    emu: GitHubModelsEmulator, fixtures: Path
) -> None:
    real = [json.loads(p) for p in sse_payloads((fixtures / "chat_stream.sse").read_text())[:-1]]
    with httpx.stream(
        "POST",
        emu.inference_url + "/chat/completions",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        json={"model": "openai/gpt-4.1", "messages": HI, "stream": True},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["transfer-encoding"] == "chunked"
        text = r.read().decode()
    assert re.fullmatch(r"(data: [^\n]+\n\n)+", text)
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]"
    ours = [json.loads(p) for p in payloads[:-1]]
    assert ours[0] == real[0]  # the empty opening chunk, prompt filters included
    for mine, theirs in ((ours[1], real[1]), (ours[2], real[2]), (ours[-1], real[-1])):
        assert list(mine) == list(theirs)
        assert list(mine["choices"][0]) == list(theirs["choices"][0])
        assert mine["choices"][0]["delta"].keys() == theirs["choices"][0]["delta"].keys()
        assert mine["choices"][0]["content_filter_results"].keys() == (
            theirs["choices"][0]["content_filter_results"].keys()
        )


def test_stream_include_usage_sends_a_usage_chunk(emu: GitHubModelsEmulator) -> None:
    chunks = list(
        client(emu).chat.completions.create(
            model="openai/gpt-4.1",
            messages=HI,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_tool_calls_non_stream_and_stream(emu: GitHubModelsEmulator) -> None:
    c = client(emu)
    ask = [{"role": "user", "content": "What's the weather in Paris?"}]
    done = c.chat.completions.create(model="openai/gpt-4.1", messages=ask, tools=[WEATHER_TOOL])
    choice = done.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Paris"}

    name, args, finish = "", "", None
    for chunk in c.chat.completions.create(
        model="openai/gpt-4.1", messages=ask, tools=[WEATHER_TOOL], stream=True
    ):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        for tc in delta.tool_calls or []:
            name += tc.function.name or "" if tc.function else ""
            args += (tc.function.arguments or "") if tc.function else ""
        finish = chunk.choices[0].finish_reason or finish
    assert (name, json.loads(args), finish) == ("get_weather", {"location": "Paris"}, "tool_calls")

    follow_up = [
        *ask,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'},
    ]
    answer = c.chat.completions.create(
        model="openai/gpt-4.1", messages=follow_up, tools=[WEATHER_TOOL]
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content == "Hello from the cloud."
    # No weather, no call.
    plain = c.chat.completions.create(model="openai/gpt-4.1", messages=HI, tools=[WEATHER_TOOL])
    assert plain.choices[0].message.tool_calls is None


def test_org_attributed_inference(emu: GitHubModelsEmulator) -> None:
    c = client(emu, base_url=emu.org_inference_url("octo-org"))
    reply = c.chat.completions.create(model="openai/gpt-4.1", messages=HI)
    assert reply.choices[0].message.content == "Hello from the cloud."
    assert emu.count("/orgs/octo-org/inference/chat/completions", "POST") == 1


def test_keep_alive_reuses_one_connection(emu: GitHubModelsEmulator) -> None:
    c = client(emu)
    for _ in range(3):
        c.chat.completions.create(model="openai/gpt-4o-mini", messages=HI)
    assert emu.connections == 1
    rec = emu.requests[-1]
    assert rec.headers["authorization"] == f"Bearer {TOKEN}"
    assert rec.body["model"] == "openai/gpt-4o-mini"
    # A stream read to its end leaves the connection reusable too. (The SDK stops reading at
    # `data: [DONE]` and closes the response, so it opens a new connection after a stream.)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=emu.inference_url, headers=auth) as http:
        body = {"model": "openai/gpt-4o-mini", "messages": HI, "stream": True}
        with http.stream("POST", "/chat/completions", json=body) as r:
            assert sse_payloads(r.read().decode())[-1] == "[DONE]"
        assert http.post("/chat/completions", json={**body, "stream": False}).status_code == 200
    assert emu.connections == 2


# --------------------------------------------------------------------------- embeddings


def test_embeddings_shape_and_determinism(emu: GitHubModelsEmulator, fixtures: Path) -> None:
    c = client(emu)
    raw = c.embeddings.with_raw_response.create(
        model="openai/text-embedding-3-small", input=["hello", "world"], encoding_format="float"
    )
    body = raw.http_response.json()
    real = load(fixtures, "embeddings_response.json")
    assert list(body) == list(real)
    assert list(body["data"][0]) == list(real["data"][0])
    assert body["usage"].keys() == real["usage"].keys()
    assert body["model"] == "openai/text-embedding-3-small"
    vectors = [d.embedding for d in raw.parse().data]
    assert [len(v) for v in vectors] == [1536, 1536]
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-6) for v in vectors)
    assert vectors[0] != vectors[1]
    # The SDK's default (base64) decodes to the same vector; `dimensions` shortens it.
    again = c.embeddings.create(model="openai/text-embedding-3-small", input="hello")
    assert again.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)
    short = c.embeddings.create(model="openai/text-embedding-3-small", input="hello", dimensions=64)
    assert len(short.data[0].embedding) == 64


def test_embeddings_base64_on_the_wire(emu: GitHubModelsEmulator) -> None:
    r = httpx.post(
        emu.inference_url + "/embeddings",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"model": "openai/text-embedding-3-small", "input": "x", "encoding_format": "base64"},
    )
    packed = base64.b64decode(r.json()["data"][0]["embedding"])
    assert len(struct.unpack(f"<{len(packed) // 4}f", packed)) == 1536


# --------------------------------------------------------------------------- async


def test_async_client_chat_stream_and_embeddings(emu: GitHubModelsEmulator) -> None:
    async def main() -> tuple[str, str, int]:
        async with aclient(emu) as c:
            done = await c.chat.completions.create(model="openai/gpt-4.1", messages=HI)
            parts = []
            stream = await c.chat.completions.create(
                model="openai/gpt-4.1",
                messages=HI,
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            emb = await c.embeddings.create(model="openai/text-embedding-3-small", input="hi")
            return done.choices[0].message.content or "", "".join(parts), len(emb.data[0].embedding)

    assert asyncio.run(main()) == ("Hello from the cloud.", "Hello from the cloud.", 1536)


def test_async_client_sees_errors_and_disconnects(emu: GitHubModelsEmulator) -> None:
    async def main() -> None:
        async with aclient(emu) as c:
            with pytest.raises(openai.NotFoundError):
                await c.chat.completions.create(model="nobody/nothing", messages=HI)
            emu.disconnect_after_chunks = 2
            with pytest.raises(openai.APIConnectionError):
                stream = await c.chat.completions.create(
                    model="openai/gpt-4.1", messages=HI, stream=True
                )
                async for _ in stream:
                    pass

    asyncio.run(main())


# --------------------------------------------------------------------------- errors


def test_401_missing_or_wrong_token(emu: GitHubModelsEmulator, fixtures: Path) -> None:
    real = load(fixtures, "error_401.json")
    with pytest.raises(openai.AuthenticationError) as wrong:
        client(emu, api_key="ghp_wrong").chat.completions.create(
            model="openai/gpt-4.1", messages=HI
        )
    assert wrong.value.status_code == 401
    assert wrong.value.response.json() == real
    assert wrong.value.body == real["error"]
    r = httpx.post(
        emu.inference_url + "/chat/completions", json={"model": "openai/gpt-4.1", "messages": HI}
    )
    assert (r.status_code, r.json()) == (401, real)
    assert emu.accepted_timestamps() == []


def test_404_unknown_model(emu: GitHubModelsEmulator, fixtures: Path) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client(emu).chat.completions.create(model="deepseek/deepseek-v3", messages=HI)
    assert err.value.response.json() == load(fixtures, "error_404_unknown_model.json")


def test_400_listed_but_not_callable(fixtures: Path) -> None:
    gpt5 = CatalogEntry(
        id="openai/gpt-5",
        name="OpenAI gpt-5",
        publisher="OpenAI",
        rate_limit_tier="custom",
        callable=False,
    )
    with GitHubModelsEmulator([*standard_catalog(), gpt5]) as emu:
        listed = {e["id"] for e in httpx.get(emu.url + "/catalog/models").json()}
        assert "openai/gpt-5" in listed
        with pytest.raises(openai.BadRequestError) as err:
            client(emu).chat.completions.create(model="openai/gpt-5", messages=HI)
        assert err.value.response.json() == load(fixtures, "error_400_unavailable_model.json")
        assert err.value.code == "unavailable_model"


def test_413_over_the_tokens_per_request_cap(emu: GitHubModelsEmulator, fixtures: Path) -> None:
    big = [{"role": "user", "content": "x" * (8001 * 4)}]
    with pytest.raises(openai.APIStatusError) as err:
        client(emu).chat.completions.create(model="openai/gpt-4o-mini", messages=big)
    assert err.value.status_code == 413
    assert err.value.response.json() == load(fixtures, "error_413_tokens_limit.json")
    ok = [{"role": "user", "content": "x" * (7999 * 4)}]
    assert client(emu).chat.completions.create(model="openai/gpt-4o-mini", messages=ok).choices


def test_5xx_from_fail_next_then_recovery(emu: GitHubModelsEmulator) -> None:
    emu.fail_next.append((503, {"error": {"code": "ServiceUnavailable", "message": "busy"}}, {}))
    with pytest.raises(openai.InternalServerError) as err:
        client(emu).chat.completions.create(model="openai/gpt-4.1", messages=HI)
    assert err.value.status_code == 503
    # The SDK's own retry gets through once the fault is spent.
    emu.fail_next.append((500, "upstream exploded", {"retry-after-ms": "10"}))
    retrying = client(emu, max_retries=1)
    assert retrying.chat.completions.create(model="openai/gpt-4.1", messages=HI).choices
    assert emu.count("/inference/chat/completions") == 3


def test_malformed_sse_makes_the_sdk_raise(emu: GitHubModelsEmulator) -> None:
    emu.malformed_sse = True
    with pytest.raises((json.JSONDecodeError, openai.APIError)):
        for _ in client(emu).chat.completions.create(
            model="openai/gpt-4.1", messages=HI, stream=True
        ):
            pass


def test_disconnect_mid_stream_makes_the_sdk_raise(emu: GitHubModelsEmulator) -> None:
    emu.disconnect_after_chunks = 3
    got = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client(emu).chat.completions.create(
            model="openai/gpt-4.1", messages=HI, stream=True
        ):
            got.append(chunk)
    assert len(got) <= 3
    emu.disconnect_after_chunks = None
    assert client(emu).chat.completions.create(model="openai/gpt-4.1", messages=HI).choices


# --------------------------------------------------------------------------- rate limits


def test_429_per_minute_with_the_real_body_and_headers(fixtures: Path) -> None:
    real_message = load(fixtures, "error_429.json")["error"]["message"]
    with GitHubModelsEmulator(tiers={"high": TierLimit(3, 100, 5)}, window_s=1.0) as emu:
        c = client(emu)
        for _ in range(3):
            c.chat.completions.create(model="openai/gpt-4.1", messages=HI)
        with pytest.raises(openai.RateLimitError) as err:
            c.chat.completions.create(model="openai/gpt-4.1", messages=HI)
        r = err.value.response
        body = r.json()["error"]
        assert body["code"] == "RateLimitReached" and body["details"] == body["message"]
        assert template(real_message).match(body["message"]), body["message"]
        assert "Rate limit of 3 per 1s exceeded for UserByModelByMinute" in body["message"]
        assert header_names(fixtures, "error_429.headers") - {"content-type"} <= set(r.headers)
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["x-ratelimit-timeremaining"] == r.headers["retry-after"]
        assert r.headers["x-ratelimit-type"] == "UserByModelByMinute"
        assert r.headers["x-ratelimit-remaining-requests"] == "0"
        assert r.headers["x-ratelimit-limit-requests"] == "3"
        # Another model has its own window.
        c.chat.completions.create(model="openai/gpt-4o-mini", messages=HI)
        assert len(emu.accepted_timestamps("OPENAI/GPT-4.1")) == 3
        time.sleep(1.05)
        assert c.chat.completions.create(model="openai/gpt-4.1", messages=HI).choices


def test_sliding_window_never_serves_more_than_n(fixtures: Path) -> None:
    n, window = 4, 0.5
    with GitHubModelsEmulator(tiers={"high": TierLimit(n, 10_000, 10)}, window_s=window) as emu:
        refused = 0
        stop_at = time.monotonic() + 1.6
        lock = threading.Lock()

        def hammer() -> None:
            nonlocal refused
            c = client(emu)
            while time.monotonic() < stop_at:
                try:
                    c.chat.completions.create(model="openai/gpt-4.1", messages=HI)
                except openai.RateLimitError:
                    with lock:
                        refused += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stamps = emu.accepted_timestamps("openai/gpt-4.1")
        assert refused > 0
        assert len(stamps) >= n * 2  # the window slid at least once
        for i, start in enumerate(stamps):
            assert sum(1 for t in stamps[i:] if t - start < window) <= n


def test_429_daily_limit(fixtures: Path) -> None:
    real_message = load(fixtures, "error_429_daily.json")["error"]["message"]
    with GitHubModelsEmulator(tiers={"custom": TierLimit(100, 2, 5)}, window_s=1.0) as emu:
        c = client(emu)
        for _ in range(2):
            c.chat.completions.create(model="xai/grok-3", messages=HI)
        with pytest.raises(openai.RateLimitError) as err:
            c.chat.completions.create(model="xai/grok-3", messages=HI)
        r = err.value.response
        message = r.json()["error"]["message"]
        assert template(real_message).match(message), message
        assert "Rate limit of 2 per 86400s exceeded for UserByModelByDay" in message
        assert header_names(fixtures, "error_429_daily.headers") - {"content-type"} <= set(
            r.headers
        )
        assert r.headers["x-ratelimit-type"] == "UserByModelByDay"
        assert 86000 < int(r.headers["retry-after"]) <= 86400


def test_429_over_the_concurrent_limit(emu: GitHubModelsEmulator) -> None:
    emu.tiers["high"] = TierLimit(100, 100, 1)
    emu.latency_s = 0.4
    results: list[object] = []

    def call() -> None:
        try:
            results.append(client(emu).chat.completions.create(model="openai/gpt-4.1", messages=HI))
        except openai.RateLimitError as exc:
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(errors) == 1 and len(results) == 2
    assert errors[0].response.json()["error"]["message"] == (
        "Rate limit of 1 per 0s exceeded for UserConcurrentRequests. "
        "Please wait 0 seconds before retrying."
    )
    assert errors[0].response.headers["x-ratelimit-type"] == "UserConcurrentRequests"
    assert emu.max_in_flight("openai/gpt-4.1") == 1


def test_default_free_plan_tiers_and_success_headers(emu: GitHubModelsEmulator) -> None:
    c = client(emu)
    remaining = []
    for _ in range(3):
        raw = c.chat.completions.with_raw_response.create(model="openai/gpt-4.1", messages=HI)
        assert raw.headers["x-ratelimit-limit-requests"] == "10"  # "high" on the free plan
        remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
    assert remaining == [9, 8, 7]


# --------------------------------------------------------------------------- openai-compatible


def test_openai_compatible_mode() -> None:
    with GitHubModelsEmulator(token=None, openai_compatible=True) as emu:
        c = client(emu, api_key="anything", base_url=emu.v1_url)
        models = c.models.list()
        ids = [m.id for m in models]
        assert "openai/gpt-4.1" in ids and all(m.object == "model" for m in models)
        assert c.models.retrieve("xai/grok-3").owned_by == "xai"
        reply = c.chat.completions.create(model="openai/gpt-4.1", messages=HI)
        assert reply.choices[0].message.content == "Hello from the cloud."
        chunks = list(c.chat.completions.create(model="openai/gpt-4.1", messages=HI, stream=True))
        assert chunks[0].choices  # no Azure-style empty opening chunk on a generic server
        emb = c.embeddings.create(model="openai/text-embedding-3-small", input="x")
        assert len(emb.data[0].embedding) == 1536
        for _ in range(20):  # no rate limiting without tiers
            c.chat.completions.create(model="xai/grok-3", messages=HI)
        assert httpx.get(emu.url + "/catalog/models").status_code == 404
        with pytest.raises(openai.NotFoundError):
            c.chat.completions.create(model="nope", messages=HI)

    with GitHubModelsEmulator(token="sk-local", openai_compatible=True) as emu:
        with pytest.raises(openai.AuthenticationError):
            client(emu, api_key="wrong", base_url=emu.v1_url).models.list()
        assert client(emu, api_key="sk-local", base_url=emu.v1_url).models.list().data
