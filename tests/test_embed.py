"""The embedded model runs offline from its PyPI packages, and the store caches its vectors."""

import asyncio

import numpy as np

from crosswalk.embed import CachedEmbedder, MiniLMOnnxEmbedder
from crosswalk.store import Store


def test_local_model_gives_meaningful_unit_vectors(tmp_path):
    emb = MiniLMOnnxEmbedder(max_tokens=64)
    v = asyncio.run(emb.embed(["The cat sits on the mat.", "A feline rests on a rug.", "Hardship withdrawals of deferrals."]))
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_cache_embeds_each_text_once(tmp_path):
    class Counting:
        model_id = "counting"
        calls: list[list[str]] = []

        async def embed(self, texts):
            self.calls.append(list(texts))
            return np.ones((len(texts), 384), np.float32)

    inner = Counting()
    with Store.open(tmp_path / "s.sqlite") as store:
        cached = CachedEmbedder(inner, store)
        first = asyncio.run(cached.embed(["a", "b", "a"]))
        second = asyncio.run(cached.embed(["b", "a", "c"]))
    assert inner.calls == [["a", "b"], ["c"]]
    assert first.shape == (3, 384) and second.shape == (3, 384)
    assert cached.misses == 3 and cached.hits == 2  # "b" and "a" found in the store on the second call
