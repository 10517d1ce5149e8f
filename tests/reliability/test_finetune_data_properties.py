"""Property: whatever bytes a user hands the validator, in any format, it answers with a report
(or a UserInputError), never a traceback; the report's counts agree with each other and with
the examples a trainer would get, and a row built with a known defect is caught on its line.

In-process, on real files; 1000+ examples per property.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_registry.domain.finetune import CsvColumns, DataFormat, DataSplit
from desktop_registry.errors import RegistryError
from desktop_registry.services.finetune.data_validation import training_examples, validate_file

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DATA = Path(__file__).resolve().parents[1] / "data" / "finetune"
SEEDS = [
    (DATA / name).read_bytes()
    for name in ("bad.jsonl", "bad.csv", "clean.txt", "conversation.jsonl")
]
FORMATS = list(DataFormat)
SUFFIX = {DataFormat.CSV: ".csv", DataFormat.TEXT: ".txt"}


def mutated(data: st.DataObject) -> bytes:
    base = bytearray(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(0, 6))):
        at = data.draw(st.integers(0, len(base)))
        action = data.draw(st.sampled_from(["insert", "delete", "flip"]))
        if action == "insert":
            base[at:at] = data.draw(
                st.sampled_from(
                    [b"\n", b'"', b",", b"{", b"\xff", b"\r", b"\x00", b"\\ud800", b"\xe2\x80"]
                )
            )
        elif action == "delete":
            del base[at : at + data.draw(st.integers(1, 40))]
        elif base:
            base[min(at, len(base) - 1)] ^= 1 << data.draw(st.integers(0, 7))
    return bytes(base)


def check_consistent(path: Path, fmt: DataFormat, columns: CsvColumns | None) -> None:
    try:
        report = validate_file(
            path,
            format=fmt,
            columns=columns,
            context_tokens=64,
            split=DataSplit(validation_fraction=0.3),
        )
    except RegistryError:
        return  # e.g. a CSV whose header lacks the columns: a message, not a crash
    physical_lines = path.read_bytes().count(b"\n") + 1
    lines = [row.line for row in report.bad]
    assert lines == sorted(lines)
    assert all(1 <= line <= physical_lines for line in lines)
    assert report.rows == report.good + report.bad_count
    assert report.train_rows + report.validation_rows == report.good - report.duplicate_count
    assert all(d.duplicate_of < d.line for d in report.duplicates)
    examples = list(training_examples(report, split="all", drop_bad_rows=True))
    assert len(examples) == report.good - report.duplicate_count
    assert not {e.line for e in examples} & set(lines)
    for item in examples:
        assert item.tokens <= 64
        if item.messages is not None:
            assert item.messages[-1].role == "assistant"
            assert all(turn.content.strip() for turn in item.messages)
        else:
            assert (item.completion or "").strip()
    if report.bad_count:
        try:
            training_examples(report)
        except RegistryError:
            pass
        else:
            raise AssertionError("a file with bad rows was handed to training")


def test_the_shipped_crafted_files_give_a_consistent_report():
    check_consistent(DATA / "bad.jsonl", DataFormat.JSONL, None)
    check_consistent(DATA / "conversation.jsonl", DataFormat.CONVERSATION, None)
    check_consistent(
        DATA / "bad.csv", DataFormat.CSV, CsvColumns(prompt="question", completion="answer")
    )


@FUZZ
@given(data=st.data())
def test_any_bytes_in_any_format_give_a_consistent_report(tmp_path: Path, data: Any):
    fmt = data.draw(st.sampled_from(FORMATS))
    raw = mutated(data) if data.draw(st.booleans()) else data.draw(st.binary(max_size=400))
    path = tmp_path / f"rows{SUFFIX.get(fmt, '.jsonl')}"
    path.write_bytes(raw)
    columns = CsvColumns(prompt="question", completion="answer") if fmt is DataFormat.CSV else None
    check_consistent(path, fmt, columns)


texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
    str.strip
)
DEFECTS = [
    "none",
    "invalid_json",
    "missing_field",
    "empty_text",
    "role_order",
    "not_utf8",
    "not_object",
]


def row_for(defect: str, shape: str, words: list[str]) -> bytes:
    a, b, c = words
    if shape == "messages":
        body: dict[str, Any] = {
            "messages": [{"role": "user", "content": a}, {"role": "assistant", "content": b}]
        }
    elif shape == "instruction":
        body = {"instruction": a, "input": c, "output": b}
    else:
        body = {"prompt": a, "completion": b}
    if defect == "missing_field":
        if shape == "messages":
            del body["messages"][1]["content"]
        else:
            body.pop("completion" if shape == "prompt" else "output")
    elif defect == "empty_text":
        if shape == "messages":
            body["messages"][0]["content"] = " \t"
        else:
            body["prompt" if shape == "prompt" else "instruction"] = ""
    elif defect == "role_order":
        body = {"messages": [{"role": "assistant", "content": a}, {"role": "user", "content": b}]}
    elif defect == "not_object":
        return json.dumps([a, b], ensure_ascii=False).encode()
    line = json.dumps(body, ensure_ascii=False).encode()
    if defect == "invalid_json":
        return line[:-1]
    if defect == "not_utf8":
        return line[:1] + b"\xc3\x28" + line[1:]
    return line


@FUZZ
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(DEFECTS),
            st.sampled_from(["prompt", "messages", "instruction"]),
            st.lists(texts, min_size=3, max_size=3),
            st.booleans(),  # a blank line after it
        ),
        min_size=1,
        max_size=25,
    )
)
def test_a_row_built_with_a_defect_is_caught_on_its_line_and_only_those(
    tmp_path: Path, rows: list[Any]
):
    out: list[bytes] = []
    expected_bad: list[int] = []
    for defect, shape, words, blank in rows:
        out.append(row_for(defect, shape, words))
        if defect != "none":
            expected_bad.append(len(out))
        if blank:
            out.append(b"")
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"\n".join(out) + b"\n")
    report = validate_file(path, context_tokens=100_000)
    assert [row.line for row in report.bad] == expected_bad
    assert report.good == len(rows) - len(expected_bad)
