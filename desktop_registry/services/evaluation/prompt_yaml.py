"""Reads a `.prompt.yml`'s YAML in bounded time and memory: a hostile file is refused at import.

Refused, with a line and column: files over MAX_BYTES, text that is not UTF-8 (UTF-16, binary),
nesting deeper than MAX_DEPTH, aliases that expand past MAX_VALUES (an "alias bomb") or refer
to themselves, values YAML cannot build (2020-02-30), numbers that are not finite (.nan, .inf)
and integers of more than MAX_DIGITS digits. Never returns a partial document.
"""

from __future__ import annotations

import codecs
import math
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from desktop_registry.errors import UserInputError

MAX_BYTES = 2_000_000  # a prompt file with thousands of rows is ~1 MB
MAX_DEPTH = 64
MAX_VALUES = 200_000  # values after every alias is expanded
MAX_DIGITS = 4000  # below Python's 4,300-digit int/str limit, so every number can be shown

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _at(origin: str, line: int, column: int) -> str:
    return f"{origin}, line {line}, column {column}"


def decode_prompt_bytes(data: bytes, origin: str) -> str:
    """UTF-8 text (a UTF-8 BOM is allowed), or a UserInputError saying where it is not."""
    if len(data) > MAX_BYTES:
        raise UserInputError(
            f"{origin}: {len(data):,} bytes is more than a prompt file may be "
            f"({MAX_BYTES:,}); split its testData into several files."
        )
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise UserInputError(f"{origin}: the file is {name} text; save it as UTF-8.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise UserInputError(
            f"{_at(origin, line, column)}: byte 0x{data[exc.start]:02x} is not UTF-8 text; "
            "is this a prompt file?"
        ) from None
    return check_text(text, origin)


def check_text(text: str, origin: str) -> str:
    if len(text) > MAX_BYTES:
        raise UserInputError(f"{origin}: more than {MAX_BYTES:,} characters; split the file.")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise UserInputError(
            f"{_at(origin, line, column)}: a NUL character; this looks like a binary file."
        )
    return text


class _Refused(Exception):
    def __init__(self, node_or_mark: Any, message: str) -> None:
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else 0
        self.column = mark.column + 1 if mark is not None else 0


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that stops nesting at MAX_DEPTH before Python's recursion limit does."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _Refused(event, f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # PyYAML's constructors raise plain ValueError for a date like 2020-02-30 or an int
        # over Python's digit limit; say which value it was instead.
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            raise _Refused(
                node, f"{str(node.value)[:40]!r} is not a value YAML can read ({exc})"
            ) from None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node) -> None:
    """Count the values the document holds once aliases are expanded, without expanding them
    (each shared node is sized once), and find an alias that contains itself. Iterative: an
    alias chain can be deeper than Python's recursion limit."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > MAX_VALUES:
                raise _Refused(
                    node,
                    f"expands to more than {MAX_VALUES:,} values once its aliases are "
                    "followed (an alias bomb?)",
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _Refused(node, "an alias refers to the value that contains it")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise _Refused(child, "an alias refers to the value that contains it")
            if id(child) not in sizes:
                stack.append((child, False))


def _too_long(value: Any) -> bool:
    # bit_length, not str(): str() of such an int is what raises.
    return isinstance(value, int) and value.bit_length() > MAX_DIGITS * 3.32


def _check_numbers(data: Any, origin: str) -> None:
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise UserInputError(
                f"{origin}: {path or 'the document'} is {value}; numbers must be finite."
            )
        if _too_long(value):
            raise UserInputError(
                f"{origin}: {path or 'the document'} is a number of more than {MAX_DIGITS:,} "
                "digits; write it as a string."
            )
        if isinstance(value, dict):
            for k in value:
                if _too_long(k):
                    raise UserInputError(
                        f"{origin}: {path or 'the document'} has a key of more than "
                        f"{MAX_DIGITS:,} digits; write it as a string."
                    )
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))


def load_yaml(text: str, origin: str) -> Any:
    """The document of `text`, or a UserInputError naming the line and column at fault."""
    check_text(text, origin)
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # reads ahead: a control character is refused here
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        data = loader.construct_document(node)
    except _Refused as exc:
        raise UserInputError(f"{_at(origin, exc.line, exc.column)}: {exc}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _at(origin, mark.line + 1, mark.column + 1) if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserInputError(f"{where}: not valid YAML ({problem}).") from None
    finally:
        if loader is not None:
            loader.dispose()
    _check_numbers(data, origin)
    return data
