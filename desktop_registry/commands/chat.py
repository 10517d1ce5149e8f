"""CLI chat: `chat MODEL "prompt"` streams a reply from any registered model, local or remote.

Never prints a traceback for a server's failure: the serving service raises our errors only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from desktop_registry.commands.output import run_coroutine
from desktop_registry.errors import UserInputError

if TYPE_CHECKING:
    from desktop_registry.app import AppContext
    from desktop_registry.domain.chat import ChatUsage


def usage_line(usage: ChatUsage | None) -> str:
    if usage is None:
        return "usage: not reported"
    parts = [
        f"{usage.prompt_tokens if usage.prompt_tokens is not None else '?'} tokens in",
        f"{usage.completion_tokens if usage.completion_tokens is not None else '?'} out",
    ]
    if usage.ttft_s is not None:
        parts.append(f"first token {usage.ttft_s:.3f} s")
    if usage.tokens_per_s is not None:
        parts.append(f"{usage.tokens_per_s:.1f} tokens/s")
    if usage.wall_s is not None:
        parts.append(f"{usage.wall_s:.2f} s total")
    return "usage: " + " · ".join(parts)


def cmd_chat(args: argparse.Namespace, ctx: AppContext) -> int:
    from desktop_registry.domain.chat import ChatMessage

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    messages = [ChatMessage(role="system", content=args.system)] if args.system else []
    messages.append(ChatMessage(role="user", content=prompt))
    options: dict[str, Any] = parse_options(args.option or [])
    if args.temperature is not None:
        options["temperature"] = args.temperature
    if args.max_tokens is not None:
        options["num_predict"] = args.max_tokens

    async def run() -> ChatUsage | None:
        usage: ChatUsage | None = None
        wrote = thought = False
        try:
            service = ctx.serving()
            async for chunk in service.chat(
                args.model,
                messages,
                options=options or None,
                think=args.think,
                stream=not args.no_stream,
            ):
                if chunk.thinking and args.show_thinking:
                    sys.stderr.write(chunk.thinking)
                    sys.stderr.flush()
                    thought = True
                if chunk.content:
                    sys.stdout.write(chunk.content)
                    sys.stdout.flush()
                    wrote = True
                for call in chunk.tool_calls:
                    sys.stdout.write(f"\n[tool call] {call.name}({json.dumps(call.arguments)})")
                    wrote = True
                if chunk.done:
                    usage = chunk.usage
        finally:
            if thought:
                sys.stderr.write("\n")
            if wrote:
                sys.stdout.write("\n")  # a partial reply stays on screen, on its own line
                sys.stdout.flush()
            await ctx.aclose()
        return usage

    usage = run_coroutine(run())
    print(usage_line(usage), file=sys.stderr)
    return 0


def parse_options(items: list[str]) -> dict[str, Any]:
    """`NAME=VALUE` pairs; VALUE is JSON when it parses (numbers, true, objects), else text."""
    options: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserInputError(f"--option {item!r}: write it as NAME=VALUE, e.g. top_k=20.")
        try:
            options[name.strip()] = json.loads(value)
        except ValueError:
            options[name.strip()] = value
    return options


def add_commands(sub: Any) -> None:
    p = sub.add_parser("chat", help="stream a reply from any registered model")
    p.add_argument("model", help="a registry name, e.g. qwen3:8b or openai/gpt-4.1")
    p.add_argument("prompt", help='the prompt ("-" reads it from stdin)')
    p.add_argument("--system", help="a system prompt")
    p.add_argument("--temperature", type=float)
    p.add_argument(
        "--no-stream",
        action="store_true",
        help="ask for the whole reply at once (servers that cannot still stream)",
    )
    p.add_argument(
        "--option",
        "-o",
        action="append",
        metavar="NAME=VALUE",
        help="a generation option the model's server takes, e.g. top_k=20, seed=7, min_p=0.05 "
        "(repeatable; a value is read as JSON when it parses, else as text)",
    )
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--think", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--show-thinking", action="store_true", help="print thinking on stderr")
    p.set_defaults(func=cmd_chat)
