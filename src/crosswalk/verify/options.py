"""Option-level mapping between two matched AA questions.

Options are paired greedily, best pair first. A pair's similarity blends word
overlap (half Jaccard, half containment, so "Age 21" inside a longer option still
pairs; numbers count as words, so "Age 21" and "Age 18" differ) with the cosine of
the options' embeddings when they are given, plus a small bonus when both options
have fill-in blanks (or neither has). A source option left without a partner was
removed; a target option left over was added.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np

from ..fingerprint import content_words, normalize_text
from ..models import Election, ElectionOption, OptionMapping

PAIR_MIN = 0.3
SAME_MIN = 0.8
FILL_IN_AGREEMENT = 0.1
NUMBER = re.compile(r"\$?\d[\d,]*(?:\.\d+)?%?")


def option_text(o: ElectionOption) -> str:
    """The normalised option text that is compared and embedded."""
    return normalize_text(o.text)[0]


def _words(text: str) -> set[str]:
    text = text.lower()
    return set(content_words(text)) | {n.rstrip(",") for n in NUMBER.findall(text)}


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    shared = len(a & b)
    return 0.5 * shared / len(a | b) + 0.5 * shared / min(len(a), len(b))


def option_similarity(a: ElectionOption, b: ElectionOption, vectors: Mapping[str, np.ndarray] | None = None) -> float:
    ta, tb = option_text(a), option_text(b)
    sim = _overlap(_words(ta), _words(tb))
    if vectors is not None and ta in vectors and tb in vectors:
        sim = 0.5 * sim + 0.5 * max(float(vectors[ta] @ vectors[tb]), 0.0)
    if bool(a.fill_ins) == bool(b.fill_ins):
        sim += FILL_IN_AGREEMENT
    return min(sim, 1.0)


def map_options(source: Election, target: Election,
                vectors: Mapping[str, np.ndarray] | None = None) -> tuple[OptionMapping, ...]:
    """Pair the options of two counterpart questions; unmatched ones are 'removed' / 'added'."""
    pairs = sorted(((option_similarity(a, b, vectors), i, j)
                    for i, a in enumerate(source.options) for j, b in enumerate(target.options)), reverse=True)
    used_s: set[int] = set()
    used_t: set[int] = set()
    out: list[OptionMapping] = []
    for sim, i, j in pairs:
        if sim < PAIR_MIN or i in used_s or j in used_t:
            continue
        used_s.add(i)
        used_t.add(j)
        out.append(OptionMapping(source_label=source.options[i].label, target_label=target.options[j].label,
                                 similarity=round(sim, 3), change="same" if sim >= SAME_MIN else "reworded"))
    out.extend(OptionMapping(source_label=o.label, target_label=None, change="removed")
               for i, o in enumerate(source.options) if i not in used_s)
    out.extend(OptionMapping(source_label=None, target_label=o.label, change="added")
               for j, o in enumerate(target.options) if j not in used_t)
    return tuple(out)
