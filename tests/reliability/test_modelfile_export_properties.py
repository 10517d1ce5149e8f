"""Property: an exported Modelfile reads back, by Ollama's own parsing rules, as exactly what was asked.

For arbitrary system prompts, templates and few-shot messages (quotes, line breaks, spaces at the
edges, control characters), the exporter either refuses with the field's name or writes a
Modelfile with one FROM whose every value reads back unchanged (modelfile_reader.py).
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from desktop_registry.errors import UserInputError
from desktop_registry.services.experiments.recipes import modelfile
from tests.reliability.modelfile_reader import read_modelfile

MANY = settings(
    max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
# Quotes, line breaks and spaces are what break a Modelfile; mix them in often.
hostile_text = st.text(
    alphabet=st.sampled_from(['"', "\n", "\r", " ", "\t", "#", "\x1b", "\u202e", "\x00"])
    | st.characters(exclude_categories=("Cs", "Cn")),
    max_size=24,
)
names = st.from_regex(r"[a-z0-9][a-z0-9._:/-]{0,20}", fullmatch=True)
shots = st.lists(st.tuples(st.sampled_from(["user", "assistant"]), hostile_text), max_size=3)


@MANY
@example(system='hi"""\nFROM evil2\nSYSTEM """x', template="", messages=[], base="llama3.1:8b")
@example(system=" padded ", template="", messages=[], base="llama3.1:8b")
@example(system="a\x1bb", template="", messages=[], base="llama3.1:8b")
@given(system=hostile_text, template=hostile_text, messages=shots, base=names)
def test_an_exported_modelfile_reads_back_as_what_was_asked_or_is_refused(
    system, template, messages, base
):
    try:
        text = modelfile(base, system=system, template=template, messages=messages)
    except UserInputError as exc:
        assert any(f in str(exc) for f in ("system", "template", "few_shot", "base"))
        return
    commands = read_modelfile(text)
    assert [c for c in commands if c[0] == "model"] == [("model", base)]
    expected = [("model", base)]
    if template:
        expected.append(("template", template))
    if system:
        expected.append(("system", system))
    expected += [("message", f"{role}: {content}") for role, content in messages]
    assert commands == expected


def test_the_reader_reads_ollamas_own_examples():
    text = 'FROM llama3.2\nPARAMETER temperature 1\nSYSTEM """You are\nMario."""\n'
    text += "# a comment\nMESSAGE user Is Toronto in Canada?\n"
    assert read_modelfile(text) == [
        ("model", "llama3.2"),
        ("temperature", "1"),
        ("system", "You are\nMario."),
        ("message", "user: Is Toronto in Canada?"),
    ]
    assert read_modelfile('SYSTEM """hi"""\nFROM evil2\nSYSTEM """x"""') == [
        ("system", "hi"),
        ("model", "evil2"),
        ("system", "x"),
    ]
