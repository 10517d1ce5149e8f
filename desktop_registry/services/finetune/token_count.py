"""Counting a row's tokens with the base model's own tokenizer (a Hugging Face tokenizer.json).

Optional: needs the `tokenizers` package, and says how to get it when it is missing. Never
downloads a tokenizer; it reads a file or a model folder the user already has.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_registry.errors import UserInputError


def tokenizer_counter(path: Path) -> Callable[[str], int]:
    """A function giving the number of tokens of a text, from tokenizer.json or its folder."""
    path = path.expanduser()
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise UserInputError(
            f"no tokenizer at {file}; give a tokenizer.json or a model folder that has one"
        )
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise UserInputError(
            "counting tokens with a tokenizer needs the `tokenizers` package "
            "(pip install tokenizers); without --tokenizer the length is estimated"
        ) from None
    try:
        tokenizer: Any = Tokenizer.from_file(str(file))
    except Exception as exc:  # the library raises a bare Exception for a malformed file
        raise UserInputError(
            f"{file} is not a tokenizer.json the tokenizers package reads: {exc}"
        ) from None

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count
