"""Pair features for the verifier: pure functions over precomputed score matrices.

Each feature carries meaning in plan documents: the same defined term, the same
heading, the same words (also as stems and as character n-grams, which forgive
inflection and extraction garble), the same Code sections, the same numbers, similar position in the
document, and how clearly a target stands out among the source's candidates
(rank, gap to the best) and the source among the target's (mutual best, and the
claim margin: how far this source's score for the target is above, or below, the best
score any other source has for it, the one-to-one structure of the document pair).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..candidates import ScoreMatrices, Side, top_k
from ..fingerprint import WORD, Fingerprint, content_words

BASE_FEATURES = (
    "cosine", "lexical", "heading", "term_equal", "term_overlap", "definition_mismatch",
    "code_overlap", "number_overlap", "compatible", "position_gap", "rank_inverse",
    "fused_gap", "cosine_gap", "reverse_rank_inverse", "length_ratio", "fused",
    "core_cosine", "core_gap", "heading_in_target", "target_heading_in_source", "neighbor_support",
    "passage_max", "stem_lexical", "char_lexical", "claim_margin",
)
# Relative features: how a candidate stands among the source's other candidates on one signal.
# A cosine of 0.6 is strong for one provision and weak for another; its standing is comparable.
STANDARDISED = ("lexical", "heading", "core_cosine", "stem_lexical", "char_lexical")
RANKED = ("cosine", "lexical", "heading", "core_cosine", "term_overlap", "code_overlap", "number_overlap",
          "stem_lexical", "char_lexical")
FEATURES = BASE_FEATURES + tuple(f"{n}_z" for n in STANDARDISED) + tuple(f"{n}_rank_inverse" for n in RANKED)


@dataclass
class CandidateSet:
    """One source item's candidates with their feature rows (rows align with `target_ids`)."""

    source_id: str
    target_ids: list[str]
    features: np.ndarray              # (k, len(FEATURES))
    fused: np.ndarray                 # (k,) fusion score, for reports
    # for each candidate, the one (an index into this list) that is its first copy in the target
    # document: the same words, printed again (an AA repeats questions in attachments); empty: none
    first_copy: tuple[int, ...] = ()


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def _term_overlap(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) / len(wa | wb)


@dataclass(frozen=True)
class Words:
    """Content-word sets of one record, for containment features."""

    heading: frozenset[str]
    text: frozenset[str]

    @classmethod
    def of(cls, fp: Fingerprint) -> "Words":
        return cls(frozenset(content_words(fp.heading or fp.core)), frozenset(content_words(fp.text)))


# A copy is the same text word for word (punctuation aside; the fingerprint has dropped numbers) and
# long enough to say something: short labels ("Name", "Other: ____") repeat without being the same
# provision.
COPY_MIN_WORDS = 4


def copy_key(fp: Fingerprint) -> tuple[str, ...]:
    """The words of a record's body, or () when too short to call another record its copy. The
    heading is left out: the AA's attachment copies sit under another section context."""
    words = tuple(WORD.findall(fp.body.lower()))  # the fingerprint's own word pattern
    return words if len(words) >= COPY_MIN_WORDS else ()


def first_copies(keys: list[tuple[str, ...]], positions: list[int]) -> tuple[int, ...]:
    """For each candidate, the candidate with the same key that comes first in the document (itself
    when none does); () when no two candidates are copies."""
    first: dict[tuple[str, ...], int] = {}
    for n in sorted(range(len(keys)), key=positions.__getitem__):
        if keys[n]:
            first.setdefault(keys[n], n)
    out = tuple(first.get(key, n) if key else n for n, key in enumerate(keys))
    return out if any(f != n for n, f in enumerate(out)) else ()


def first_print(cs: "CandidateSet", j: int) -> int:
    """Candidate j, or its first copy in the target document when it is the same text printed again
    (the AA's attachments repeat its questions; the crosswalk points at the first print)."""
    return cs.first_copy[j] if cs.first_copy else j


def distinct_order(cs: "CandidateSet", order) -> list[int]:
    """Candidate indices in `order` with copies folded: each text once, as its first print, at the
    rank of its best-ranked copy (what the LLM is shown: a copy shown twice takes a place another
    candidate needs)."""
    seen: dict[int, None] = {}
    for j in order:
        seen.setdefault(first_print(cs, int(j)), None)
    return list(seen)


def _contained(part: frozenset[str], whole: frozenset[str]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def neighbor_support(i: int, j: int, top1: np.ndarray, window: int = 2) -> float:
    """Share of the source's neighbours (±window) whose best target sits within ±window of j.

    Vendors order their documents differently overall, but within an article the
    order is usually kept: if the neighbours of i map near j, i → j is more likely.
    """
    neighbours = [n for n in range(i - window, i + window + 1) if n != i and 0 <= n < len(top1)]
    if not neighbours:
        return 0.0
    return sum(abs(int(top1[n]) - j) <= window for n in neighbours) / len(neighbours)


def pair_features(
    fs: Fingerprint, ft: Fingerprint, i: int, j: int, rank: int,
    m: ScoreMatrices, pos_s: float, pos_t: float, reverse_rank: int,
    ws: Words, wt: Words, support: float, claim_margin: float,
) -> list[float]:
    """Feature row for source i and target j (j at `rank` among i's candidates)."""
    row_best = m.fused[i].max()
    len_s, len_t = len(fs.body) + 1, len(ft.body) + 1
    return [
        float(m.cosine[i, j]),
        float(m.lexical[i, j]),
        float(m.heading[i, j]),
        float(bool(fs.defined_term) and fs.defined_term == ft.defined_term),
        _term_overlap(fs.defined_term, ft.defined_term),
        float(bool(fs.defined_term) != bool(ft.defined_term)),
        _jaccard(fs.code_refs, ft.code_refs),
        _jaccard(fs.numbers, ft.numbers),
        float(m.compatible[i, j]),
        abs(pos_s - pos_t),
        1.0 / (1 + rank),
        float(row_best - m.fused[i, j]),
        float(m.cosine[i].max() - m.cosine[i, j]),
        1.0 / (1 + reverse_rank),
        abs(float(np.log(len_s / len_t))),
        float(m.fused[i, j]),
        float(m.core_cosine[i, j]),
        float(m.core_cosine[i].max() - m.core_cosine[i, j]),
        _contained(ws.heading, wt.text),
        _contained(wt.heading, ws.text),
        support,
        float(m.passage_max[i, j]),
        float(m.stem_lexical[i, j]),
        float(m.char_lexical[i, j]),
        claim_margin,
    ]


def relative_features(rows: np.ndarray) -> np.ndarray:
    """Per-candidate standing within one source's candidate set (rows are `BASE_FEATURES`).

    z-score of each `STANDARDISED` signal over the set, and 1/(1 + rank) on each `RANKED`
    signal, where rank counts the candidates strictly better (ties share a rank)."""
    if len(rows) == 0:
        return np.zeros((0, len(STANDARDISED) + len(RANKED)), np.float32)
    z_cols = rows[:, [BASE_FEATURES.index(n) for n in STANDARDISED]]
    z = (z_cols - z_cols.mean(axis=0)) / (z_cols.std(axis=0) + 1e-6)
    r_cols = rows[:, [BASE_FEATURES.index(n) for n in RANKED]]
    better = (r_cols[None, :, :] > r_cols[:, None, :]).sum(axis=1)  # [a, f]: candidates above a on f
    return np.hstack([z, 1.0 / (1.0 + better)]).astype(np.float32)


@dataclass(frozen=True)
class Ranking:
    """What every chunk of one pair's candidate sets shares: computed once per pair."""

    best: np.ndarray                 # (sources, k) target indices, best first
    target_words: list[Words]
    claimant: np.ndarray             # (targets,) the source with the highest fused score for each target
    claim_best: np.ndarray           # (targets,) that score
    claim_second: np.ndarray         # (targets,) the second-highest source's score
    copy_keys: list[tuple[str, ...]]  # (targets,) `copy_key` of each target

    @classmethod
    def of(cls, target: Side, m: ScoreMatrices, k: int) -> "Ranking":
        cols = np.arange(m.fused.shape[1])
        if m.fused.shape[0] > 1:
            order = np.argpartition(-m.fused, 1, axis=0)[:2]
            first, second = order[0], order[1]
            swap = m.fused[second, cols] > m.fused[first, cols]
            first, second = np.where(swap, second, first), np.where(swap, first, second)
            best, runner = m.fused[first, cols], m.fused[second, cols]
        else:
            first, best, runner = np.zeros(len(cols), np.intp), m.fused[0], np.zeros(len(cols), np.float32)
        return cls(top_k(m.fused, k), [Words.of(f) for f in target.fingerprints], first, best, runner,
                   [copy_key(f) for f in target.fingerprints])

    def claim_margin(self, m: ScoreMatrices, i: int, j: int) -> float:
        """fused[i, j] minus the best score of any *other* source for target j: above 0 when i is the
        target's strongest claimant; well below 0 when another source claims it much more strongly."""
        other = self.claim_second[j] if self.claimant[j] == i else self.claim_best[j]
        return float(m.fused[i, j] - other)


def build_candidate_sets(source: Side, target: Side, m: ScoreMatrices, k: int,
                         rows: range | None = None, ranking: Ranking | None = None) -> list[CandidateSet]:
    """Top-k candidates per source item (or for the source items in `rows`), each with its feature rows.

    Streaming callers build the pair's `Ranking` once and pass it with each chunk of rows."""
    ranking = ranking or Ranking.of(target, m, k)
    best, target_words = ranking.best, ranking.target_words
    top1 = best[:, 0]
    pos_s, pos_t = source.positions, target.positions
    sets = []
    for i in (rows if rows is not None else range(len(best))):
        cand = best[i]
        words = Words.of(source.fingerprints[i])
        features = []
        for rank, j in enumerate(cand):
            reverse_rank = int((m.fused[:, j] > m.fused[i, j]).sum())
            features.append(pair_features(source.fingerprints[i], target.fingerprints[j], i, int(j), rank, m,
                                          float(pos_s[i]), float(pos_t[j]), reverse_rank,
                                          words, target_words[j], neighbor_support(i, int(j), top1),
                                          ranking.claim_margin(m, i, int(j))))
        rows = np.array(features, dtype=np.float32).reshape(len(cand), len(BASE_FEATURES))
        sets.append(CandidateSet(
            source_id=source.ids[i],
            target_ids=[target.ids[j] for j in cand],
            features=np.hstack([rows, relative_features(rows)]),
            fused=m.fused[i, cand].astype(np.float32),
            first_copy=first_copies([ranking.copy_keys[j] for j in cand], [int(j) for j in cand]),
        ))
    return sets
