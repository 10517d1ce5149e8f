"""Hostile `.prompt.yml` files are refused at import, naming where, in bounded memory and time.

Each case used to import (and blow up later, at `eval run`) or crash with a Python error.
"""

from __future__ import annotations

import codecs
import tracemalloc
from pathlib import Path

import pytest

from desktop_registry.errors import UserInputError
from desktop_registry.services.evaluation.suite import load_prompt_yml, parse_prompt_yml

GOOD = """name: capitals
model: openai/gpt-4.1
messages:
  - role: user
    content: "Capital of {{country}}?"
testData:
  - &france {country: France, expected: Paris}
  - *france
evaluators:
  - name: has-city
    string: {contains: "{{expected}}"}
"""

# The "billion laughs": nine levels of nine aliases each, 590 bytes that expand to 9^9 values.
BOMB = (
    "name: bomb\nmessages:\n  - role: user\n    content: hi\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{b}: &{b} [*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "testData: [{x: *i}]\n"
)


def refused(text: str) -> str:
    tracemalloc.start()
    try:
        with pytest.raises(UserInputError) as caught:
            parse_prompt_yml(text, origin="evil.prompt.yml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"refusing it took {peak / 2**20:.0f} MiB"
    return str(caught.value)


def test_a_file_with_an_ordinary_alias_still_imports():
    suite = parse_prompt_yml(GOOD, origin="good.prompt.yml")
    assert suite.test_data == [
        {"country": "France", "expected": "Paris"},
        {"country": "France", "expected": "Paris"},
    ]


def test_an_alias_bomb_is_refused_at_import_with_its_line():
    message = refused(BOMB)
    assert "alias bomb" in message
    assert message.startswith("evil.prompt.yml, line ")


def test_a_recursive_alias_is_refused_at_import():
    message = refused(
        "name: loop\nmessages: [{role: user, content: hi}]\ntestData: &rows [{x: *rows}]\n"
    )
    assert "refers to the value that contains it" in message
    assert "line 3" in message


def test_twenty_thousand_open_brackets_are_refused_without_a_recursion_error():
    message = refused("name: deep\nmessages: [{role: user, content: hi}]\nx: " + "[" * 20_000)
    assert "nested more than 64 levels deep" in message
    assert "line 3" in message


@pytest.mark.parametrize(
    ("line", "field"),
    [("  temperature: .nan", "modelParameters.temperature"), ("  maxTokens: .inf", "maxTokens")],
)
def test_numbers_that_are_not_finite_are_refused_naming_the_field(line, field):
    message = refused(
        "name: nan\nmessages: [{role: user, content: hi}]\nmodelParameters:\n" + line + "\n"
    )
    assert field in message and "must be finite" in message


def test_invalid_utf8_is_refused_with_its_line_and_column(tmp_path: Path):
    path = tmp_path / "latin1.prompt.yml"
    path.write_bytes(b"name: caf\xe9\nmessages: []\n")
    with pytest.raises(UserInputError) as caught:
        load_prompt_yml(path)
    assert str(caught.value) == (
        "latin1.prompt.yml, line 1, column 10: byte 0xe9 is not UTF-8 text; is this a prompt file?"
    )


def test_utf16_with_a_bom_is_refused_saying_how_to_fix_it(tmp_path: Path):
    path = tmp_path / "wide.prompt.yml"
    path.write_bytes(codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"))
    with pytest.raises(UserInputError, match="UTF-16 text; save it as UTF-8"):
        load_prompt_yml(path)


def test_a_binary_file_is_refused(tmp_path: Path):
    path = tmp_path / "model.prompt.yml"
    path.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(range(256)) * 8)
    with pytest.raises(UserInputError, match=r"not UTF-8 text|binary file"):
        load_prompt_yml(path)


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path: Path):
    path = tmp_path / "huge.prompt.yml"
    path.write_bytes(GOOD.encode() + b"#" * 3_000_000)
    with pytest.raises(UserInputError, match="more than a prompt file may be"):
        load_prompt_yml(path)


def test_a_utf8_bom_is_accepted(tmp_path: Path):
    path = tmp_path / "bom.prompt.yml"
    path.write_bytes(codecs.BOM_UTF8 + GOOD.encode())
    assert load_prompt_yml(path).name == "capitals"
