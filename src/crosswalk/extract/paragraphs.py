"""Lines to paragraphs: which line opens a paragraph, and how lines join into text.

A text layer or an OCR'd page gives lines, not paragraphs. A paragraph opens after a wider gap,
after a line that stops short of its column's edge (or leaves room for the next line's first word),
at a first-line indent, or on a new page or column; no single cue is relied on (see
docs/pdf-import.md for what each one won on the layout fuzzer). The BPD and AA parsers both start
from these paragraphs.
"""

from __future__ import annotations

import statistics

from .layout import Line


def paragraph_starts(lines: list[Line]) -> list[bool]:
    """Which lines open a paragraph: after a larger gap (than the document's line pitch, or, on a
    page whose line steps are exact, than the steps beside it), after a line that stops short of the column's right edge
    or leaves room for the next line's first word, at a first-line indent, or on a new page/column.
    Each cue alone misses layouts the others catch: on 30 fuzzed seeds the indent, room and local-gap
    cues took the worst-decile source BPD recall 0.842 -> 0.860 (30 other seeds: see docs/pdf-import.md)."""
    steps = [b.top - a.top if a.page == b.page and 0 < b.top - a.top < 0.05 else None for a, b in zip(lines, lines[1:])]
    pitches = [d for d in steps if d is not None]
    pitch = statistics.median(pitches) if pitches else 0.02
    exact = _exact_pages(lines, steps)
    is_short, edges = _short_lines(lines)
    limits = _column_limits(lines, edges)
    starts = []
    for n, (prev, line) in enumerate(zip([None, *lines], lines)):
        if prev is None:
            starts.append(True)
            continue
        short = (is_short[n - 1] or _next_word_fits(prev, line, edges[n - 1], limits[n - 1])) \
            and not prev.text.rstrip().endswith(("-", ","))
        if prev.page != line.page or line.top <= prev.top:  # a new page or column: the text may run on
            starts.append(short or line.bold or bool(line.bold_lead))
            continue
        gap = line.top - prev.top > 1.45 * pitch or line.page in exact and _wider_than_neighbours(steps, n - 1)
        starts.append(gap or short or line.bold_lead != "" and not prev.bold
                      or _first_line_indent(prev, line, lines[n + 1] if n + 1 < len(lines) else None))
    return starts


def _exact_pages(lines: list[Line], steps: list[float | None]) -> set[int]:
    """Pages whose line steps are exact (a text layer's baselines), not the jitter of OCR's boxes:
    a document may mix both. Measured as the median deviation from the page's pitch, as a share of
    it: text pages 0-0.6%, OCR pages 1.8-3.6% (a grid-aligned 200 dpi scan can read 0, and is exact)."""
    by_page: dict[int, list[float]] = {}
    for line, d in zip(lines, steps):
        if d is not None:
            by_page.setdefault(line.page, []).append(d)
    exact = set()
    for page, page_steps in by_page.items():
        pitch = statistics.median(page_steps)
        near = [abs(d - pitch) for d in page_steps if abs(d - pitch) < 0.1 * pitch]
        if near and statistics.median(near) < 0.01 * pitch:
            exact.add(page)
    return exact


def _wider_than_neighbours(steps: list[float | None], k: int) -> bool:
    """Step k (from line k to line k + 1) is clearly wider than the steps beside it: a little space
    between paragraphs (a third of a line) that the document-wide rule (1.45 pitches) misses. Local,
    so a block set in a larger size, whose lines are all further apart, does not count."""
    here = steps[k]
    beside = [d for d in (steps[k - 1] if k else None, steps[k + 1] if k + 1 < len(steps) else None) if d is not None]
    return here is not None and bool(beside) and here > 1.15 * min(beside)


INDENT = 0.015  # a first-line indent: about one em at 10-12 pt (9 pt of a 612 pt page)


def _first_line_indent(prev: Line, line: Line, following: Line | None) -> bool:
    """The line sits further right than the lines on both sides of it in its column: a paragraph's
    indented first line. A hanging indent (a label, then its text indented under it) has its
    second line indented like the lines after it, so it does not count."""
    if following is None or following.page != line.page or following.top <= line.top:
        return False
    return line.left > prev.left + INDENT and line.left > following.left + INDENT


# How much wider than the word's box the room must be: the column's limit is an estimate and a box
# leaves out a glyph's overhang. On fuzzed seeds 0-29, 1.00 lost a record on four seeds (source seed
# 2: a paragraph cut where the word was too wide by 0.0001 of the page); 1.06 missed target seed 24's
# paragraph end (room 0.038, word 0.036); 1.03: 13 documents better (source and target), 2 worse by a record.
WORD_FIT_SPARE = 1.03


def _next_word_fits(prev: Line, line: Line, edge: float | None, limit: float | None) -> bool:
    """Text is wrapped word by word: a line ends early only where its paragraph does. If the next
    line's first word (and a space) would have fitted in the room the line left, the line ended its
    paragraph. With the text layer's character boxes, the word's width runs to where the second word
    starts (space included) and the room to the column's limit; without them (OCR), the
    width is the line's mean character width with 20% to spare (justified lines overstate it, which
    only makes the test stricter) and the room runs to the column's usual edge."""
    words = line.text.split()
    if edge is None or limit is None or not words or not line.right or line.right <= line.left:
        return False
    if line.second_word > line.left:
        return limit - prev.right > WORD_FIT_SPARE * (line.second_word - line.left)
    char_width = (line.right - line.left) / max(len(line.text), 1)
    return edge - prev.right > 1.2 * char_width * (len(words[0]) + 1)


def _column_limits(lines: list[Line], edges: list[float | None]) -> list[float | None]:
    """Where each line's column stops a line, for the next-word test: the third-longest line of the
    page's column (one line that overran, or a heading across both columns, does not set it), never
    before the usual edge. Ragged text ends most lines well before it (target seed 24: edge 0.902,
    limit 0.908)."""
    third = {key: sorted(rights)[-3] for key, rights in _column_rights(lines).items() if len(rights) >= 5}
    return [None if edge is None else max(edge, third.get(_column_key(l), 0.0)) for l, edge in zip(lines, edges)]


def _column_key(line: Line) -> tuple[int, bool]:
    return line.page, line.left >= 0.45


def _column_rights(lines: list[Line]) -> dict[tuple[int, bool], list[float]]:
    columns: dict[tuple[int, bool], list[float]] = {}
    for line in lines:
        columns.setdefault(_column_key(line), []).append(line.right)
    return columns


def _short_lines(lines: list[Line]) -> tuple[list[bool], list[float | None]]:
    """Lines that end short of their column's right edge: the last line of a paragraph.

    The edge is where most lines of that page and column end; the slack allowed is three times how
    ragged the document's lines are (justified text: about none, so a line 2% short is a paragraph's
    end; ragged-right text: a few percent), for a line that ends a sentence; any line ending a third
    of the column short counts (a heading), as does a line under 60% of a full line's characters
    (all there is without positions)."""
    # a full line's length: the 90th percentile, not the longest (one line read across two columns
    # would make every other line "short")
    lengths = sorted(len(l.text) for l in lines)
    full = lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0
    few_characters = [len(l.text) < 0.6 * full for l in lines]
    if not lines or any(not l.right for l in lines):
        return few_characters, [None] * len(lines)
    columns = _column_rights(lines)
    edges = {}
    for key, rights in columns.items():
        rights = sorted(rights)
        edges[key] = rights[int(0.9 * (len(rights) - 1))] if len(rights) >= 5 else None
    page_edge = {page: max(r for (p, _), rs in columns.items() if p == page for r in rs) for page, _ in columns}
    line_edges = [edges[_column_key(l)] or page_edge[l.page] for l in lines]
    shortfall = sorted(max(0.0, e - l.right) for l, e in zip(lines, line_edges) if not ends_sentence(l.text))
    ragged = shortfall[len(shortfall) // 2] if shortfall else 0.0
    slack = max(0.02, 3 * ragged)
    # a line that ends a sentence and stops short, or any line far short (a heading, a list label)
    short = [few or e - l.right > slack and (ends_sentence(l.text) or e - l.right > 0.35 * (e - l.left))
             for l, e, few in zip(lines, line_edges, few_characters)]
    return short, line_edges


def join_lines(parts: list[str]) -> str:
    """Join lines, re-joining words hyphenated across a line break."""
    text = ""
    for part in parts:
        part = part.strip()
        if text.endswith("-") and part[:1].islower():
            text = text[:-1] + part
        else:
            text = f"{text} {part}".strip()
    return text


def is_title(text: str) -> bool:
    words = text.split()
    return (0 < len(text) < 100 and not text.endswith((",", ";")) and len(words) <= 12
            and (text.isupper() or sum(w[:1].isupper() for w in words) >= 0.6 * len(words)))


def ends_sentence(text: str) -> bool:
    return text.rstrip().rstrip("\"”’'").endswith((".", ":", ";"))
