"""A hostile or broken /api/show: that one model's error, the rest of the sync carries on.

Only models whose digest changed are described again, so each test changes two digests: the
one with the bad description keeps its row as it was, the other is updated.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.conftest import deep_json, raw_json, registry_rows, sync
from tests.servers.ollama_emulator import RawReply

BAD, GOOD = "phi:2.7b", "qwen3:8b"


def show_with(emu, **changes: Any) -> RawReply:
    body = emu.show_json(BAD)
    body.update(changes)
    return RawReply(raw_json(body).body, models=frozenset({BAD}))


CASES = {
    "model_info_is_a_list": lambda emu: show_with(emu, model_info=[1, 2]),
    "details_is_a_string": lambda emu: show_with(emu, details="gguf"),
    "projector_info_is_a_string": lambda emu: show_with(emu, projector_info="clip"),
    "capabilities_is_a_number": lambda emu: show_with(emu, capabilities=7),
    "parameters_is_an_object": lambda emu: show_with(emu, parameters={"temperature": 1}),
    "invalid_utf8": lambda emu: RawReply(b'{"template":"\xff\xfe"}', models=frozenset({BAD})),
    "nested_100000_deep": lambda emu: RawReply(deep_json(), models=frozenset({BAD})),
    "a_list": lambda emu: RawReply(b"[1,2,3]", models=frozenset({BAD})),
    "null": lambda emu: RawReply(b"null", models=frozenset({BAD})),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_show_reply_is_that_models_error_and_the_others_still_sync(
    case, synced, registry_path, capsys
):
    before = {r["name"]: r for r in registry_rows(registry_path)}
    synced.set_digest(BAD, "b" * 64)
    synced.set_digest(GOOD, "c" * 64)
    synced.raw_replies["/api/show"] = CASES[case](synced)
    code = sync(registry_path, synced, capsys)
    out, err = capsys.readouterr()
    assert code == 2, case
    assert "Traceback" not in err
    assert f"error: {BAD}:" in err and "not what Ollama sends" in err
    assert "1 updated" in out  # qwen3:8b still synced
    after = {r["name"]: r for r in registry_rows(registry_path)}
    assert after[GOOD]["digest"] == "c" * 64
    del before[GOOD], after[GOOD]
    assert after == before  # phi:2.7b kept its old row: not updated, not missing
