"""A finished LoRA fine-tune lands in Ollama as GGUF: the converted file is uploaded as a blob,
`/api/create` names it in `adapters`, and the variant is in the registry (under its base) and in
MLflow. Real sockets to the Ollama emulator, a real PEFT adapter on the tiny model.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import Kind
from desktop_registry.errors import UserInputError
from desktop_registry.services.experiments.service import ExperimentService
from desktop_registry.services.finetune.deploy import deploy_adapter
from desktop_registry.sources.ollama import OllamaSource
from tests.integration.test_experiments_local import Lab, create_bodies, mlflow_runs
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")
pytest.importorskip("gguf")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with OllamaEmulator(standard_models()) as emu:
        lab = Lab(tmp_path, emu)
        lab.sync()
        yield lab
        lab.db.dispose()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.engine.tiny_model import ensure_tiny_model

    hf_dir = ensure_tiny_model().hf_dir
    torch.manual_seed(3)
    model = peft.get_peft_model(
        transformers.AutoModelForCausalLM.from_pretrained(hf_dir),
        peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]),
    )
    out = tmp_path_factory.mktemp("run") / "adapter"
    model.save_pretrained(out)
    return out, hf_dir


def deploy(lab: Lab, adapter: Path, hf_dir: Path, **kw):
    async def go():
        async with OllamaSource(lab.emu.url) as source:
            service = ExperimentService(lab.repo, source, lab.tracker)
            return await deploy_adapter(service, adapter_dir=adapter, hf_model_dir=hf_dir, **kw)

    return asyncio.run(go())


def test_a_finished_fine_tune_becomes_an_ollama_variant_with_a_gguf_adapter(lab, trained) -> None:
    adapter, hf_dir = trained
    record, converted = deploy(
        lab,
        adapter,
        hf_dir,
        name="llama-facts",
        base="llama3.1:8b",
        dataset="facts.jsonl",
        metrics={"train_loss": 4.9},
    )
    digest = "sha256:" + hashlib.sha256(converted.path.read_bytes()).hexdigest()
    (body,) = [b for b in create_bodies(lab.emu) if b.get("model", "").startswith("llama-facts")]
    assert body["from"] == "llama3.1:8b"
    assert body["adapters"] == {"adapter.gguf": digest}  # GGUF: Ollama takes it for any base
    assert converted.path.read_bytes()[:4] == b"GGUF"
    base = lab.repo.find("llama3.1:8b")
    assert record.kind is Kind.EXPERIMENTAL and record.parent_id == base.id
    recipe = record.parameters["experiment"]
    assert recipe["adapter_digest"] == digest and recipe["training"]["lora_rank"] == 4
    tracking = record.parameters["mlflow"]
    assert "error" not in tracking
    (run,) = mlflow_runs(lab.uri, "llama3.1:8b")
    assert run.info.run_id == tracking["run_id"]
    assert run.data.metrics["train_loss"] == pytest.approx(4.9)


def test_an_adapter_for_an_architecture_the_app_cannot_convert_is_refused_before_upload(
    lab, trained, tmp_path
) -> None:
    adapter, _ = trained
    other = tmp_path / "gemma"
    other.mkdir()
    (other / "config.json").write_text('{"architectures": ["Gemma3ForCausalLM"]}')
    with pytest.raises(UserInputError, match="Cannot convert an adapter for Gemma3ForCausalLM"):
        deploy(lab, adapter, other, name="x", base="llama3.1:8b")
    assert not [b for b in create_bodies(lab.emu) if b.get("model") == "x"]
