"""Option-level mapping between two matched AA questions.

Options are paired greedily by word overlap (best pair first); a source option left
without a partner was removed, a target option left over was added.
"""

from __future__ import annotations

from ..fingerprint import content_words, normalize_text
from ..models import Election, OptionMapping

PAIR_MIN = 0.25
SAME_MIN = 0.8


def _words(text: str) -> set[str]:
    return set(content_words(normalize_text(text)[0]))


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    return len(a & b) / len(a | b)


def map_options(source: Election, target: Election) -> tuple[OptionMapping, ...]:
    """Pair the options of two counterpart questions; unmatched ones are 'removed' / 'added'."""
    sw = [_words(o.text) for o in source.options]
    tw = [_words(o.text) for o in target.options]
    pairs = sorted(((_overlap(a, b), i, j) for i, a in enumerate(sw) for j, b in enumerate(tw)), reverse=True)
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
