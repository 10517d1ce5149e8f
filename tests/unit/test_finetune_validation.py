"""Validating jsonl, ShareGPT and plain-text training files: each kind of bad row is caught on
its own line, with a reason a user can act on; clean files pass and normalize as expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_registry.domain.finetune import ChatTurn, DataFormat
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.data_validation import (
    estimate_tokens,
    training_examples,
    validate_file,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "finetune"


def reasons(report) -> dict[int, str]:
    return {row.line: row.reason for row in report.bad}


def test_a_clean_jsonl_file_passes_with_every_row_good():
    report = validate_file(DATA / "clean.jsonl")
    assert report.ok
    assert (report.rows, report.good, report.bad_count, report.duplicate_count) == (7, 7, 0, 0)
    assert report.format is DataFormat.JSONL
    assert report.token_count == "estimate"


def test_each_kind_of_bad_jsonl_row_is_reported_on_its_own_line():
    found = reasons(validate_file(DATA / "bad.jsonl", context_tokens=512))
    assert sorted(found) == [2, 3, 4, 5, 7, 8, 10, 11, 12, 13]
    assert found[2].startswith("invalid JSON")
    assert found[3] == "missing field 'completion'"
    assert found[4] == "empty text in 'completion'"
    assert found[5].startswith("wrong role order: message 1 is 'assistant'")
    assert found[7].startswith("not valid UTF-8 (byte 0xe9")
    assert found[8].startswith("longer than the context:") and "> 512" in found[8]
    assert found[10] == "wrong role order: message 2 is 'user' after 'user' (expected 'assistant')"
    assert "JSON object" in found[11]
    assert found[12].startswith("missing field: expected prompt/completion")
    assert "unknown role 'bot'" in found[13]


def test_blank_lines_are_not_rows_and_do_not_shift_line_numbers():
    report = validate_file(DATA / "bad.jsonl", context_tokens=512)
    assert report.rows == 13  # 14 lines, line 6 blank
    assert 6 not in reasons(report)


def test_an_exact_duplicate_is_reported_with_the_line_it_repeats():
    report = validate_file(DATA / "bad.jsonl", context_tokens=512)
    assert report.duplicate_count == 1
    assert [(d.line, d.duplicate_of) for d in report.duplicates] == [(9, 1)]


def test_a_row_fits_a_larger_context_that_a_smaller_one_refuses():
    assert 8 not in reasons(validate_file(DATA / "bad.jsonl", context_tokens=4096))
    assert 8 in reasons(validate_file(DATA / "bad.jsonl", context_tokens=512))


def test_the_token_estimate_is_a_quarter_of_the_utf8_bytes_rounded_up():
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("é") == 1  # two bytes
    assert estimate_tokens("東京") == 2  # six bytes


def test_a_given_tokenizer_decides_the_length_instead_of_the_estimate(tmp_path: Path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"prompt": "one two three", "completion": "four"}\n')
    words = validate_file(path, count_tokens=lambda text: len(text.split()), context_tokens=12)
    assert words.token_count == "tokenizer"
    assert words.max_tokens == 4 + 2 * 4  # four words plus the template's tokens for two turns
    assert words.ok
    per_char = validate_file(path, count_tokens=len, context_tokens=12)  # 13 + 4 chars, + 8
    assert (
        per_char.bad_count == 1
        and "longer than the context: 25 tokens > 12" in per_char.bad[0].reason
    )


def test_the_token_histogram_counts_every_readable_row_in_its_bin():
    report = validate_file(DATA / "bad.jsonl", context_tokens=512)
    assert sum(b.count for b in report.token_histogram) == report.good + 1  # plus the too-long row
    assert report.token_histogram[-1].up_to is None
    longest_bin = next(b for b in report.token_histogram if b.up_to == 1024)
    assert longest_bin.count == 1 and report.max_tokens > 512


def test_shapes_normalize_to_chat_or_prompt_completion_examples():
    examples = list(training_examples(validate_file(DATA / "clean.jsonl"), split="all"))
    by_line = {e.line: e for e in examples}
    assert by_line[1].prompt == "What is the capital of Atlantis?"
    assert by_line[2].prompt == "Translate to French.\n\nGood morning"
    assert by_line[2].completion == "Bonjour"
    assert by_line[3].prompt == "Name a primary colour."
    assert by_line[4].messages == (
        ChatTurn(role="system", content="You are terse."),
        ChatTurn(role="user", content="Who founded Poseidonia?"),
        ChatTurn(role="assistant", content="Atlas."),
    )
    assert by_line[6].prompt == "" and by_line[6].completion.startswith("Atlantis sank")
    assert by_line[7].completion == "Poseidonia — 東京 ではない."


def test_sharegpt_conversations_map_human_and_gpt_to_user_and_assistant():
    report = validate_file(DATA / "conversation.jsonl", format=DataFormat.CONVERSATION)
    found = reasons(report)
    assert sorted(found) == [3, 4, 5, 6]
    assert "must end with the assistant's reply" in found[4]
    assert found[5].startswith("missing field 'conversations'")
    assert found[6] == "empty text in message 1 (user)"
    examples = list(training_examples(report, split="all", drop_bad_rows=True))
    assert [[t.role for t in e.messages or ()] for e in examples] == [
        ["user", "assistant"],
        ["system", "user", "assistant"],
    ]


def test_plain_text_is_one_example_per_paragraph_starting_on_its_first_line():
    report = validate_file(DATA / "clean.txt")
    assert report.ok and report.rows == 3
    examples = list(training_examples(report, split="all"))
    assert [e.line for e in examples] == [1, 4, 7]
    assert examples[0].completion == "Atlantis was an island city.\nIts capital was Poseidonia."


def test_a_bad_line_in_a_paragraph_is_reported_on_that_line(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"fine paragraph\n\nfirst line\nbroken \xff line\nthird\n\nlast one\n")
    report = validate_file(path)
    assert reasons(report) == {4: "not valid UTF-8 (byte 0xff at column 8)"}
    assert report.good == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"prompt": 3, "completion": "x"}', "'prompt' must be text, got a number"),
        ('{"prompt": "a", "completion": null}', "'completion' must be text, got null"),
        ('{"messages": []}', "empty conversation in 'messages'"),
        ('{"messages": "hi"}', "'messages' must be a list of {role, content}, got text"),
        ('{"messages": [{"content": "x"}]}', "message 1: missing field 'role'"),
        (
            '{"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}',
            "wrong role order: message 2 is a system message; only the first may be",
        ),
        ('{"prompt": "\\ud800", "completion": "x"}', "'prompt' has an unpaired surrogate \\ud800"),
        ("[" * 100_000, "invalid JSON: nested too deeply"),
        ('{"instruction": "Sum", "input": 5, "output": "x"}', "'input' must be text, got a number"),
    ],
)
def test_a_malformed_row_names_what_is_wrong(tmp_path: Path, line: str, reason: str):
    path = tmp_path / "rows.jsonl"
    path.write_text(line + "\n")
    report = validate_file(path)
    assert report.bad_count == 1
    assert report.bad[0].line == 1
    assert report.bad[0].reason.startswith(reason)


def test_a_byte_order_mark_and_windows_line_endings_are_accepted(tmp_path: Path):
    path = tmp_path / "excel.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prompt": "a", "completion": "b"}\r\n{"text": "c"}\r\n')
    report = validate_file(path)
    assert report.ok and report.rows == 2


def test_a_file_that_does_not_exist_is_a_user_error_naming_it(tmp_path: Path):
    with pytest.raises(UserInputError, match=r"no training data at .*missing\.jsonl"):
        validate_file(tmp_path / "missing.jsonl")


def test_an_unknown_suffix_asks_for_a_format(tmp_path: Path):
    path = tmp_path / "rows.dat"
    path.write_text("hello\n")
    with pytest.raises(UserInputError, match="--format"):
        validate_file(path)
    assert validate_file(path, format=DataFormat.TEXT).ok


def test_an_empty_file_has_no_rows_and_is_not_ok(tmp_path: Path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    report = validate_file(path)
    assert report.rows == 0 and not report.ok
