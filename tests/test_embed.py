"""The plain-torch MiniLM embedder must give what sentence-transformers gives."""

import numpy as np
import pytest
import torch

from vectorstore.embed import MiniLMEmbedder, SentenceTransformerEmbedder

pytestmark = pytest.mark.slow

TEXTS = [
    "Ukraine can produce over 8 million drones of various types each year.",
    "NATO has a 10-year plan to rebuild Ukraine’s army and defense industry.",
    "short",
    "word " * 400,  # longer than the model's 256-token window: both must truncate alike
] * 5


def test_fp32_matches_sentence_transformers():
    ours = MiniLMEmbedder(precision="fp32").embed_documents(TEXTS)
    reference = SentenceTransformerEmbedder(precision="fp32").embed_documents(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    assert np.abs(ours - reference).max() < 1e-4


def test_bf16_batches_stay_close_to_fp32_and_queries_are_exact():
    fast = MiniLMEmbedder(precision="bf16")
    exact = MiniLMEmbedder(precision="fp32")
    cosine = np.sum(fast.embed_documents(TEXTS) * exact.embed_documents(TEXTS), axis=1)
    assert cosine.min() > 0.999
    assert np.allclose(fast.embed_query(TEXTS[0]), exact.embed_query(TEXTS[0]), atol=1e-6)
    assert np.allclose(np.linalg.norm(fast.embed_documents(TEXTS), axis=1), 1.0, atol=1e-3)


def test_large_inputs_split_across_cores_keep_every_vector_in_its_row():
    fast = MiniLMEmbedder(precision="bf16", batch_size=8)
    threads = torch.get_num_threads()
    texts = [f"passage {i}: " + "news " * (i % 40) + TEXTS[i % 3] for i in range(200)]
    together = fast.embed_documents(texts)  # many batches: one stream per core
    alone = np.stack([fast.embed_query(t) for t in texts[::25]])  # fp32, one at a time
    assert np.sum(together[::25] * alone, axis=1).min() > 0.999
    assert torch.get_num_threads() == threads  # the streams' one-thread setting stays theirs
