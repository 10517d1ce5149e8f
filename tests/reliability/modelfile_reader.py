"""Reads a Modelfile the way Ollama's parser (ollama/parser/parser.go, ParseFile) does (test code).

A line-by-line port of its state machine: a value ends at a line break once the text so far,
trimmed, unquotes; only printable runes (Go's strconv.IsPrint) are kept, spaces and line breaks
inside an unfinished value are. Used to check that what the exporter writes reads back the same.
"""

from __future__ import annotations

import unicodedata

COMMANDS = {"from", "license", "template", "system", "adapter", "parameter", "message", "requires"}
ROLES = {"system", "user", "assistant", "tool"}


class ModelfileSyntaxError(ValueError):
    pass


def _is_print(ch: str) -> bool:
    """Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space."""
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


def _unquote(s: str) -> tuple[str, bool]:
    if s[:3] == '"""':
        return (s[3:-3], True) if len(s) >= 6 and s[-3:] == '"""' else ("", False)
    if s[:1] == '"':
        return (s[1:-1], True) if len(s) >= 2 and s[-1] == '"' else ("", False)
    return s, True


def _trim(s: str) -> str:
    return s.strip(" \t\n\r\v\f\x85\xa0")  # Go's strings.TrimSpace (ASCII and Latin-1 spaces)


def read_modelfile(text: str) -> list[tuple[str, str]]:
    """[(command, argument)] in order; PARAMETER's command is the parameter's name and MESSAGE's
    argument is "role: text", as Ollama's parser gives them."""
    out: list[tuple[str, str]] = []
    state, buf, name, role = "nil", "", "", ""
    for ch in text.lstrip("\ufeff"):
        if state == "nil":
            if ch == "#":
                state = "comment"
            elif ch in " \t\r\n":
                pass
            else:
                state, buf = "name", ch if _is_print(ch) else ""
            continue
        if state == "comment":
            if ch in "\r\n":
                state = "nil"
            continue
        if state == "name":
            if ch.isascii() and ch.isalpha():
                buf += ch
                continue
            if ch not in " \t":
                raise ModelfileSyntaxError(f"invalid command {buf + ch!r}")
            command = buf.lower()
            if command not in COMMANDS:
                raise ModelfileSyntaxError(f"unknown command {buf!r}")
            name = "model" if command == "from" else command
            state = {"parameter": "parameter", "message": "message"}.get(command, "value")
            buf = ""
            continue
        if state in ("parameter", "message"):
            if ch.isascii() and (ch.isalnum() or ch == "_"):
                buf += ch
                continue
            if ch not in " \t":
                raise ModelfileSyntaxError("unexpected character in a parameter or role")
            if state == "parameter":
                name = buf
            else:
                if buf not in ROLES:
                    raise ModelfileSyntaxError(f"invalid message role {buf!r}")
                role = buf
            state, buf = "value", ""
            continue
        # state == "value"
        if ch in " \t\r\n":
            value, ok = _unquote(_trim(buf))
            if not ok or ch in " \t":
                buf += ch
                continue
            out.append((name, f"{role}: {value}" if role else value))
            state, buf, role = "nil", "", ""
            continue
        if _is_print(ch):
            buf += ch
    if state == "value":
        value, ok = _unquote(_trim(buf))
        if not ok:
            raise ModelfileSyntaxError("unexpected end of file inside a value")
        out.append((name, f"{role}: {value}" if role else value))
    elif state not in ("nil", "comment"):
        raise ModelfileSyntaxError("unexpected end of file")
    return out
