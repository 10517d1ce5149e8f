"""Build a tiny real Llama model offline: seeded random weights, a tokenizer trained on shipped text.

Test and developer tooling, never shipped. Writes a Hugging Face folder (config, safetensors,
sentencepiece tokenizer, chat template) and converts it with llama.cpp's own
``convert_hf_to_gguf.py`` into a ~0.5 MB GGUF; both are cached under the engine cache folder,
keyed by a hash of every input (this file, the corpus, the library versions, the engine version),
so a second run costs nothing. Nothing is downloaded from any hub.

``python3 -m tests.engine.tiny_model`` prints the GGUF's path. Needs torch, transformers and
sentencepiece (``pip install torch==2.13.0 transformers sentencepiece``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.engine.build_llama_server import (
    ENGINE_VERSION,
    EngineBuildError,
    cache_root,
    ensure_source,
)

CORPUS = Path(__file__).parent / "data" / "corpus.txt"
SEED = 1234
VOCAB_SIZE = 400
# Chat markers: single special tokens in both tokenizers (convert_hf_to_gguf.py marks them
# CONTROL only when tokenizer_config.json lists them in added_tokens_decoder with special: true).
SPECIALS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>{{ message['content'] }}<|end|>"
    "{% elif message['role'] == 'user' %}<|user|>{{ message['content'] }}<|end|>"
    "{% else %}<|assistant|>{{ message['content'] }}<|end|>{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
ARCH = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "max_position_embeddings": 2048,
}
ALIAS = "tiny-llama"


@dataclass(frozen=True)
class TinyModel:
    hf_dir: Path  # config.json, model.safetensors, tokenizer.model, tokenizer_config.json
    gguf: Path
    context_length: int = ARCH["max_position_embeddings"]
    alias: str = ALIAS


def _versions() -> str:
    names = ("torch", "transformers", "sentencepiece", "safetensors")
    return ";".join(f"{n}={importlib.metadata.version(n)}" for n in names)


def inputs_key() -> str:
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(CORPUS.read_bytes())
    digest.update(_versions().encode())
    digest.update(ENGINE_VERSION.encode())
    return digest.hexdigest()[:16]


def _train_tokenizer(out: Path) -> dict[str, int]:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=str(CORPUS),
        model_prefix=str(out / "tokenizer"),
        vocab_size=VOCAB_SIZE,
        model_type="bpe",
        byte_fallback=True,  # any UTF-8 text tokenizes, even characters the corpus never had
        character_coverage=1.0,
        user_defined_symbols=list(SPECIALS),
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,  # deterministic merges
        minloglevel=2,
    )
    (out / "tokenizer.vocab").unlink(missing_ok=True)
    processor = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    ids = {piece: processor.piece_to_id(piece) for piece in SPECIALS}
    ids["<s>"], ids["</s>"], ids["<unk>"] = 1, 2, 0
    return ids


def _write_tokenizer_config(out: Path, ids: dict[str, int]) -> None:
    decoder = {
        str(token_id): {
            "content": piece,
            "special": True,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "single_word": False,
        }
        for piece, token_id in sorted(ids.items(), key=lambda item: item[1])
    }
    config = {
        "tokenizer_class": "LlamaTokenizer",
        "bos_token": "<s>",
        "eos_token": "<|end|>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "add_prefix_space": True,
        "legacy": False,
        "model_max_length": ARCH["max_position_embeddings"],
        "chat_template": CHAT_TEMPLATE,
        "added_tokens_decoder": decoder,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    special_map = {"bos_token": "<s>", "eos_token": "<|end|>", "unk_token": "<unk>"}
    (out / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2))


def _write_weights(out: Path, ids: dict[str, int]) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(SEED)
    config = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        bos_token_id=ids["<s>"],
        eos_token_id=ids["<|end|>"],
        tie_word_embeddings=False,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        torch_dtype="float32",
        **ARCH,
    )
    model = LlamaForCausalLM(config)
    # Random weights would pick byte-fallback pieces as often as words and stream invalid UTF-8;
    # zero their output rows (and <unk>, <s>) so greedy text is made of the corpus's pieces.
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    quiet = [i for i in range(processor.get_piece_size()) if processor.is_byte(i)]
    quiet += [ids["<unk>"], ids["<s>"], ids["</s>"]]
    with torch.no_grad():
        model.lm_head.weight[quiet] = 0.0
    model.save_pretrained(out, safe_serialization=True)


def _convert(hf_dir: Path, gguf: Path) -> None:
    converter = ensure_source() / "convert_hf_to_gguf.py"
    partial = gguf.with_suffix(".partial.gguf")
    done = subprocess.run(
        [
            sys.executable,
            str(converter),
            str(hf_dir),
            "--outtype",
            "f32",
            "--outfile",
            str(partial),
            "--model-name",
            ALIAS,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0 or not partial.is_file():
        raise EngineBuildError(
            "convert_hf_to_gguf.py failed:\n" + (done.stderr or done.stdout)[-4000:]
        )
    os.replace(partial, gguf)


def ensure_tiny_model() -> TinyModel:
    """The cached tiny model, built first when its inputs changed."""
    folder = cache_root() / f"tiny-model-{inputs_key()}"
    model = TinyModel(hf_dir=folder / "hf", gguf=folder / "tiny-llama-f32.gguf")
    if model.gguf.is_file() and (model.hf_dir / "model.safetensors").is_file():
        return model
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="tiny-model-", dir=folder.parent))
    try:
        hf_dir = staging / "hf"
        hf_dir.mkdir()
        ids = _train_tokenizer(hf_dir)
        _write_tokenizer_config(hf_dir, ids)
        _write_weights(hf_dir, ids)
        _convert(hf_dir, staging / model.gguf.name)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return model


def main() -> int:
    try:
        model = ensure_tiny_model()
    except EngineBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(model.gguf)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
