"""Candidate generation: exact top-k over embeddings fused with a lexical score.

For every source item we score *all* target items (the corpus is at most a few
thousand records, so an exact matrix product is cheaper than any index), fuse the
cosine with a TF-IDF cosine over fingerprints and headings, down-weight pairs whose
topics are incompatible, and keep the best `k`. Two more lexical views (over stems and
over character n-grams) are computed alongside for the verifier. `plan_counts` reports how many pairs
went in and how many were kept, before anything is paid for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .classify import compatible, topic
from .vectors import unit_rows
from .errors import InputError
from .fingerprint import Fingerprint
from .lexical import TfidfSpace, char_terms, heading_terms, stem_terms, word_terms  # noqa: F401  (re-exported)

# Fusion weights, chosen on the dev split (bench/quality.py prints recall@k for them).
# Lexical overlap of fingerprints carries most of the recall (BPD recall@20 0.979 alone
# against 0.916 for the cosine); the embeddings add the paraphrases it misses.
# The best-matching sentence pair takes part of the cosine's weight: on the dev split it
# lifts BPD recall@1 0.695 -> 0.747 (recall@20 0.979 against 0.989 without it).
W_COSINE = 0.13
W_PASSAGE = 0.20
W_CORE = 0.07
W_LEXICAL = 0.60
W_HEADING = 0.0
INCOMPATIBLE_PENALTY = 0.0  # rule-based topics are too noisy to filter on; the verifier weighs them


@dataclass
class Side:
    """One side of a crosswalk, with everything scoring needs precomputed."""

    ids: list[str]
    fingerprints: list[Fingerprint]
    topics: list[str]
    vectors: np.ndarray       # L2-normalised record vectors (mean of the record's passage vectors)
    core_vectors: np.ndarray  # the same for the short core (heading / question)
    passage_vectors: np.ndarray  # one L2-normalised row per passage, records' passages contiguous
    passage_starts: np.ndarray   # index of each record's first passage row

    @property
    def positions(self) -> np.ndarray:
        """Relative position of each item in its document (0 = first, 1 = last)."""
        n = len(self.ids)
        return np.arange(n, dtype=np.float32) / max(n - 1, 1)


@dataclass
class ScoreMatrices:
    """All-pairs similarity matrices (source rows × target columns)."""

    cosine: np.ndarray
    core_cosine: np.ndarray
    passage_max: np.ndarray   # best cosine between any passage of the source and any of the target
    lexical: np.ndarray       # TF-IDF over words and word pairs (the fused score uses this one)
    stem_lexical: np.ndarray  # the same over stems (`stem_terms`): a verifier feature
    char_lexical: np.ndarray  # the same over character n-grams (`char_terms`): a verifier feature
    heading: np.ndarray
    compatible: np.ndarray
    fused: np.ndarray


def make_side(ids: list[str], fingerprints: list[Fingerprint], passage_vectors: np.ndarray,
              core_vectors: np.ndarray, passage_counts: list[int] | None = None) -> Side:
    """A side from its records' passage vectors (`passage_counts[i]` rows for record i; one each
    when omitted) and core vectors; the record vectors are the normalised passage means."""
    counts = np.asarray(passage_counts if passage_counts is not None else [1] * len(ids), dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    return Side(ids=ids, fingerprints=fingerprints, topics=[topic(f) for f in fingerprints],
                vectors=record_means(passage_vectors, starts), core_vectors=core_vectors,
                passage_vectors=passage_vectors, passage_starts=starts)


def record_means(passage_vectors: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One normalised vector per record: the mean direction of its contiguous passage rows."""
    if len(starts) == 0:
        return np.zeros((0, passage_vectors.shape[1] if passage_vectors.ndim == 2 else 0), np.float32)
    return unit_rows(np.add.reduceat(passage_vectors, starts, axis=0)).astype(np.float32)


def passage_max(source: Side, target: Side) -> np.ndarray:
    """For each record pair, the best cosine between one passage of each (blocks of a matrix product)."""
    if len(source.ids) == 0 or len(target.ids) == 0:
        return np.zeros((len(source.ids), len(target.ids)), np.float32)
    sim = source.passage_vectors @ target.passage_vectors.T
    by_source = np.maximum.reduceat(sim, source.passage_starts, axis=0)
    return np.maximum.reduceat(by_source, target.passage_starts, axis=1)


def compatibility_matrix(source_topics: list[str], target_topics: list[str]) -> np.ndarray:
    """`compatible(a, b)` for every pair, from the table of the few distinct topics."""
    names = sorted(set(source_topics) | set(target_topics))
    index = {name: i for i, name in enumerate(names)}
    table = np.array([[compatible(a, b) for b in names] for a in names], dtype=bool).reshape(len(names), len(names))
    rows = np.array([index[t] for t in source_topics], dtype=np.intp)
    cols = np.array([index[t] for t in target_topics], dtype=np.intp)
    return table[np.ix_(rows, cols)]


def score_matrices(source: Side, target: Side) -> ScoreMatrices:
    """Compute every similarity the candidate step and the verifier use, for all pairs at once."""
    cosine = source.vectors @ target.vectors.T
    core_cosine = source.core_vectors @ target.core_vectors.T
    best_passage = passage_max(source, target)
    texts = ([f.text for f in source.fingerprints], [f.text for f in target.fingerprints])
    lexical = TfidfSpace(*texts).similarity()
    heading = TfidfSpace([f.heading for f in source.fingerprints], [f.heading for f in target.fingerprints],
                         heading_terms).similarity()
    compat = compatibility_matrix(source.topics, target.topics)
    fused = (W_COSINE * cosine + W_PASSAGE * best_passage + W_CORE * core_cosine + W_LEXICAL * lexical
             + W_HEADING * heading - INCOMPATIBLE_PENALTY * (~compat))
    return ScoreMatrices(cosine=cosine, core_cosine=core_cosine, passage_max=best_passage, lexical=lexical,
                         stem_lexical=TfidfSpace(*texts, stem_terms).similarity(),
                         char_lexical=TfidfSpace(*texts, char_terms).similarity(),
                         heading=heading, compatible=compat, fused=fused)


def top_k(fused: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best targets per source row, best first."""
    k = min(k, fused.shape[1])
    part = np.argpartition(-fused, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(fused, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


# The all-pairs matrices: nine float32 views of source × target plus temporaries while they are
# built. Measured peak on the corpus BPD pair (565 × 466) was within this per pair.
BYTES_PER_PAIR = 48
# Cold matching (embedding included) on 2 cores: the corpus's 1,763 items took 66 s.
SECONDS_PER_ITEM_COLD = 0.04


def plan_counts(n_source: int, n_target: int, k: int) -> dict[str, int]:
    """How much work candidate filtering leaves, before any verifier is paid, and what the local
    part will need (`memory_mb` for the score matrices, `cold_seconds` with nothing cached)."""
    kept = n_source * min(k, n_target)
    return {"source_items": n_source, "target_items": n_target, "pairs_in": n_source * n_target,
            "pairs_kept": kept, "verifier_calls_per_pair": kept, "verifier_calls_per_source": n_source,
            "memory_mb": round(n_source * n_target * BYTES_PER_PAIR / 2**20) + 1,
            "cold_seconds": round((n_source + n_target) * SECONDS_PER_ITEM_COLD) + 1}


def physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_fits_in_memory(n_source: int, n_target: int, where: object) -> None:
    """Stop with a clear error, before the matrices are built, when they cannot fit in this machine."""
    need = n_source * n_target * BYTES_PER_PAIR
    have = physical_memory_bytes()
    if have and need > 0.8 * have:
        raise InputError(where, f"{n_source:,} × {n_target:,} items need about {need / 2**30:.0f} GiB for the "
                                f"score matrices; this machine has {have / 2**30:.0f} GiB. Split the documents "
                                "(crosswalk plan shows the figures)")
