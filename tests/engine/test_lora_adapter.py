"""The app's GGUF LoRA file is right: llama-server with `--lora` gives Hugging Face + PEFT's greedy
tokens, token for token, and different ones from the base model.

The adapter here has random (seeded, non-zero) A and B matrices on every projection, so every
converted tensor matters; a trained adapter goes through the same converter. A repack with the
q/k rows left in Hugging Face's order is checked to differ, so the test can fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop_registry.services.finetune import gguf_adapter
from tests.engine.conftest import EngineFiles, LlamaServer

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")

PROMPTS = [
    "The capital of the small island is",
    "Question: what does a seed do? Answer:",
    "Seven bridges cross the canal;",
    "Colours: red, orange,",
]
NEW_TOKENS = 12
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="module")
def adapter_dir(engine_files: EngineFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(7)
    base = transformers.AutoModelForCausalLM.from_pretrained(engine_files.hf_dir)
    config = peft.LoraConfig(
        r=8, lora_alpha=16, target_modules=TARGETS, init_lora_weights=False, lora_dropout=0.0
    )
    model = peft.get_peft_model(base, config)
    with torch.no_grad():  # PEFT's random init is small; make the adapter change the answers
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.mul_(20.0)
    out = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(out)
    return out


def hf_greedy(engine_files: EngineFiles, adapter: Path | None) -> list[list[int]]:
    tokenizer = transformers.AutoTokenizer.from_pretrained(engine_files.hf_dir)
    model: Any = transformers.AutoModelForCausalLM.from_pretrained(engine_files.hf_dir)
    if adapter is not None:
        model = peft.PeftModel.from_pretrained(model, adapter)
    model.eval()
    answers = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            out = model.generate(
                ids, max_new_tokens=NEW_TOKENS, do_sample=False, eos_token_id=None, pad_token_id=0
            )
        answers.append(out[0, ids.shape[1] :].tolist())
    return answers, [tokenizer(p).input_ids for p in PROMPTS]


def server_greedy(server: LlamaServer, prompts: list[list[int]]) -> list[list[int]]:
    answers = []
    for ids in prompts:
        reply = httpx.post(
            server.url + "/completion",
            json={
                "prompt": ids,  # the same token ids Hugging Face was given: no tokenizer in between
                "n_predict": NEW_TOKENS,
                "temperature": 0,
                "top_k": 1,
                "ignore_eos": True,
                "cache_prompt": False,
                "return_tokens": True,
            },
            timeout=30,
        ).json()
        answers.append(reply["tokens"])
    return answers


def start(engine_files: EngineFiles, logs: Path, lora: Path | None) -> LlamaServer:
    args = ("-c", "512", "-np", "1", *(("--lora", str(lora)) if lora else ()))
    return LlamaServer(engine_files, "tiny-llama", args, logs).start()


def test_llama_server_with_the_apps_gguf_adapter_answers_as_hf_and_peft_do(
    engine_files: EngineFiles, engine_logs: Path, adapter_dir: Path, tmp_path: Path
) -> None:
    config = json.loads((engine_files.hf_dir / "config.json").read_text())
    converted = gguf_adapter.convert_adapter(adapter_dir, config, tmp_path / "adapter.gguf")
    assert converted.architecture == "llama" and converted.rank == 8
    assert converted.tensors == 2 * len(TARGETS) * config["num_hidden_layers"]

    tuned, prompt_ids = hf_greedy(engine_files, adapter_dir)
    plain, _ = hf_greedy(engine_files, None)
    assert tuned != plain  # the adapter changes the answers at all

    server = start(engine_files, engine_logs, converted.path)
    try:
        assert server_greedy(server, prompt_ids) == tuned
    finally:
        server.stop()
    base = start(engine_files, engine_logs, None)
    try:
        assert server_greedy(base, prompt_ids) == plain
    finally:
        base.stop()


def test_leaving_the_qk_rows_in_hugging_face_order_gives_other_answers(
    engine_files: EngineFiles,
    engine_logs: Path,
    adapter_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reordering is what makes the file right: without it the engine answers otherwise."""
    config = json.loads((engine_files.hf_dir / "config.json").read_text())
    monkeypatch.setattr(gguf_adapter, "interleave_rotary_rows", lambda rows, heads: rows)
    wrong = gguf_adapter.convert_adapter(adapter_dir, config, tmp_path / "wrong.gguf")
    tuned, prompt_ids = hf_greedy(engine_files, adapter_dir)
    server = start(engine_files, engine_logs, wrong.path)
    try:
        assert server_greedy(server, prompt_ids) != tuned
    finally:
        server.stop()
