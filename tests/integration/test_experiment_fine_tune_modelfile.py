"""A fine-tune's exported Modelfile is one `ollama create -f Modelfile` accepts: ADAPTER names the
adapter file (absolute, or relative to the Modelfile), never a blob digest.

The Ollama emulator on a real socket records the /api/create body; the exported text is read
back the way Ollama's parser reads an ADAPTER line (parser/parser.go: expandPath, then the file
is hashed), from a different folder than the one the adapter was named from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.errors import UserInputError
from desktop_registry.services.experiments.recipes import modelfile
from desktop_registry.services.experiments.service import ExperimentService
from tests.integration.test_experiments_local import Lab, create_bodies
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with OllamaEmulator(standard_models()) as emu:
        lab = Lab(tmp_path, emu)
        lab.sync()
        yield lab
        lab.db.dispose()


def exported(lab: Lab, name: str) -> str:
    return ExperimentService(lab.repo, object(), None).modelfile(name)  # type: ignore[arg-type]


def adapter_argument(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.upper().startswith("ADAPTER ")]
    value = line.split(" ", 1)[1].strip()
    return value[1:-1] if value.startswith('"') and value.endswith('"') else value


def expand_like_ollama(value: str, modelfile_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else modelfile_dir / path


def test_exported_modelfile_names_the_adapter_file_the_user_gave_not_its_digest(
    lab, tmp_path, monkeypatch
):
    work = tmp_path / "training run"
    (work / "out").mkdir(parents=True)
    adapter = work / "out" / "adapter_model.gguf"
    adapter.write_bytes(b"GGUF" + bytes(range(256)) * 32)
    monkeypatch.chdir(work)  # the user names the file relative to where they stand
    record = lab.create(
        {
            "type": "fine_tuning",
            "name": "llama-support",
            "base": "llama3.1:8b",
            "adapter_path": "out/adapter_model.gguf",
            "system": "You answer support tickets.",
        }
    )
    (body,) = create_bodies(lab.emu)
    # The API keeps the digest, keyed by the file's own name (file name → sha256 digest).
    digest = "sha256:" + hashlib.sha256(adapter.read_bytes()).hexdigest()
    assert body["adapters"] == {"adapter_model.gguf": digest}

    text = exported(lab, "llama-support")
    lines = text.splitlines()
    assert "FROM llama3.1:8b" in lines
    assert "SYSTEM You answer support tickets." in lines
    assert "sha256" not in adapter_argument(text)
    assert adapter_argument(text) == str(adapter.resolve())
    # MLflow keeps the same Modelfile with the run.
    run_id = record.parameters["mlflow"]["run_id"]
    assert lab.tracker.artifact_text(run_id, "Modelfile") == text

    # Saved anywhere else, the ADAPTER line still leads to the same file, byte for byte.
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    (elsewhere / "Modelfile").write_text(text)
    monkeypatch.chdir(elsewhere)
    target = expand_like_ollama(adapter_argument(text), elsewhere)
    assert target.is_file()
    assert "sha256:" + hashlib.sha256(target.read_bytes()).hexdigest() == digest


def test_a_fine_tune_known_only_by_digest_exports_a_file_line_and_says_what_to_put_there(
    lab, tmp_path
):
    held = tmp_path / "held.gguf"
    held.write_bytes(b"GGUF-held-by-ollama")
    digest = lab.run(lambda source: source.upload_blob(held))  # a blob Ollama already holds
    lab.create(
        {
            "type": "fine_tuning",
            "name": "llama-blob",
            "base": "llama3.1:8b",
            "adapter_digest": digest,
        }
    )
    (body,) = create_bodies(lab.emu)
    assert body["adapters"] == {"adapter.gguf": digest}  # the API takes the digest as is

    text = exported(lab, "llama-blob")
    assert adapter_argument(text) == "./adapter.gguf"  # a path `ollama create` can resolve
    assert not any(line.startswith("ADAPTER sha256") for line in text.splitlines())
    comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert digest in comments and "ollama show --modelfile llama-blob" in comments


def test_modelfile_refuses_a_digest_on_the_adapter_line_and_quotes_edge_spaces():
    with pytest.raises(UserInputError, match=r"^adapter: sha256:"):
        modelfile("llama3.1:8b", adapter="sha256:" + "0" * 64)
    assert modelfile("b", adapter="/tmp/a b/lora.gguf").splitlines()[1] == (
        "ADAPTER /tmp/a b/lora.gguf"
    )
    assert modelfile("b", adapter=" lora.gguf").splitlines()[1] == 'ADAPTER " lora.gguf"'
