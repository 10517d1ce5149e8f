"""OpenAI-style streams become the app's chat chunks: text, thinking, tool calls and final usage."""

from __future__ import annotations

import json
import time
from pathlib import Path

from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk

from desktop_registry.domain.chat import ChatMessage
from desktop_registry.sources.openai_stream import (
    StreamNormaliser,
    ThinkSplitter,
    message_dict,
    request_options,
)


def sse_chunks(path: Path) -> list[ChatCompletionChunk]:
    chunks = []
    for line in path.read_text().splitlines():
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            # As the SDK reads a stream: constructed, not validated (GitHub's empty first
            # chunk has object "" and would fail strict validation).
            data = json.loads(line[5:])
            chunks.append(construct_type(type_=ChatCompletionChunk, value=data))
    return chunks


def chunk(**delta: object) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
    )


def test_a_recorded_github_stream_with_an_empty_first_chunk_reads_as_the_full_reply(
    shared_protocols: Path,
) -> None:
    normaliser = StreamNormaliser(time.perf_counter())
    text = ""
    for part in sse_chunks(shared_protocols / "github-models-fixtures" / "chat_stream.sse"):
        out = normaliser.feed(part)
        if out is not None:
            text += out.content
    final = normaliser.finish()
    assert text == "The capital of France is **Paris**."
    assert final.done and final.usage is not None
    assert final.usage.done_reason == "stop"
    assert final.usage.ttft_s is not None and final.usage.ttft_s >= 0


def test_think_tags_split_across_chunks_become_thinking_not_reply_text() -> None:
    splitter = ThinkSplitter()
    pieces = ["<thi", "nk>Let me ", "count.</th", "ink>The answer", " is 4."]
    content = thinking = ""
    for piece in pieces:
        c, t = splitter.feed(piece)
        content += c
        thinking += t
    c, t = splitter.flush()
    assert content + c == "The answer is 4."
    assert thinking + t == "Let me count."


def test_streamed_tool_call_fragments_arrive_as_one_call_with_parsed_arguments() -> None:
    normaliser = StreamNormaliser(time.perf_counter())
    fragments = [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Pa'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": 'ris"}'}}]},
    ]
    for delta in fragments:
        normaliser.feed(chunk(**delta))
    final = normaliser.finish()
    assert [(c.name, c.arguments, c.id) for c in final.tool_calls] == [
        ("get_weather", {"city": "Paris"}, "call_1")
    ]


def test_reasoning_content_from_local_servers_is_thinking() -> None:
    normaliser = StreamNormaliser(time.perf_counter())
    out = normaliser.feed(chunk(reasoning_content="hmm", content="Hi"))
    assert out is not None and out.thinking == "hmm" and out.content == "Hi"


def test_usage_chunk_fills_tokens_in_and_out() -> None:
    normaliser = StreamNormaliser(time.perf_counter())
    normaliser.feed(chunk(content="Hello"))
    normaliser.feed(chunk(content=" there"))
    normaliser.feed(
        ChatCompletionChunk.model_validate(
            {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [],
                "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
            }
        )
    )
    usage = normaliser.finish().usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (12, 2)


def test_ollama_option_names_map_onto_openai_request_fields() -> None:
    assert request_options({"num_predict": 5, "temperature": 0.2, "num_ctx": 4096}) == {
        "max_tokens": 5,
        "temperature": 0.2,
    }
    assert request_options({"num_predict": -1}) == {}


def test_images_are_sent_as_data_urls() -> None:
    sent = message_dict(ChatMessage(role="user", content="what is this?", images=["/9j/AAAA"]))
    assert sent["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
