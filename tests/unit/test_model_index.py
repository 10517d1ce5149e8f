"""The tree's light read of the registry: entries and the variant → base lineage."""

from __future__ import annotations

from desktop_registry.domain import Kind, ModelRecord, Serving, Source
from desktop_registry.storage.model_index import ModelIndex


def make(name: str, **kw: object) -> ModelRecord:
    defaults: dict[str, object] = {"source": Source.OLLAMA, "serving": Serving.LOCAL}
    defaults.update(kw)
    return ModelRecord(name=name, **defaults)  # type: ignore[arg-type]


def test_parent_links_map_every_variant_to_its_base_and_leave_bases_out(repo):
    base = repo.register(make("llama3.1:8b"))
    other = repo.register(make("qwen3:8b"))
    cold = repo.register(make("llama-cold", kind=Kind.VARIANT, parent_id=base.id))
    colder = repo.register(make("llama-colder", kind=Kind.VARIANT, parent_id=cold.id))

    links = ModelIndex(repo.db).parent_links()

    assert links == {cold.id: base.id, colder.id: cold.id}
    assert other.id not in links and base.id not in links


def test_parent_links_are_empty_for_a_registry_without_variants(repo):
    repo.register(make("phi:2.7b"))
    assert ModelIndex(repo.db).parent_links() == {}


def test_a_variant_whose_base_was_deleted_has_no_parent_link(repo):
    base = repo.register(make("llama3.1:8b"))
    repo.register(make("llama-cold", kind=Kind.VARIANT, parent_id=base.id))

    repo.delete(base.id, force=True)  # the variant stays, without its parent

    index = ModelIndex(repo.db)
    assert index.parent_links() == {}
    assert [e.name for e in index.entries()] == ["llama-cold"]
