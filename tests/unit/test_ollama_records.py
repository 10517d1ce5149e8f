"""Ollama's real /api/show and /api/tags bodies (from ../shared/protocols) become domain types."""

from __future__ import annotations

import json

from desktop_registry.domain import Category, CategorySource
from desktop_registry.sources.ollama_records import (
    details_from_show,
    parse_modelfile_parameters,
    record_from_show,
    summary_from_tag,
)


def load(shared_protocols, name):
    return json.loads((shared_protocols / "ollama-fixtures" / name).read_text())


def test_show_of_a_vision_model_fills_architecture_numbers_and_category(shared_protocols):
    show = load(shared_protocols, "show_llava.json")
    summary = summary_from_tag({"name": "llava:latest", "digest": "ab" * 32, "size": 5_000_000_000})
    record = record_from_show(summary, show, "http://localhost:11434")
    assert record.category is Category.MULTIMODAL
    assert record.category_source is CategorySource.SERVER
    d = record.details
    assert (d.architecture, d.block_count, d.context_length) == ("llama", 32, 8192)
    assert (d.head_count, d.head_count_kv, d.embedding_length) == (32, 8, 4096)
    assert d.parameter_count == 8030261248
    assert record.parameters["stop"] == ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    assert record.parameters["num_keep"] == 24


def test_show_with_separate_key_length_and_audio_keeps_the_real_head_dim(shared_protocols):
    details = details_from_show(load(shared_protocols, "show_gemma4.json"))
    assert details.key_length == 512 and details.value_length == 512
    assert details.head_count_kv == 2 and details.block_count == 42
    assert details.has_projector  # vision.block_count present


def test_projector_info_marks_a_vision_model_even_without_model_info(shared_protocols):
    details = details_from_show(load(shared_protocols, "show_projector.json"))
    assert details.has_projector and details.projector_bytes == 133700000


def test_embedding_only_show_lands_in_embedding(shared_protocols):
    show = load(shared_protocols, "show_embedding.json")
    record = record_from_show(summary_from_tag({"name": "e:latest", "digest": "d"}), show, "u")
    assert record.category is Category.EMBEDDING and record.capabilities == ["embedding"]


def test_tags_entries_of_old_and_new_servers_parse(shared_protocols):
    old = [summary_from_tag(m) for m in load(shared_protocols, "tags.json")["models"]]
    assert old and all(m.digest and m.capabilities is None for m in old)
    assert old[0].modified_at is not None  # Go's nanosecond timestamps are read
    new = summary_from_tag(load(shared_protocols, "tags_with_capabilities.json")["models"][0])
    assert new.capabilities == ["vision", "tools"] and new.context_length == 65536


def test_old_server_show_without_capabilities_is_guessed_and_marked():
    show = {
        "details": {"family": "bert", "families": ["bert"]},
        "model_info": {"general.architecture": "bert", "bert.pooling_type": 1},
        "template": "",
    }
    record = record_from_show(
        summary_from_tag({"name": "all-minilm:latest", "digest": "x"}), show, "u"
    )
    assert record.category is Category.EMBEDDING
    assert record.category_source is CategorySource.HEURISTIC


def test_modelfile_parameters_text_becomes_typed_values():
    text = 'temperature 0.7\nnum_ctx 4096\nstop "<|eot_id|>"\nmirostat_tau 5.0'
    assert parse_modelfile_parameters(text) == {
        "temperature": 0.7,
        "num_ctx": 4096,
        "stop": ["<|eot_id|>"],
        "mirostat_tau": 5.0,
    }
