"""Lines from a PDF page's text layer, in reading order, with the marks a form carries.

pypdfium2 (Apache-2.0/BSD; reads owner-locked files) gives text rectangles; each
becomes a run with its font weight and size, and runs on one baseline join into a
line. Form marks are turned into text the parsers already read, placed where they
sit on the page:

- a checkbox drawn as a vector square becomes "[ ]", or "[X]" when a tick (paths,
  or a glyph such as "X" or "✓") sits inside it;
- an AcroForm checkbox or radio button becomes "[ ]" / "[X]" from its checked state;
- an AcroForm text field becomes its value between underscores ("__Acme__"), or a
  blank ("________") when empty.

Watermarks are left out as text is read: characters drawn at an angle, text in a pale or
nearly transparent colour, and letters far larger than the line they sit on (kept as lines of
their own, then removed below when they repeat). Then: two-column pages (an empty gutter in the
middle) are read left column first, and lines repeated in the top or bottom band of most pages
(headers, footers; digits ignored, so "Page 3" repeats) or set large anywhere (watermarks) are
removed, as are bare page numbers and table-of-contents pages.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

BAND = 0.08                 # top and bottom share of the page where headers and footers live
FURNITURE_SHARE = 0.5       # a line repeated on this share of pages is furniture
SAME_LINE = 0.004           # baselines closer than this share of the page height are one line
TOC_LEADER = re.compile(r"\.{4,}\s*\d+\s*$")
PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d+(?:\s+of\s+\d+)?\s*$", re.I)
TICK_GLYPHS = {"x", "X", "✓", "✔", "✗", "✘", "■", "●"}
WORD_GAP = 0.01             # runs this far apart (a share of the width, ~6 pt) are words apart anyway
LIGATURES = str.maketrans({"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "\xad": "", "\xa0": " "})
# Checkboxes as word processors and form tools write them: Unicode boxes, symbol-font private-use
# codes (Word's Wingdings), and symbol-font letters when the font has no Unicode map.
EMPTY_BOXES = "☐□▢❏❐❑❒\uf0a8\uf06f\uf071\uf0a1"
TICKED_BOXES = "☒☑⊠\uf0fe\uf0fd\uf078\uf0fc"
SYMBOL_FONT_LETTERS = {"¨": "☐", "o": "☐", "q": "☐", "þ": "☒", "ý": "☒", "x": "☒"}
BOXES = str.maketrans({**{c: "☐" for c in EMPTY_BOXES}, **{c: "☒" for c in TICKED_BOXES}})
BOX_MIN, BOX_MAX = 4.5, 18.0  # a checkbox's side in points


@dataclass
class Line:
    """One line of text; positions are shares of the page (top 0 → bottom 1)."""

    page: int
    top: float
    left: float
    text: str
    bold: bool = False        # the whole line is set in a bold face
    bold_lead: str = ""       # the bold words the line starts with (a caption such as "(a) Eligibility.")
    size: float = 0.0         # font size in points
    right: float = 0.0        # where the line's text ends (0: not known)
    spans: tuple = ()         # (start, end, left, right, top) of each run: where its characters sit on the page
    second_word: float = 0.0  # where the line's second word starts (0: not known): its first word's width with the space


@dataclass
class Run:
    """A piece of text on one baseline, before runs are joined into lines."""

    top: float
    bottom: float
    left: float
    right: float
    text: str
    bold: bool = False
    size: float = 0.0
    space_before: bool = True  # the page's text has a space (or a line break) before this run
    second_word: float = 0.0  # where the run's second word starts (0: a single word, or not known)


def page_lines(pdf, page, number: int) -> list[Line]:
    """The page's lines in reading order, with drawn boxes and form fields as text."""
    width, height = page.get_size()
    runs = _text_runs(page, width, height)
    runs = _drawn_boxes(page, width, height, runs)
    runs += _form_fields(pdf, page, width, height)
    gutter = find_gutter(runs)
    return join_runs(runs, number) if gutter is None else join_columns(runs, gutter, number)


def join_columns(runs: list[Run], gutter: float, number: int) -> list[Line]:
    """Two columns' runs as lines: the left column first, then the right one."""
    return join_runs([r for r in runs if r.right <= gutter], number) + join_runs([r for r in runs if r.right > gutter], number)


def _text_runs(page, width: float, height: float) -> list[Run]:
    """pdfium's text rectangles as runs, each with its text, font weight and size.

    Text drawn at an angle (a diagonal "SAMPLE", a margin stamp) or in a colour too pale to be
    body text (a watermark in light grey, or nearly transparent) is left out."""
    import pypdfium2.raw as raw

    tp = page.get_textpage()
    runs = []
    try:
        rects = [tp.get_rect(i) for i in range(tp.count_rects())]
        heights = sorted(t - b for _, b, _, t in rects)
        line = heights[len(heights) // 2] if heights else 0.0  # a body line's height
        tall = 1.5 * line
        # watermarks are large or angled (and angled text has a tall box): on a page of body text alone
        # neither check is paid for (about 5 ms a page together)
        has_tall = bool(heights) and heights[-1] > tall
        angled = _angled_chars(tp) if has_tall else set()
        own = _big_rect_chars(tp, rects, angled, line) if has_tall else {}
        hidden = angled.union(*own.values()) if own else angled
        for (left, bottom, right, top), (index, text, space, second) in zip(rects, _rect_texts(tp, rects, hidden, own)):
            if not text:
                continue
            bold, size, font = False, 0.0, ""
            if index is not None and index >= 0:
                if top - bottom > tall and _is_pale(tp, index):
                    continue
                size = raw.FPDFText_GetFontSize(tp.raw, index)
                font = _font_name(tp, index)
                bold = raw.FPDFText_GetFontWeight(tp.raw, index) >= 600 or "bold" in font.lower()
            runs.append(Run(1 - top / height, 1 - bottom / height, left / width, right / width,
                            clean_text(text, font), bold, size, space, second / width if second else 0.0))
    finally:
        tp.close()
    return runs


def clean_text(text: str, font: str = "") -> str:
    """Ligatures split, soft hyphens dropped, every kind of checkbox as ☐ or ☒."""
    text = text.translate(LIGATURES)
    if "dingbat" in font.lower():
        # PDFium reads every ZapfDingbats glyph as "■" (an empty ❏ and a filled box alike): a box whose
        # state cannot be told, rather than a tick that may be wrong
        text = text.replace("■", "[?]")
    if "wingding" in font.lower():
        text = "".join(SYMBOL_FONT_LETTERS.get(c, c) for c in text)
    return text.translate(BOXES)


PALE = 0.75    # text lighter than this (0 black, 1 white) or more transparent is a watermark, not body text
ANGLED = 0.05  # radians: characters turned more than this are not body text


def _angled_chars(tp) -> set[int]:
    """Indices of the characters drawn at an angle (about 2 ms a page: one call per character)."""
    import pypdfium2.raw as raw

    angled = set()
    for k in range(tp.count_chars()):
        angle = raw.FPDFText_GetCharAngle(tp.raw, k)  # radians in [0, 2π); -1 for generated breaks
        if angle >= 0 and min(angle, 2 * math.pi - angle) > ANGLED:
            angled.add(k)
    return angled


def _big_rect_chars(tp, rects, angled: set[int], line: float) -> dict[int, list[int]]:
    """The characters of each rectangle taller than two body lines, found by position.

    Such a rectangle is large type (a title, an upright watermark letter) or angled text, and it
    overlaps body lines: a probe inside it may land on the body text beneath, so its characters
    are those whose centre lies inside it and whose height is on its scale (angled ones go)."""
    big = [n for n, (_, b, _, t) in enumerate(rects) if t - b > 2 * line]
    if not big:
        return {}
    boxes = [tp.get_charbox(k) for k in range(tp.count_chars())]
    own = {}
    for n in big:
        l, b, r, t = rects[n]
        own[n] = [k for k, (cl, cb, cr, ct) in enumerate(boxes)
                  if k not in angled and ct - cb >= 0.3 * (t - b)
                  and l - 1 <= (cl + cr) / 2 <= r + 1 and b - 1 <= (cb + ct) / 2 <= t + 1]
    return own


def _is_pale(tp, index: int) -> bool:
    """Text in a pale or nearly transparent colour: a watermark drawn upright."""
    import pypdfium2.raw as raw

    colour = [ctypes.c_uint() for _ in range(4)]
    if not raw.FPDFText_GetFillColor(tp.raw, index, *(ctypes.byref(c) for c in colour)):
        return False
    r, g, b, a = (c.value / 255 for c in colour)
    return a < 0.5 or 0.299 * r + 0.587 * g + 0.114 * b > PALE


START_SEARCH = 4000  # characters after the last placed start searched for a rectangle's first one


def _rect_texts(tp, rects, hidden: set[int] = frozenset(),
                own: dict[int, list[int]] | None = None) -> list[tuple[int | None, str, bool, float | None]]:
    """(first character index, text, whether a space precedes it, where its second word starts) of
    each rectangle (the last: the left of that word's first character, in points; None if not known).

    Rectangles hold consecutive characters in content order, so the page's text is read once
    and cut where each rectangle starts. (pdfium's bounded-text call rescans the page for each
    rectangle: measured 3x slower on dense pages.) A rectangle whose start cannot be placed
    falls back to that call. Rectangles in `own` are given by their characters, and characters
    in `hidden` (angled ones, and those of `own`) are cut out of the others."""
    own = own or {}
    full = tp.get_text_range()
    if len(full) != tp.count_chars():
        return [(tp.get_index(l + 0.5, (t + b) / 2, 2, 2), " ".join(tp.get_text_bounded(l, b, r, t).split()), True, None)
                for l, b, r, t in rects]
    chars = _PageChars(tp, full, hidden)
    starts, previous = [], -1  # previous: the furthest start so far (a start is looked for after it)
    for n, rect in enumerate(rects):
        k = None if n in own else chars.start_of(rect, previous)  # own: a probe may land on text beneath
        starts.append(k)
        previous = max(previous, k) if k is not None else previous
    out = []
    for i, (k, nxt, rect) in enumerate(zip(starts, _rect_ends(starts, len(full)), rects)):
        if i in own:
            kept = own[i]
            out.append((kept[0] if kept else None, "".join(full[j] for j in kept).strip(), True, None))
        elif k is None or nxt <= k:
            out.append((k, " ".join(tp.get_text_bounded(*rect).split()), k is None or k == 0 or full[k - 1].isspace(), None))
        else:
            out.append(chars.text_between(k, nxt))
    return out


def _rect_ends(starts: list[int | None], length: int) -> list[int]:
    """Where each rectangle's text ends: at the start of the next rectangle that has one."""
    ends, following = [], length
    for k in reversed(starts):
        ends.append(following)
        following = k if k is not None else following
    return ends[::-1]


class _PageChars:
    """A page's characters in content order, with their boxes (left, right, bottom, top in points)."""

    def __init__(self, tp, full: str, hidden: set[int]):
        import pypdfium2.raw as raw

        self.tp, self.full, self.hidden, self.raw = tp, full, hidden, raw
        self.buffer = [ctypes.c_double() for _ in range(4)]

    def box(self, k: int) -> tuple[float, float, float, float]:
        self.raw.FPDFText_GetCharBox(self.tp.raw, k, *self.buffer)
        return tuple(v.value for v in self.buffer)

    def inside(self, k: int, left, bottom, right, top) -> bool:
        l, r, b, t = self.box(k)
        return k not in self.hidden and left - 1 <= (l + r) / 2 <= right + 1 and bottom - 1 <= (b + t) / 2 <= top + 1

    def start_of(self, rect, previous: int) -> int | None:
        """The index of the rectangle's first character, after `previous` (the furthest start so far)."""
        left, bottom, right, top = rect
        k = None
        for x in (left + 0.5, left + 2.0, (left + right) / 2):  # a narrow first glyph (a quote) may be missed
            probe = self.tp.get_index(x, (top + bottom) / 2, 2, 2)
            if probe is not None and probe >= 0 and self.inside(probe, *rect):
                k = probe
                break
        if k is None:  # the probe hit a watermark over the text, or missed a low glyph ("______ 1-Year ..."):
            # look the start up by position, near the last start. Without it the rectangle before ran
            # on to the next start found, and this one's text was read twice.
            k = next((j for j in range(previous + 1, min(len(self.full), previous + 1 + START_SEARCH))
                      if self.inside(j, *rect)), None)
        # the probe may land on the second glyph when the first is narrow (a quote): walk back, but not
        # into the previous rectangle (a quote may be a rectangle of its own: both would hold it)
        while k is not None and k > previous + 1 and self.full[k - 1] not in "\r\n" and k - 1 not in self.hidden:
            l, r, b, t = self.box(k - 1)
            if not (left - 0.5 <= l and r <= right + 0.5 and b < top and t > bottom):
                break
            k -= 1
        return k

    def text_between(self, k: int, nxt: int) -> tuple[int, str, bool, float | None]:
        """The text of characters k to nxt (hidden ones cut out), and where its second word starts."""
        full, hidden = self.full, self.hidden
        piece = full[k:nxt] if not hidden else "".join(c for j, c in enumerate(full[k:nxt], k) if j not in hidden)
        second = _second_word_start(full, k, nxt, hidden)
        space = k == 0 or full[k - 1].isspace() or piece[:1].isspace()
        return k, " ".join(piece.split()), space, self.box(second)[0] if second is not None else None


def _second_word_start(full: str, start: int, end: int, hidden: set[int]) -> int | None:
    """The index of the first character of the second word in full[start:end], if there is one and
    nothing hidden (a watermark letter) lies before it."""
    k = start
    while k < end and full[k].isspace():
        k += 1
    while k < end and not full[k].isspace():
        k += 1
    while k < end and full[k].isspace():
        k += 1
    return k if k < end and not (hidden and hidden.intersection(range(start, k + 1))) else None


def _font_name(tp, index: int) -> str:
    import pypdfium2.raw as raw

    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    n = raw.FPDFText_GetFontInfo(tp.raw, index, buffer, 128, ctypes.byref(flags))
    return buffer.value.decode("latin-1", "replace") if n else ""


def _drawn_boxes(page, width: float, height: float, runs: list[Run]) -> list[Run]:
    """Vector squares of checkbox size become "[ ]"/"[X]" runs; a glyph ticked inside one is consumed."""
    import pypdfium2.raw as raw

    bounds = [obj.get_bounds() for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH])]
    squares = [b for b in bounds if BOX_MIN <= b[2] - b[0] <= BOX_MAX and abs((b[2] - b[0]) - (b[3] - b[1])) <= 1.5]
    within = lambda a, b: a is not b and a[0] >= b[0] - 0.5 and a[2] <= b[2] + 0.5 and a[1] >= b[1] - 0.5 and a[3] <= b[3] + 0.5
    boxes = [b for b in squares if not any(within(b, other) and (other[2] - other[0]) > (b[2] - b[0]) for other in squares)]
    if not boxes:
        return runs
    out = list(runs)
    for box in boxes:
        l, b, r, t = box
        inside = lambda x0, y0, x1, y1: x0 >= l - 1 and x1 <= r + 1 and y0 >= b - 1 and y1 <= t + 1
        ticked = any(other is not box and inside(*other) and (other[2] - other[0]) < (r - l) for other in bounds)
        for run in list(out):
            x0, x1 = run.left * width, run.right * width
            y1, y0 = (1 - run.top) * height, (1 - run.bottom) * height
            if run.text in TICK_GLYPHS and inside(x0, y0, x1, y1):
                out.remove(run)
                ticked = True
        out.append(Run(1 - t / height, 1 - b / height, l / width, r / width, "[X]" if ticked else "[ ]"))
    return out


def _form_fields(pdf, page, width: float, height: float) -> list[Run]:
    """AcroForm widgets on the page as runs: checkboxes and radio buttons by state, text fields by value."""
    import pypdfium2.raw as raw

    if getattr(pdf, "formenv", None) is None:
        return []
    runs = []
    for i in range(raw.FPDFPage_GetAnnotCount(page.raw)):
        annot = raw.FPDFPage_GetAnnot(page.raw, i)
        try:
            if raw.FPDFAnnot_GetSubtype(annot) != raw.FPDF_ANNOT_WIDGET:
                continue
            rect = raw.FS_RECTF()
            if not raw.FPDFAnnot_GetRect(annot, rect):
                continue
            kind = raw.FPDFAnnot_GetFormFieldType(pdf.formenv.raw, annot)
            if kind in (raw.FPDF_FORMFIELD_CHECKBOX, raw.FPDF_FORMFIELD_RADIOBUTTON):
                text = "[X]" if raw.FPDFAnnot_IsChecked(pdf.formenv.raw, annot) else "[ ]"
            elif kind == raw.FPDF_FORMFIELD_TEXTFIELD:
                value = _field_value(pdf, annot).strip()
                text = f"__{value}__" if value else "________"
            else:
                continue
            runs.append(Run(1 - rect.top / height, 1 - rect.bottom / height, rect.left / width, rect.right / width, text))
        finally:
            raw.FPDFPage_CloseAnnot(annot)
    return runs


def _field_value(pdf, annot) -> str:
    import pypdfium2.raw as raw

    n = raw.FPDFAnnot_GetFormFieldValue(pdf.formenv.raw, annot, None, 0)
    if n <= 2:
        return ""
    buffer = ctypes.create_string_buffer(n)
    raw.FPDFAnnot_GetFormFieldValue(pdf.formenv.raw, annot, ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR)), n)
    return buffer.raw[: n - 2].decode("utf-16-le", "replace")


def join_runs(runs: list[Run], number: int) -> list[Line]:
    """Runs on one baseline, left to right, as lines (top to bottom)."""
    lines: list[Line] = []
    groups: list[list[Run]] = []
    # runs whose vertical middles lie close are one line, whatever their fonts (a ☐ glyph sits lower than text)
    middle = lambda r: (r.top + r.bottom) / 2
    # and a letter set far larger than the line (an upright watermark letter) is a line of its own
    similar = lambda a, b: not (a.size and b.size) or max(a.size, b.size) < 1.8 * min(a.size, b.size)
    for run in sorted(runs, key=middle):
        if groups and abs(middle(groups[-1][0]) - middle(run)) < SAME_LINE * 1.5 and similar(groups[-1][0], run):
            groups[-1].append(run)
        else:
            groups.append([run])
    for group in groups:
        group.sort(key=lambda r: r.left)
        # a space between runs only where the page's text has one, or there is room for one:
        # some writers place every letter (or kerned syllable) on its own: "C o m p" is "Comp"
        text = group[0].text
        spans = [(0, len(text), group[0].left, group[0].right, group[0].top)]
        for prev, run in zip(group, group[1:]):
            text += (" " if run.space_before or run.left - prev.right > WORD_GAP else "")
            spans.append((len(text), len(text) + len(run.text), run.left, run.right, run.top))
            text += run.text
        lead = []
        for r in group:
            if not r.bold:
                break
            lead.append(r.text)
        size = max(r.size for r in group)
        second = group[0].second_word or (group[1].left if len(group) > 1 and " " not in group[0].text else 0.0)
        lines.append(Line(number, min(r.top for r in group), group[0].left, text, bold=len(lead) == len(group),
                          bold_lead=" ".join(lead), size=size, right=max(r.right for r in group),
                          spans=tuple(spans), second_word=second))
    return lines


PROSE_LINES, PROSE_WORDS = 3, 4  # a short right column: three lines of four words or more
# A gutter is wider than the spaces between words: 0.012 of the page is 7 pt (the fuzzer's gutter is
# 20 pt, a word space 2-5 pt). On a short last page of one column, the spaces of its four lines lined up
# at one x, and its lines were read as two columns, halves of lines apart (fuzzed target seed 48).
MIN_GUTTER = 0.012


def find_gutter(runs: list[Run]) -> float | None:
    """The x of an empty vertical band in the middle third with body text on both sides, if any.

    Header and footer bands are ignored (a running title may span both columns)."""
    body = [r for r in runs if BAND < r.top < 1 - BAND]
    if len(body) < 10:
        return None
    wordy = lambda r: sum(c.isalpha() for c in r.text) >= 2  # words, not checkboxes
    for x in (0.5, 0.48, 0.52, 0.46, 0.54, 0.44, 0.56, 0.42, 0.58, 0.40, 0.60):
        if any(r.left < x < r.right for r in body) or _free_band(body, x) < MIN_GUTTER:
            continue
        right = sum(r.left >= x and wordy(r) for r in body)
        left = sum(r.right <= x for r in body)
        # the right column may be short (a document's last page): a tenth of the words will do, or a
        # few lines of prose (a two-column page whose right column ends after five lines held 27 of 409
        # words, and its lines were read across both columns); a form's boxes down the right (a grid)
        # or its short answers ("Yes", "No") are no column
        if left >= 0.25 * len(body) and (right >= max(5, 0.1 * len(body))
                                          or _prose_lines([r for r in body if r.left >= x]) >= PROSE_LINES):
            return x
    return None


def _free_band(runs: list[Run], x: float) -> float:
    """How wide the empty band through x is: from the furthest right end left of it to the nearest left
    start right of it (no run crosses x)."""
    left = max((r.right for r in runs if r.right <= x), default=0.0)
    right = min((r.left for r in runs if r.left >= x), default=1.0)
    return right - left


def _prose_lines(runs: list[Run]) -> int:
    """How many lines of at least PROSE_WORDS words of letters `runs` make (runs on one baseline are
    one line: a text layer gives a run a word, OCR a run a line)."""
    words: dict[int, int] = {}
    for r in runs:
        key = round(r.top * 200)  # half a per cent of the page: one baseline
        words[key] = words.get(key, 0) + sum(sum(c.isalpha() for c in w) >= 2 for w in r.text.split())
    return sum(n >= PROSE_WORDS for n in words.values())


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def remove_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers/footers, watermarks, page numbers and table-of-contents pages.

    Headers and footers: lines repeated in the top or bottom band of most pages. Watermarks
    ("SPECIMEN" across the page, often rotated, so PDFium may give a letter per line): text set
    at twice the body size or more, repeated on most pages wherever it sits."""
    sizes = sorted(l.size for lines in pages for l in lines if l.size)
    big = 2 * sizes[len(sizes) // 2] if sizes else float("inf")
    is_banded = lambda l: l.top < BAND or l.top > 1 - BAND
    is_big = lambda l: l.size >= big
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_furniture_key(l.text) for l in lines if is_banded(l) or is_big(l)})
    threshold = max(2, int(FURNITURE_SHARE * len(pages)))
    furniture = {k for k, n in counts.items() if n >= threshold}
    letters = _repeated_letters(pages)
    if letters:
        pages = [[_without_letters(l, letters) for l in lines] for lines in pages]
    cleaned = []
    for lines in pages:
        if sum(bool(TOC_LEADER.search(l.text)) for l in lines) > 0.4 * max(len(lines), 1):
            cleaned.append([])  # a table of contents page
            continue
        cleaned.append([l for l in lines if not PAGE_NUMBER.match(l.text)
                        and not ((is_banded(l) or is_big(l)) and _furniture_key(l.text) in furniture) and l.text])
    return cleaned


def _letter_key(line: Line, span) -> tuple | None:
    start, end, left, _, top = span
    piece = line.text[start:end]
    return (piece, round(left, 2), round(top, 2)) if len(piece) == 1 and piece.isalpha() else None


def _repeated_letters(pages: list[list[Line]]) -> set[tuple]:
    """Single letters drawn at the same place on most pages (at least three): a watermark set
    upright letter by letter ("S A M P L E"), which would otherwise end titles ("DISABILITY S")."""
    counts: Counter[tuple] = Counter()
    for lines in pages:
        counts.update({key for l in lines for span in l.spans if (key := _letter_key(l, span))})
    threshold = max(3, int(FURNITURE_SHARE * len(pages)))
    return {key for key, n in counts.items() if n >= threshold}


def _without_letters(line: Line, letters: set[tuple]) -> Line:
    """The line with the repeated watermark letters taken out (spaces kept as they were)."""
    keep = [span for span in line.spans if _letter_key(line, span) not in letters]
    if len(keep) == len(line.spans):
        return line
    text, spans = "", []
    for n, (start, end, left, right, top) in enumerate(keep):
        gap = line.text[keep[n - 1][1]:start] if n else ""
        text += " " if any(c.isspace() for c in gap) else ""
        spans.append((len(text), len(text) + end - start, left, right, top))
        text += line.text[start:end]
    return replace(line, text=text, spans=tuple(spans), left=keep[0][2] if keep else line.left)


# ---------------------------------------------------------------- a document's lines

@dataclass
class PdfText:
    """A PDF's lines per page (furniture removed) and the path each page took."""

    path: Path
    pages: list[list[Line]]
    page_paths: list[str] = field(default_factory=list)
    vendor: str = ""  # the document vendor the text names most (headers and footers included)


def unread_pages(page_paths) -> list[str]:
    """"page N: why" for every page that gave nothing (no text layer and no OCR, or a failure)."""
    return [f"page {n}: {how}" for n, how in enumerate(page_paths, 1) if how.startswith(("failed", "no text"))]


def page_summary(text: PdfText) -> str:
    """Which pages gave nothing and why, for error messages."""
    bad = unread_pages(text.page_paths)
    return "; ".join(bad[:3]) + (f"; and {len(bad) - 3} more pages" if len(bad) > 3 else "") if bad else \
        f"{len(text.pages)} pages read"
