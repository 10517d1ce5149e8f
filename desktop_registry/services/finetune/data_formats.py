"""Reading training-data files row by row: jsonl, csv, plain text and ShareGPT conversations.

Yields each row as a normalized example or the reason it is bad, with its 1-based line; never
holds more than one row in memory and never lets a malformed row raise past it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from desktop_registry.domain.finetune import CsvColumns, DataFormat
from desktop_registry.domain.text import kind_of, shown_safely
from desktop_registry.errors import UserInputError

# A row longer than this cannot fit any model's context; it is reported, not read into memory.
MAX_ROW_BYTES = 16 * 1024 * 1024
_SUFFIXES = {
    ".jsonl": DataFormat.JSONL,
    ".json": DataFormat.JSONL,
    ".ndjson": DataFormat.JSONL,
    ".csv": DataFormat.CSV,
    ".tsv": DataFormat.CSV,
    ".txt": DataFormat.TEXT,
    ".text": DataFormat.TEXT,
    ".md": DataFormat.TEXT,
}
_SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
}
_CHAT_ROLES = {"system": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True, slots=True)
class Example:
    """A clean row: `messages` as (role, content) pairs, or a prompt/completion pair."""

    line: int
    messages: tuple[tuple[str, str], ...] | None = None
    prompt: str = ""
    completion: str = ""

    def texts(self) -> list[str]:
        if self.messages is not None:
            return [content for _, content in self.messages]
        return [self.prompt, self.completion] if self.prompt else [self.completion]

    def key(self) -> bytes:
        """The row's content, written so two rows are exact duplicates iff their keys are equal."""
        if self.messages is not None:
            body = "\x1e".join(f"{role}\x1f{content}" for role, content in self.messages)
            return b"C" + body.encode("utf-8")
        return b"P" + f"{self.prompt}\x1e{self.completion}".encode()


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    reason: str


Row = Example | Problem


class _Bad(Exception):
    """A row is bad for `reason`; caught by the reader of that row, never seen by a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_for(path: Path, chosen: DataFormat | None) -> DataFormat:
    if chosen is not None:
        return chosen
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise UserInputError(
            f"cannot tell the format of {path.name} from its name; choose one with "
            "--format jsonl|csv|text|conversation"
        )
    return found


def read_rows(
    stream: IO[bytes], fmt: DataFormat, columns: CsvColumns | None = None, *, tabs: bool = False
) -> Iterator[Row]:
    """Every row of `stream` in file order (blank lines are not rows)."""
    if fmt is DataFormat.CSV:
        return _csv_rows(stream, columns or CsvColumns(), "\t" if tabs else ",")
    if fmt is DataFormat.TEXT:
        return _text_rows(stream)
    return _json_rows(stream, conversations_only=fmt is DataFormat.CONVERSATION)


def _physical_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, why not): each line decoded, a too-long one skipped unread."""
    number = 0
    while True:
        raw = stream.readline(MAX_ROW_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_ROW_BYTES and not raw.endswith(b"\n"):
            while (more := stream.readline(1 << 20)) and not more.endswith(b"\n"):
                pass
            yield number, None, f"row is longer than {MAX_ROW_BYTES // (1024 * 1024)} MiB"
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # the byte-order mark Excel and Notepad write
        try:
            yield number, raw.decode("utf-8"), ""
        except UnicodeDecodeError as exc:
            yield (
                number,
                None,
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
            )


def _name(key: str) -> str:
    return shown_safely(key if len(key) <= 40 else key[:40] + "…")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{where} must be text, got {kind_of(value)}")
    if not value.strip():
        raise _Bad(f"empty text in {where}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        raise _Bad(f"{where} has an unpaired surrogate \\u{code:04x} (not valid Unicode)") from None
    return value


def _field(obj: dict[str, Any], key: str) -> str:
    if key not in obj:
        raise _Bad(f"missing field '{key}'")
    return _text(obj[key], f"'{key}'")


def _chat(
    turns: Any, field: str, role_key: str, content_key: str, roles: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    if not isinstance(turns, list):
        raise _Bad(
            f"'{field}' must be a list of {{{role_key}, {content_key}}}, got {kind_of(turns)}"
        )
    if not turns:
        raise _Bad(f"empty conversation in '{field}'")
    out: list[tuple[str, str]] = []
    for number, turn in enumerate(turns, 1):
        if not isinstance(turn, dict):
            raise _Bad(f"message {number} must be an object with '{role_key}' and '{content_key}'")
        if role_key not in turn:
            raise _Bad(f"message {number}: missing field '{role_key}'")
        given = turn[role_key]
        role = roles.get(given.lower()) if isinstance(given, str) else None
        if role is None:
            shown = _name(given) if isinstance(given, str) else kind_of(given)
            raise _Bad(f"message {number}: unknown role '{shown}' (expected {', '.join(roles)})")
        if content_key not in turn:
            raise _Bad(f"message {number}: missing field '{content_key}'")
        content = _text(turn[content_key], f"message {number} ({role})")
        _check_order(out, role, number)
        out.append((role, content))
    if out[-1][0] != "assistant":
        raise _Bad(
            f"wrong role order: the conversation ends with a '{out[-1][0]}' message; "
            "it must end with the assistant's reply"
        )
    return tuple(out)


def _check_order(before: list[tuple[str, str]], role: str, number: int) -> None:
    previous = before[-1][0] if before else None
    if role == "system":
        if previous is not None:
            raise _Bad(
                f"wrong role order: message {number} is a system message; only the first may be"
            )
        return
    expected = "assistant" if previous == "user" else "user"
    if role != expected:
        after = f"after '{previous}'" if previous else "first"
        raise _Bad(
            f"wrong role order: message {number} is '{role}' {after} (expected '{expected}')"
        )


def _sharegpt(obj: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    turns = _chat(obj["conversations"], "conversations", "from", "value", _SHAREGPT_ROLES)
    system = obj.get("system")
    if system is None or (isinstance(system, str) and not system.strip()):
        return turns
    if turns[0][0] == "system":
        raise _Bad("a 'system' field and a system turn: keep one")
    return (("system", _text(system, "'system'")), *turns)


def example_from_object(obj: Any, line: int, *, conversations_only: bool = False) -> Example:
    """A JSON row as an example, in whichever of the accepted shapes it has."""
    if not isinstance(obj, dict):
        raise _Bad(f"expected a JSON object on each line, got {kind_of(obj)}")
    if conversations_only or "conversations" in obj:
        if "conversations" not in obj:
            raise _Bad("missing field 'conversations' (ShareGPT: a list of {from, value})")
        return Example(line, messages=_sharegpt(obj))
    if "messages" in obj:
        return Example(
            line, messages=_chat(obj["messages"], "messages", "role", "content", _CHAT_ROLES)
        )
    if "prompt" in obj or "completion" in obj:
        return Example(line, prompt=_field(obj, "prompt"), completion=_field(obj, "completion"))
    if "instruction" in obj or "output" in obj:
        prompt = _field(obj, "instruction")
        extra = obj.get("input")
        if extra is not None and not isinstance(extra, str):
            raise _Bad(f"'input' must be text, got {kind_of(extra)}")
        if extra and extra.strip():
            prompt = prompt + "\n\n" + _text(extra, "'input'")
        return Example(line, prompt=prompt, completion=_field(obj, "output"))
    if "text" in obj:
        return Example(line, completion=_field(obj, "text"))
    keys = ", ".join(_name(str(k)) for k in list(obj)[:8]) or "none"
    raise _Bad(
        "missing field: expected prompt/completion, instruction/output, messages, "
        f"conversations or text (found: {keys})"
    )


def _json_rows(stream: IO[bytes], *, conversations_only: bool) -> Iterator[Row]:
    for line, text, why in _physical_lines(stream):
        if text is None:
            yield Problem(line, why)
            continue
        if not text.strip():
            continue
        try:
            obj = json.loads(text.rstrip("\r\n"))
        except RecursionError:
            yield Problem(line, "invalid JSON: nested too deeply")
            continue
        except ValueError as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            column = f" at column {exc.pos + 1}" if isinstance(exc, json.JSONDecodeError) else ""
            yield Problem(line, f"invalid JSON: {detail}{column}")
            continue
        try:
            yield example_from_object(obj, line, conversations_only=conversations_only)
        except _Bad as bad:
            yield Problem(line, bad.reason)


def _text_rows(stream: IO[bytes]) -> Iterator[Row]:
    """Paragraphs separated by blank lines; a bad line spoils its paragraph."""
    start = 0
    parts: list[str] = []
    size = 0
    spoiled: Problem | None = None

    def finish() -> Row | None:
        if not start:
            return None
        if spoiled is not None:
            return spoiled
        return Example(start, completion="\n".join(parts))

    for line, text, why in _physical_lines(stream):
        if text is not None and not text.strip():
            row = finish()
            if row is not None:
                yield row
            start, parts, size, spoiled = 0, [], 0, None
            continue
        start = start or line
        if spoiled is not None:
            continue
        if text is None:
            spoiled = Problem(line, why)
            parts = []
            continue
        size += len(text)
        if size > MAX_ROW_BYTES:
            spoiled = Problem(
                start, f"paragraph is longer than {MAX_ROW_BYTES // (1024 * 1024)} MiB"
            )
            parts = []
            continue
        parts.append(text.rstrip("\r\n"))
    row = finish()
    if row is not None:
        yield row


def _csv_rows(stream: IO[bytes], columns: CsvColumns, delimiter: str) -> Iterator[Row]:
    tainted: dict[int, str] = {}

    def decoded() -> Iterator[str]:
        for line, text, why in _physical_lines(stream):
            if text is None:
                tainted[line] = why
                yield "\n"
            else:
                yield text

    reader = csv.reader(decoded(), delimiter=delimiter)
    header: list[str] | None = None
    picks: list[tuple[str, int]] = []
    consumed = 0
    while True:
        start = consumed + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if reader.line_num == consumed:  # nothing read: the reader cannot go on
                return
            consumed = reader.line_num
            yield Problem(start, f"malformed CSV: {exc}")
            continue
        consumed = reader.line_num
        spoilt = [(n, tainted.pop(n)) for n in sorted(tainted) if n <= consumed]
        if not spoilt and all(not cell.strip() for cell in record):
            continue
        if header is None:
            if spoilt:
                raise UserInputError(f"the CSV header (line {spoilt[0][0]}) is {spoilt[0][1]}")
            header = record
            picks = _pick_columns(header, columns)
            continue
        if spoilt:
            yield Problem(*spoilt[0])
            continue
        yield _csv_example(record, header, picks, start, consumed)


def _csv_example(
    record: list[str], header: list[str], picks: list[tuple[str, int]], start: int, end: int
) -> Row:
    if len(record) != len(header):
        spans = f" (it runs to line {end}: an unclosed quote?)" if end > start else ""
        return Problem(start, f"expected {len(header)} columns, found {len(record)}{spans}")
    values: dict[str, str] = {}
    try:
        for role, index in picks:
            values[role] = _text(record[index], f"column '{_name(header[index])}'")
    except _Bad as bad:
        return Problem(start, bad.reason)
    if "system" in values:
        messages = (
            ("system", values["system"]),
            ("user", values["prompt"]),
            ("assistant", values["completion"]),
        )
        return Example(start, messages=messages)
    return Example(start, prompt=values["prompt"], completion=values["completion"])


def _pick_columns(header: list[str], columns: CsvColumns) -> list[tuple[str, int]]:
    names = [cell.strip() for cell in header]
    wanted: list[tuple[str, str]] = [("prompt", columns.prompt), ("completion", columns.completion)]
    if columns.system:
        wanted.append(("system", columns.system))
    picks = []
    for role, column in wanted:
        index = _column_index(names, column)
        if index is None:
            shown = ", ".join(_name(n) for n in names[:20])
            raise UserInputError(
                f"the CSV has no column '{_name(column)}' for the {role} (its header: {shown}); "
                f"choose with --columns prompt=COL,completion=COL"
            )
        picks.append((role, index))
    return picks


def _column_index(names: list[str], column: str) -> int | None:
    if column in names:
        return names.index(column)
    lowered = [n.lower() for n in names]
    if column.lower() in lowered:
        return lowered.index(column.lower())
    if column.isdigit() and 1 <= int(column) <= len(names):
        return int(column) - 1
    return None


def parse_columns(text: str) -> CsvColumns:
    """`prompt=question,completion=answer[,system=COL]` as CsvColumns."""
    chosen: dict[str, str] = {}
    for item in (part for part in text.split(",") if part.strip()):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("prompt", "completion", "system") or not value.strip():
            raise UserInputError(
                f"--columns {item!r}: expected prompt=COL,completion=COL (and optionally system=COL)"
            )
        chosen[key] = value.strip()
    return CsvColumns(**chosen)
