"""Saved conversations and chat presets on a real SQLite registry and a real settings.json:
search, rename, delete, branch, export, presets kept by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain.chat import ChatUsage
from desktop_registry.domain.conversations import Conversation, SavedMessage
from desktop_registry.errors import NotFoundError, UserInputError
from desktop_registry.services.serving.conversations import (
    ChatPresets,
    ConversationService,
    export_json,
    export_markdown,
)
from desktop_registry.services.settings.store import SettingsStore
from desktop_registry.storage import Database
from desktop_registry.storage.job_repository import ConversationRepository


@pytest.fixture
def chats(registry_path: Path) -> Iterator[ConversationService]:
    db = Database.open(registry_path)
    yield ConversationService(ConversationRepository(db))
    db.dispose()


def chat(question: str, answer: str, model: str = "llama3.1:8b", **fields: object) -> Conversation:
    return Conversation(
        models=[model],
        messages=[
            SavedMessage(role="user", content=question),
            SavedMessage(role="assistant", content=answer, model=model),
        ],
        **fields,  # type: ignore[arg-type]
    )


def test_search_finds_chats_by_title_or_by_any_message_text(chats):
    sky = chats.save(chat("Why is the sky blue?", "Rayleigh scattering of sunlight."))
    chats.save(chat("Write a haiku", "Autumn moonlight—a worm digs silently"))
    cafe = chats.save(chat("Où est le café ?", "Le café est « à gauche »."))
    assert [c.id for c in chats.search("RAYLEIGH")] == [sky.id]  # any case, in a reply
    assert [c.id for c in chats.search("sky")] == [sky.id]  # in the title
    assert [c.id for c in chats.search("« à gauche »")] == [cafe.id]  # non-ASCII in a message
    assert chats.search("nothing like this") == []
    assert len(chats.search("  ")) == 3  # blank: every chat, newest first
    assert chats.search("  ")[0].id == cafe.id


def test_search_takes_percent_and_underscore_literally(chats):
    chats.save(chat("Progress", "It is 100% done"))
    chats.save(chat("Other", "It is 100 done"))
    assert [c.title for c in chats.search("100%")] == ["Progress"]
    assert chats.search("snake_case") == []


def test_rename_keeps_the_messages_and_rejects_a_blank_name(chats):
    saved = chats.save(chat("Tell me a joke", "Why did the GPU…"))
    renamed = chats.rename(saved.id, "  Jokes   for Friday ")
    assert renamed.title == "Jokes for Friday"
    assert [m.content for m in chats.get(saved.id).messages] == [
        "Tell me a joke",
        "Why did the GPU…",
    ]
    with pytest.raises(UserInputError):
        chats.rename(saved.id, "   ")
    with pytest.raises(NotFoundError):
        chats.rename(9999, "Gone")


def test_delete_removes_the_chat_from_list_and_search(chats):
    saved = chats.save(chat("Delete me", "ok"))
    chats.delete(saved.id)
    assert chats.list() == [] and chats.search("Delete") == []


def test_branch_copies_the_messages_up_to_one_and_keeps_model_and_options(chats):
    original = chats.save(
        Conversation(
            models=["qwen3:8b"],
            options={"temperature": 0.3, "num_ctx": 8192},
            system="Be brief.",
            messages=[
                SavedMessage(role="user", content="one"),
                SavedMessage(role="assistant", content="two", model="qwen3:8b"),
                SavedMessage(role="user", content="three"),
                SavedMessage(role="assistant", content="four", model="qwen3:8b"),
            ],
        )
    )
    branch = chats.branch(original, 1)
    assert branch.id != original.id
    assert [m.content for m in branch.messages] == ["one", "two"]
    assert branch.models == ["qwen3:8b"] and branch.system == "Be brief."
    assert branch.options == {"temperature": 0.3, "num_ctx": 8192}
    assert branch.title == "one (branch)"
    assert len(chats.get(original.id).messages) == 4  # the original is untouched
    with pytest.raises(UserInputError):
        chats.branch(original, 7)


def test_markdown_export_has_title_model_options_and_every_message_but_no_images(chats):
    saved = chats.save(
        Conversation(
            title="Sorting",
            models=["llama3.1:8b"],
            options={"temperature": 0.2},
            system="You write Python.",
            messages=[
                SavedMessage(role="user", content="Sort a list", images=["aGVsbG8="]),
                SavedMessage(
                    role="assistant",
                    content="```python\nsorted(xs)\n```",
                    model="llama3.1:8b",
                    usage=ChatUsage(completion_tokens=5),
                ),
                SavedMessage(
                    role="assistant", content="half", model="llama3.1:8b", error="Stopped."
                ),
            ],
        )
    )
    text = export_markdown(saved)
    assert text.startswith("# Sorting\n")
    assert "- Model: llama3.1:8b" in text and "temperature=0.2" in text
    assert "## System\n\nYou write Python." in text
    assert "## You\n\n*1 image(s) attached*\n\nSort a list" in text
    assert "## llama3.1:8b\n\n```python\nsorted(xs)\n```" in text
    assert "> Stopped." in text
    assert "aGVsbG8=" not in text


def test_json_export_reads_back_as_the_same_conversation(chats):
    saved = chats.save(chat("Hello", "Hi there", options={"seed": 42}))
    again = Conversation.model_validate(json.loads(export_json(saved)))
    assert again == saved


def test_presets_are_kept_by_name_in_the_settings_file(tmp_path):
    path = tmp_path / "settings.json"
    presets = ChatPresets(SettingsStore(path))
    presets.save("Terse", "Answer in one line.", {"temperature": 0.1, "num_ctx": 4096})
    presets.save("Creative", "Be playful.", {"temperature": 1.2})
    again = ChatPresets(SettingsStore(path))  # as after a restart
    assert [p.name for p in again.list()] == ["Creative", "Terse"]
    terse = again.get("Terse")
    assert terse.system == "Answer in one line." and terse.options["num_ctx"] == 4096
    again.save("Terse", "Two lines.", {})  # the same name replaces it
    assert again.get("Terse").system == "Two lines." and again.get("Terse").options == {}
    again.delete("Creative")
    assert [p.name for p in again.list()] == ["Terse"]
    assert json.loads(path.read_text())["chat_presets"] == {
        "Terse": {"system": "Two lines.", "options": {}}
    }
    with pytest.raises(UserInputError):
        again.save("   ", "x", {})
    with pytest.raises(NotFoundError):
        again.get("Creative")
