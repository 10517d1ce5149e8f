"""Validating CSV training files: the user's chosen columns, multi-line cells, and each bad row
reported on the line where its record starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_registry.domain.finetune import CsvColumns
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.data_formats import parse_columns
from desktop_registry.services.finetune.data_validation import training_examples, validate_file

DATA = Path(__file__).resolve().parents[1] / "data" / "finetune"
QA = CsvColumns(prompt="question", completion="answer")


def test_chosen_columns_become_prompt_and_completion_and_others_are_ignored():
    report = validate_file(DATA / "clean.csv", columns=QA)
    assert report.ok and report.rows == 3
    examples = list(training_examples(report, split="all"))
    assert [(e.line, e.prompt) for e in examples] == [
        (2, "What is the capital of Atlantis?"),
        (3, "Write a haiku, please"),
        (6, "Who founded Poseidonia?"),  # the haiku's quoted cell spans lines 3-5
    ]
    assert examples[1].completion.count("\n") == 2


def test_columns_can_be_chosen_by_number_and_in_any_case(tmp_path: Path):
    by_number = validate_file(DATA / "clean.csv", columns=parse_columns("prompt=1,completion=2"))
    by_case = validate_file(
        DATA / "clean.csv", columns=parse_columns("prompt=QUESTION,completion=Answer")
    )
    assert by_number.good == by_case.good == 3


def test_each_kind_of_bad_csv_row_is_reported_on_its_line():
    report = validate_file(DATA / "bad.csv", columns=QA)
    assert {r.line: r.reason for r in report.bad} == {
        3: "empty text in column 'answer'",
        4: "expected 2 columns, found 3",
        5: "not valid UTF-8 (byte 0xe9 at column 4)",
    }
    assert [(d.line, d.duplicate_of) for d in report.duplicates] == [(8, 2)]
    assert report.good == 3  # lines 2, 6 (two physical lines) and the duplicate on 8


def test_a_missing_column_names_the_header_and_the_flag():
    with pytest.raises(UserInputError) as caught:
        validate_file(DATA / "clean.csv")  # defaults prompt/completion are not in this header
    message = str(caught.value)
    assert "no column 'prompt'" in message and "question, answer, notes" in message
    assert "--columns prompt=COL,completion=COL" in message


def test_a_system_column_makes_each_row_a_three_turn_chat(tmp_path: Path):
    path = tmp_path / "chat.csv"
    path.write_text("persona,q,a\nterse,Capital?,Poseidonia.\n")
    report = validate_file(path, columns=parse_columns("prompt=q,completion=a,system=persona"))
    (example,) = training_examples(report, split="all")
    assert [(t.role, t.content) for t in example.messages or ()] == [
        ("system", "terse"),
        ("user", "Capital?"),
        ("assistant", "Poseidonia."),
    ]


def test_a_tab_separated_file_reads_by_its_suffix(tmp_path: Path):
    path = tmp_path / "rows.tsv"
    path.write_text("prompt\tcompletion\nhello, there\tgeneral Kenobi\n")
    (example,) = training_examples(validate_file(path), split="all")
    assert example.prompt == "hello, there"


def test_an_unclosed_quote_is_one_bad_row_not_a_crash(tmp_path: Path):
    path = tmp_path / "broken.csv"
    path.write_text('prompt,completion\n"never closed,x\n' + "filler line\n" * 20_000)
    report = validate_file(path)
    assert report.bad_count >= 1
    assert report.bad[0].line == 2
    assert report.bad[0].reason.startswith("malformed CSV")


@pytest.mark.parametrize("text", ["prompt", "prompt=a,answer=b", "prompt=,completion=b"])
def test_a_columns_option_that_cannot_be_read_says_the_expected_form(text: str):
    with pytest.raises(UserInputError, match="expected prompt=COL,completion=COL"):
        parse_columns(text)
