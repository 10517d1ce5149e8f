"""The adapter converter refuses what it cannot convert right, with the reason, and writes nothing.

The conversion itself is proven against a real llama-server in tests/engine/test_lora_adapter.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.gguf_adapter import convert_adapter, interleave_rotary_rows

np = pytest.importorskip("numpy")
safetensors_numpy = pytest.importorskip("safetensors.numpy")
pytest.importorskip("gguf")

LLAMA = {"architectures": ["LlamaForCausalLM"], "num_attention_heads": 2, "num_key_value_heads": 1}


def adapter(folder: Path, tensors: dict[str, object], config: object | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    safetensors_numpy.save_file(tensors, str(folder / "adapter_model.safetensors"))
    body = config if config is not None else {"peft_type": "LORA", "lora_alpha": 16, "r": 2}
    (folder / "adapter_config.json").write_text(json.dumps(body))
    return folder


def pair(module: str) -> dict[str, object]:
    prefix = f"base_model.model.model.layers.0.{module}"
    return {
        f"{prefix}.lora_A.weight": np.ones((2, 8), dtype=np.float32),
        f"{prefix}.lora_B.weight": np.arange(16, dtype=np.float32).reshape(8, 2),
    }


def test_rotary_rows_interleave_each_heads_two_halves() -> None:
    rows = np.arange(8).reshape(8, 1)  # two heads of four: [0 1 | 2 3], [4 5 | 6 7]
    assert interleave_rotary_rows(rows, 2).ravel().tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    with pytest.raises(UserInputError, match="cannot be split into 3 heads"):
        interleave_rotary_rows(rows, 3)


def test_an_architecture_without_a_name_map_is_refused(tmp_path: Path) -> None:
    folder = adapter(tmp_path / "a", pair("self_attn.q_proj"))
    with pytest.raises(UserInputError, match="Cannot convert an adapter for GemmaForCausalLM"):
        convert_adapter(folder, {"architectures": ["GemmaForCausalLM"]}, tmp_path / "o.gguf")
    assert not (tmp_path / "o.gguf").exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"peft_type": "PREFIX_TUNING"}, "is not a LoRA adapter"),
        ({"peft_type": "LORA", "lora_alpha": 0}, "no positive lora_alpha"),
        ({"peft_type": "LORA", "lora_alpha": 8, "use_dora": True}, "DoRA"),
    ],
)
def test_adapters_llama_cpp_cannot_load_are_refused(tmp_path: Path, config, message) -> None:
    folder = adapter(tmp_path / "a", pair("self_attn.q_proj"), config)
    with pytest.raises(UserInputError, match=message):
        convert_adapter(folder, LLAMA, tmp_path / "o.gguf")


def test_half_a_pair_or_an_unknown_matrix_is_refused(tmp_path: Path) -> None:
    half = {k: v for k, v in pair("self_attn.v_proj").items() if "lora_A" in k}
    with pytest.raises(UserInputError, match="only half"):
        convert_adapter(adapter(tmp_path / "h", half), LLAMA, tmp_path / "o.gguf")
    odd = {"base_model.model.lm_head.lora_A.weight": np.ones((2, 8), dtype=np.float32)}
    with pytest.raises(UserInputError, match="lm_head"):
        convert_adapter(adapter(tmp_path / "u", odd), LLAMA, tmp_path / "o.gguf")
    assert not (tmp_path / "o.gguf").exists()


def test_a_converted_file_names_its_architecture_and_alpha(tmp_path: Path) -> None:
    import gguf

    tensors = {**pair("self_attn.q_proj"), **pair("mlp.down_proj")}
    out = convert_adapter(adapter(tmp_path / "a", tensors), LLAMA, tmp_path / "o.gguf")
    reader = gguf.GGUFReader(str(out.path))
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.lora.alpha"].contents() == pytest.approx(16.0)
    names = sorted(t.name for t in reader.tensors)
    assert names == [
        "blk.0.attn_q.weight.lora_a",
        "blk.0.attn_q.weight.lora_b",
        "blk.0.ffn_down.weight.lora_a",
        "blk.0.ffn_down.weight.lora_b",
    ]
