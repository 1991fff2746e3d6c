"""PDF import: pages to lines (text layer, OCR for scans), lines to provisions or elections.

Library: pypdfium2 (Apache-2.0/BSD). It is fast, reads owner-locked (permissions-only)
files without asking, renders pages for OCR and vision, and reads AcroForm fields.
PyMuPDF would also do, but it is AGPL, which a commercial user of this tool may not
accept.

Each page takes one path, recorded in `Document.page_paths`: `text` (its text layer),
`ocr` (no text layer: Tesseract read the rendered page), or why it gave nothing
(`no text layer: OCR needs ...`, `failed: ...`). One bad page never loses the others.

Segmentation works on lines (see layout.py) and the paragraphs they form:

- BPD: a provision starts at a paragraph that opens with a numbered heading ("1.04
  Compensation", "Section 1.04 COMPENSATION."), a numbered or bare quoted definition
  ("1.78 'Taxable Wage Base' means"), a capitalised definition ("COMPENSATION: Means"),
  a subsection caption ("(a) Eligible Employees."), a captioned paragraph, or a heading
  line on its own (bold, or all capitals). No single cue is relied on: after a sentence
  end these open a provision with no gap or bold before them, definitions are cut out of
  the middle of lines, list items after a colon stay put, labels nest and reset per
  section (see docs/pdf-import.md). Article headings give context, not provisions; text
  continues across pages; table-of-contents pages are skipped.
- AA: numbered questions ("1.01", "B.02", "17."), options lettered or numbered with a
  checkbox before or after the label (glyphs, "[ ]"/"[X]", drawn boxes and form
  fields arrive as "[ ]"/"[X]"), nested options ("(1)", "i.") under an option as
  "c.1", grids (a box under each column heading) as "e.1", "e.2", ... under the row,
  fill-in blanks with typed values, section headings in capitals as context.
"""

from __future__ import annotations

import re
import statistics
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError
from ..fingerprint import AA_PLACEHOLDER
from ..models import Document, Election, ElectionOption, FillIn, Provision
from ..interrupts import stop_requested
from .layout import Line, page_lines, remove_furniture
from .ocr import ocr_pages, ocr_unavailable, render_page

EXTRACTOR_VERSION = "pdf-text-32"  # bump when parsing changes: cached extractions are then redone
OCR_BATCH = 8  # pages rendered and held for OCR at once (a 300 dpi page is ~8 MB in grey)
# PDFium is not thread-safe: one thread at a time may use it, whichever thread (a pipeline reads
# documents in worker threads; two at once crashed the process)
PDFIUM_LOCK = threading.RLock()

ARTICLE = re.compile(r"^ARTICLE\s+([IVXLC]+|\d+)\b\.?\s*(.*)$", re.I)
SECTION = re.compile(r"^(?:Section\s+)?(\d{1,2}\.\d{1,3}[a-z]?(?:\([a-zA-Z0-9]{1,4}\))*)\.?\s+(\S.*)$")
# a quoted term, another after "or", an abbreviation: '"Eligible Automatic Contribution Arrangement" (EACA)'
# a term's words may hold an apostrophe between letters ('"Participant's account balance" means': the
# definition ran into the one before on every layout); any other quote mark closes it
TERM_CHAR = r"(?:[^\"”'’]|(?<=[A-Za-z])['’](?=[A-Za-z]))"
QUOTED_TERM = rf"[\"“'‘]({TERM_CHAR}{{2,80}})[\"”'’](?:\s+or\s+[\"“'‘]{TERM_CHAR}{{2,80}}[\"”'’])?\s*(?:\([^)]{{1,40}}\)\s*)?"
QUOTED_DEFINITION = re.compile(rf"^{QUOTED_TERM}(?:means|shall mean|is defined)\b", re.I)
# a provision that opens with its defined term: '"Term" means', '"Top-Paid Group" shall be determined'
DEFINED_TERM_OPENING = re.compile(rf"^{QUOTED_TERM}(?:means|shall|is|has|refers)\b", re.I)
# a term in capitals may hold a lowercase letter in brackets: "SIMPLE 401(k) YEAR Means" (fuzzed target
# layouts with run-in capitalised terms lost three such definitions each, run into the one before)
CAPS_CHAR = r"(?:[A-Z0-9\-/()’',&]|(?<=\()[a-z](?=\)))"
CAPS_DEFINITION = re.compile(rf"^([A-Z](?:{CAPS_CHAR}| ){{2,70}}?)(?::\s*|\.\s+|\s+)(Means\b.*)$")
SUBSECTION = re.compile(r"^((?:\((?:[a-z]{1,4}|[A-Z]|\d{1,2})\))+|(?:[ivx]{1,5}|[a-zA-Z]|\d{1,2})[.)])\s+(\S.*)$")
# A caption's first word may be a number with a letter in it: "414(s) Compensation.", "1-Year Break in
# Service." (a bare number is not: "2 Years of Service." is a sentence)
NUMBERED_WORD = r"\d{1,4}(?:\([a-z0-9]{1,3}\)|-[A-Z][a-z]+)[\w'’\-/()]*"
NUMBERED_START = re.compile(NUMBERED_WORD + r"\s+[A-Z]")
# A run-in heading before its quoted definition, whatever its words: '1.40. 415 Compensation. "415
# Compensation" means ...' (the title is the heading; the text starts at the quote)
RUNIN_DEFINITION = re.compile(r"^(\S.{0,60}?)\.\s+(?=[\"“'‘][^\"”'’]{2,80}[\"”'’]\s+(?:means|shall mean)\b)")
CAPTION = re.compile(r"^((?:[A-Z][\w'’\-/]*|" + NUMBERED_WORD + r"|of|and|or|the|to|for|in|on|a|an|by|with)(?:\s+(?:[A-Z][\w'’\-/]*|of|and|or|the|to|for|in|on|a|an|by|with|\(\w+\))){0,9})\.\s+(.*)$")
# A caption in sentence case, as Relius sets them: "(b) Funding policy. The Employer shall ..."
# (at most five words, and a capitalised sentence after it; a word may cite the Code: "(h) Required
# minimum distributions (Code §401(a)(9)). Notwithstanding ...")
SENTENCE_CAPTION = re.compile(r"^([A-Z][a-z'’\-/]*(?:\s+[a-z0-9(§][\w'’\-/()§]*){0,4})\.\s+([A-Z0-9\"“(].*)$")
# A quoted caption after a section number: '1.28(c) "Code §410(b)(6)(C) transactions." Employees who ...'
QUOTED_CAPTION = re.compile(r"^[\"“]([^\"”]{2,80}?)(?:\.[\"”]|[\"”]\.)\s+(\S.*)$")
# A caption closed by a dash, as Ascensus sets them: "A. Plan Investments – Except as provided ..."
# (only after a subsection label or at a paragraph's start: inside a sentence a dash is punctuation)
DASH_CAPTION = re.compile(r"^([A-Z][\w'’\-/]*(?:\s+(?:[A-Z][\w'’\-/]*|of|and|or|the|to|for|in|on|a|an|by|with|\(\w+\))){0,7})"
                          r"\s+[–—-]\s+([A-Z0-9\"“(].*)$")
# A heading in capitals run into its text, with or without a stop: "3.3 DETERMINATION OF ELIGIBILITY The
# Administrator ...", "3.11 OTHER LIMITATIONS ON SIMPLE 401(K) CONTRIBUTIONS. If the Employer ..."
CAPS_LEAD = re.compile(r"^([A-Z][A-Z0-9,'’\-/&()]*(?:\s+[A-Z0-9][A-Z0-9,'’\-/&()]*)+)\.?\s+([A-Z][a-z].*)$")
QUESTION = re.compile(r"^(?:Question\s+)?((?:[A-Z]\.)?\d{1,2}(?:\.\d{1,3}[a-z]?)?(?:\.[A-Za-z]{1,3})?|[A-Z](?=\.))[.)]?\s+(\S.*)$")
BOX = r"\[\s*[xX✓✔?]?\s*\]|☐|☒|☑|✓|✔|□|■"
OPTION = re.compile(rf"^\(?([a-z]|\d{{1,2}})[.)]\s*({BOX})?\s*(.*)$")
BOX_FIRST = re.compile(rf"^({BOX})\s*(?:\(?([a-z]|\d{{1,2}})[.)]\s+)?(.*)$")
NESTED = re.compile(rf"^(?:\((\d{{1,2}}|[ivx]{{1,4}})\)|(\d{{1,2}}|[ivx]{{1,4}})\.)\s*({BOX})?\s*(.*)$")
BOX_TOKEN = re.compile(BOX)
INLINE_ANSWER_CHARS = 40  # boxes side by side on a line are answers only when each is this short
TRAILING_LABEL = re.compile(r"(?:^|\s)\(?(?:[a-z]|\d{1,2})[.)]\s*$")
SELECTED = {"[x]", "[X]", "☒", "☑", "✓", "✔", "[✓]", "[✔]", "■"}
# A blank, empty ("______") or holding a typed value set against its underscores ("__6%__"): a value
# never starts or ends with a space, so "_____ percent per payroll ... of _____" is two empty blanks
# with words between them, not one blank holding those words.
TYPED_VALUE = r"[^_\s](?:[^_\n]*?[^_\s])?"
BLANK = re.compile(rf"_{{2,}}({TYPED_VALUE})_{{2,}}|_{{3,}}")
# A row that opens with a quantity, not a question number: "2 Years of Vesting Service" (a vesting
# schedule's rows), "6 Months of Service"; the number is part of its text.
QUANTITY = re.compile(r"^\d{1,3}\s+(?:Years?|Months?|Hours?|Days?|Weeks?|Percent)\b")
ENDS_WITH_BLANK = re.compile(rf"(?:_{{3,}}|_{{2,}}{TYPED_VALUE}_{{2,}})\s*$")  # empty or holding a typed value


@dataclass
class PdfText:
    """A PDF's lines per page (furniture removed) and the path each page took."""

    path: Path
    pages: list[list[Line]]
    page_paths: list[str] = field(default_factory=list)
    vendor: str = ""  # the document vendor the text names most (headers and footers included)


def open_pdf(path: Path, password: str | None = None):
    """Open with pdfium; a clear InputError for non-PDFs, corrupt files and missing passwords."""
    import pypdfium2 as pdfium

    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise InputError(path, "not a PDF (no %PDF header)")
    try:
        pdf = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            need = "a password is needed: pass --password" if password is None else "the password is wrong"
            raise InputError(path, need) from None
        raise InputError(path, f"cannot open PDF: {exc}") from None
    if len(pdf) == 0:
        pdf.close()
        raise InputError(path, "the PDF has no pages")
    pdf.init_forms()  # form field values (AcroForm) are read with the pages
    return pdf


def read_text(path: Path, password: str | None = None, ocr: bool = True) -> PdfText:
    """Lines for every page: the text layer, or OCR where a page has none (when `ocr`).

    PDFium is used under `PDFIUM_LOCK` page by page; scanned pages are OCR'd a batch at a
    time outside it (Tesseract needs no PDFium), so memory stays bounded."""
    with PDFIUM_LOCK:
        pdf = open_pdf(path, password)
    pages: list[list[Line]] = []
    paths: list[str] = []
    scans: dict[int, object] = {}  # page number -> rendered image
    try:
        for n in range(len(pdf)):
            stop_requested.check()  # Ctrl-C: the reading thread stops at the next page
            with PDFIUM_LOCK:
                lines, how, image = _read_page(pdf, n, ocr)
            pages.append(lines)
            paths.append(how)
            if image is not None:
                scans[n + 1] = image
            if len(scans) >= OCR_BATCH or (scans and n == len(pdf) - 1):
                _apply_ocr(scans, pages, paths)
                scans = {}
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    return PdfText(path, remove_furniture(pages), paths, detect_vendor(line.text for page in pages for line in page))


# Document vendors as their names are printed (headers, footers, copyright lines). Names that are
# also English words only count capitalised ("Empower", not "empower").
VENDORS = {
    "Ascensus": re.compile(r"\bascensus\b", re.I), "Relius": re.compile(r"\brelius\b", re.I),
    "FIS": re.compile(r"\bFIS\b"), "Empower": re.compile(r"\bEmpower\b"),
    "ftwilliam": re.compile(r"\bft ?william\b", re.I), "DATAIR": re.compile(r"\bdatair\b", re.I),
    "Corbel": re.compile(r"\bCorbel\b"), "Wolters Kluwer": re.compile(r"\bwolters kluwer\b", re.I),
    "SunGard": re.compile(r"\bsungard\b", re.I), "Fidelity": re.compile(r"\bFidelity\b"),
}


def detect_vendor(lines) -> str:
    """The vendor named most often in the text ("" when none is): what `inspect` shows."""
    counts = {name: 0 for name in VENDORS}
    for text in lines:
        for name, pattern in VENDORS.items():
            counts[name] += len(pattern.findall(text))
    best = max(counts, key=counts.get)
    return best if counts[best] else ""


def _apply_ocr(scans: dict[int, object], pages: list[list[Line]], paths: list[str]) -> None:
    for number, result in ocr_pages(scans).items():
        if isinstance(result, Exception):
            paths[number - 1] = f"failed: OCR error ({type(result).__name__}: {str(result)[:120]})"
        else:
            pages[number - 1], paths[number - 1] = result, "ocr"


def _read_page(pdf, n: int, ocr: bool) -> tuple[list[Line], str, object | None]:
    """The page's text-layer lines and path; its image too when it has no text and OCR will read it."""
    try:
        page = pdf[n]
    except Exception as exc:  # one bad page must not lose the others
        return [], f"failed: cannot load the page ({type(exc).__name__})", None
    try:
        lines = page_lines(pdf, page, n + 1)
        if any(l.text.strip("[]X _") for l in lines):
            return lines, "text", None
        reason = "not asked for" if not ocr else ocr_unavailable()
        if reason:
            return lines, f"no text layer: {reason}", None
        return lines, "ocr pending", render_page(page)
    except Exception as exc:
        return [], f"failed: {type(exc).__name__}: {str(exc)[:120]}", None
    finally:
        page.close()


# ---------------------------------------------------------------- paragraphs

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
    shortfall = sorted(max(0.0, e - l.right) for l, e in zip(lines, line_edges) if not _ends_sentence(l.text))
    ragged = shortfall[len(shortfall) // 2] if shortfall else 0.0
    slack = max(0.02, 3 * ragged)
    # a line that ends a sentence and stops short, or any line far short (a heading, a list label)
    short = [few or e - l.right > slack and (_ends_sentence(l.text) or e - l.right > 0.35 * (e - l.left))
             for l, e, few in zip(lines, line_edges, few_characters)]
    return short, line_edges


def _join(parts: list[str]) -> str:
    """Join lines, re-joining words hyphenated across a line break."""
    text = ""
    for part in parts:
        part = part.strip()
        if text.endswith("-") and part[:1].islower():
            text = text[:-1] + part
        else:
            text = f"{text} {part}".strip()
    return text


# ---------------------------------------------------------------- BPD

def _is_title(text: str) -> bool:
    words = text.split()
    return (0 < len(text) < 100 and not text.endswith((",", ";")) and len(words) <= 12
            and (text.isupper() or sum(w[:1].isupper() for w in words) >= 0.6 * len(words)))


# Where a defined term starts inside a line ("...Section 12.6(d). 1.3 "Act" means ...", "...402(a).
# ADOPTION AGREEMENT: Means ..."): the text layer of a justified page, or one that lost its line
# breaks, runs definitions together.
TERM = r"[\"“][^\"”]{2,80}[\"”]"
CAPS_TERM = rf"[A-Z]{CAPS_CHAR}+(?: {CAPS_CHAR}+){{0,9}}"
NUMBER = r"\d{1,2}\.\d{1,3}\.?\s+"
# Only numbered terms and capitalised ones with a colon are cut inside a line: a bare quoted term
# with "means" also occurs inside a provision ("(a) Employee. "Employee" means ...").
ABBREVIATION = r"(?:\([^)]{1,40}\)\s*)?"  # '"Eligible Automatic Contribution Arrangement" (EACA) means'
# (a term in capitals before "Means" also after a comma: OCR reads a sentence's last period as one,
# "...Plan Section Five, BREAK IN ELIGIBILITY SERVICE: Means ...", and no text puts a capitalised
# "Means" after a comma otherwise)
DEFINITION_INSIDE = re.compile(rf"(?<=[.;:] )(?={NUMBER}{TERM}\s+{ABBREVIATION}(?:means|shall mean)\b)"
                               rf"|(?<=[.,;:] )(?={CAPS_TERM}[.:]?\s+Means\b)")
# A quoted term cut by the line end ('1.10 "Anniversary' / 'Date" means ...') and a capitalised term
# printed at the end of the line before its "Means" ('...402(a). ADOPTION AGREEMENT' / 'Means the ...').
# Single quotes too, as Relius sets its terms ("1.1. 'Qualified Automatic Contribution Safe" / "Harbor
# Account' means": the definition ran into the one before wherever its term wrapped).
OPEN_TERM_TAIL = re.compile(rf"(?:^((?:{NUMBER})?[\"“'‘]{TERM_CHAR}{{1,80}})|(?<=[.;:] )({NUMBER}[\"“'‘]{TERM_CHAR}{{1,80}}))$")
TERM_CLOSE_HEAD = re.compile(rf"^{TERM_CHAR}{{0,80}}[\"”'’]\s+{ABBREVIATION}(?:means|shall mean)\b")
# A whole quoted term at the end of a line whose "means" opens the next ('1.27 "Eligible Automatic
# Contribution Arrangement"' / '(EACA) means an ...')
CLOSED_TERM_TAIL = re.compile(rf"(?:^|(?<=[.;:] ))((?:{NUMBER})?{TERM})$")
MEANS_NEXT = re.compile(rf"^{ABBREVIATION}(?:means|shall mean)\b")
CAPS_TAIL = re.compile(rf"(?:^|(?<=[.,;:] ))({CAPS_TERM}[.:]?)$")
MEANS_HEAD = re.compile(rf"^(?:{CAPS_TERM}[.:]?\s+)?Means\b")  # "Means ..." or the rest of a wrapped term, then Means


def split_definitions(lines: list[Line], starts: list[bool]) -> tuple[list[Line], list[bool]]:
    """Lines cut so that every defined term opens a line that opens a paragraph, wherever the
    page put it: inside a line, wrapped over a line end, or on the line before its "Means"."""
    out: list[Line] = []
    out_starts: list[bool] = []
    carry = ""  # the start of a term moved onto the next line
    for n, (line, para) in enumerate(zip(lines, starts)):
        text = f"{carry} {line.text.strip()}".strip() if carry else line.text.strip()
        # a line opening with a term in capitals and "Means" opens a definition whatever ended the line
        # before (OCR reads that sentence's last period as a comma)
        para = para or bool(carry) or bool(CAPS_DEFINITION.match(text))
        carry = ""
        following = lines[n + 1].text.strip() if n + 1 < len(lines) else ""
        tail = OPEN_TERM_TAIL.search(text) if TERM_CLOSE_HEAD.match(following) else None
        if tail is None and MEANS_HEAD.match(following):
            tail = CAPS_TAIL.search(text)
        if tail is None and MEANS_NEXT.match(following):
            tail = CLOSED_TERM_TAIL.search(text)
        if tail:  # (the group that matched: OPEN_TERM_TAIL has one per alternative)
            carry, text = tail.group(tail.lastindex), text[: tail.start(tail.lastindex)].rstrip()
        pieces = [p for p in DEFINITION_INSIDE.split(text) if p.strip()]
        for k, piece in enumerate(pieces):
            out.append(replace(line, text=piece.strip(), left=line.left + 0.001 * k))
            out_starts.append(para or k > 0)
    return out, out_starts


LIST_LEAD_IN = (":", ";", "; and", "; or", ", and", ", or", " and", " or")


def _leads_into_list(text: str) -> bool:
    """Text a list continues: "...the following:", "...; and", or a sentence left unfinished
    ("...the excess of" / "a. the aggregate ...")."""
    text = text.rstrip()
    return text.endswith(LIST_LEAD_IN) or not (_ends_sentence(text) or text.endswith(")"))


SEMICOLON_END = (";", "; and", "; or")


def _sentence_after_semicolon(current: dict, s: str) -> bool:
    """A full sentence after "...;" that opens a provision of its own: the provision it follows is not
    a list (no "...the following:" before), and the new text starts with a capital ("(3) Notice of
    the rights ..." after "(2) The Participant must be informed ...;"). Items of a list opened by a
    colon ("a. Employer Contributions;" / "b. Matching ...") and lower-case items ("(ii) the
    Participant is permitted ...") stay together."""
    m = SUBSECTION.match(s)
    text = m.group(2) if m else s
    return (not current.get("list") and current["parts"][-1].rstrip().endswith(SEMICOLON_END)
            and text[:1].isupper())


def _ends_sentence(text: str) -> bool:
    return text.rstrip().rstrip("\"”’'").endswith((".", ":", ";"))


SECTION_PAIR = re.compile(r"(\d{1,2})\.(\d{1,3})")  # "3.15" of "3.15", "3.15a", "3.15(b)(1)"


def _next_section(current: dict | None, s: str) -> bool:
    """Whether `s` opens with the section number that comes next after the current provision's
    ("3.15" after "3.14(b)", "4.1" after "3.9"): the next section's heading, which opens a provision
    even where the line before ends a list item ("...410(a)(1)(A); or" / "3.15 General Rules")."""
    m = SECTION.match(s)
    new = SECTION_PAIR.match(m.group(1)) if m else None
    here = SECTION_PAIR.match(current["number"]) if current else None
    if not new or not here:
        return False
    (major, minor), (now_major, now_minor) = map(int, new.groups()), map(int, here.groups())
    return (major, minor) == (now_major, now_minor + 1) or (major == now_major + 1 and minor in (0, 1))


def _strong_start(s: str) -> bool:
    """A line that opens a provision even with no gap, short line or bold before it, once the line
    before ended a sentence: a numbered heading or definition, a quoted or capitalised definition."""
    m = SECTION.match(s)
    if m:
        rest = m.group(2)
        return bool(QUOTED_DEFINITION.match(rest) or QUOTED_CAPTION.match(rest) or CAPTION.match(rest)
                    or RUNIN_DEFINITION.match(rest) or _run_in_title(rest)
                    or _labelled_caption(m.group(1), rest)
                    or (_is_title(rest) and rest[:1].isupper()))
    return bool(QUOTED_DEFINITION.match(s) or QUOTED_CAPTION.match(s) or CAPS_DEFINITION.match(s)
                or SUBSECTION.match(s) or _run_in_caption(s) or DASH_CAPTION.match(s))


TITLE_LEAD = re.compile(r"^([A-Z][^.]{2,90}?)\.\s+([A-Z\"“(].*)$")


def _run_in_title(rest: str) -> re.Match | None:
    """After a section number, a heading in title case run into its text, closed by a period: most
    of its words capitalised, two words or more ("IRA Rules Under Code Section 408. Provisions ...")."""
    t = TITLE_LEAD.match(rest)
    return t if t and len(t.group(1).split()) >= 2 and _is_title(t.group(1)) else None


def _labelled_caption(number: str, rest: str) -> re.Match | None:
    """After a section number that carries a subsection label, a caption in sentence case, read as
    it is after the label alone: "2.10(b) Claims review. Any Employee ..."."""
    return SENTENCE_CAPTION.match(rest) if "(" in number else None


def _run_in_caption(s: str) -> re.Match | None:
    """A paragraph opening with a short caption: "Allocation of gains or losses. As of each ..." (the
    label before it, if any, dropped by the vendor or the text layer)."""
    c = CAPTION.match(s) or SENTENCE_CAPTION.match(s)
    return c if c and len(c.group(1).split()) <= 6 and not c.group(1).isdigit() else None


def _bpd_start(line: Line, para: bool, section: str) -> dict | None:
    """The provision a line opens, or None when it continues the current one."""
    s = line.text.strip()
    m = SECTION.match(s)
    r = RUNIN_DEFINITION.match(m.group(2)) if m else None
    # a bold heading whose first word is a bare number: "1.40 415 Compensation" (it was taken for a
    # heading with no number, and 1.40's subsections were numbered and titled as 1.39's)
    if m and (m.group(2)[:1].isupper() or m.group(2)[:1] in "\"“'‘" or NUMBERED_START.match(m.group(2)) or r
              or (line.bold and m.group(2)[:1].isdigit())):
        rest = m.group(2)
        d = QUOTED_DEFINITION.match(rest)
        if d:
            return {"number": m.group(1), "title": d.group(1), "parts": [rest]}
        if r:
            return {"number": m.group(1), "title": r.group(1), "parts": [rest[r.end():]]}
        q = QUOTED_CAPTION.match(rest)
        if q:
            return {"number": m.group(1), "title": q.group(1), "parts": [rest]}
        c = CAPTION.match(rest)
        if c and len(c.group(1)) <= 2:  # "5.13 B. DETERMINATION OF ..." : a label, not a caption
            c = None
        if line.bold or (_is_title(rest) and not c):
            return {"number": m.group(1), "title": rest.rstrip("."), "parts": [], "heading": True}
        if c:  # a run-in heading: "1.04 Compensation. The term ..."
            return {"number": m.group(1), "title": c.group(1), "parts": [c.group(2)]}
        c = _labelled_caption(m.group(1), rest)
        if c:
            return {"number": m.group(1), "title": c.group(1), "parts": [c.group(2)]}
        t = _run_in_title(rest)
        if t:  # one in title case with a dash or small words: "3.15 Death Before ... – Beneficiary Spouse. If ..."
            return {"number": m.group(1), "title": t.group(1), "parts": [t.group(2)]}
        c = CAPS_LEAD.match(rest)
        if c and sum(ch.isalpha() for ch in c.group(1)) >= 4:
            return {"number": m.group(1), "title": c.group(1), "parts": [c.group(2)]}
        return {"number": m.group(1), "title": "", "parts": [rest]}
    d = QUOTED_DEFINITION.match(s)
    if d:  # a bare definition under a section's text: its further paragraphs are not its own (below)
        return {"number": section, "title": d.group(1), "parts": [s], "bare_definition": True}
    q = QUOTED_CAPTION.match(s)
    if q and not line.bold:  # '"Annual overall permitted disparity limit." Notwithstanding ...'
        return {"number": section, "title": q.group(1), "parts": [s], "caption": True}
    d = CAPS_DEFINITION.match(s)
    if d:
        return {"number": "", "title": d.group(1).strip(), "parts": [d.group(2)]}
    m = SUBSECTION.match(s)
    if m and para:  # a subsection paragraph: "(a) Caption. Text", "(f)(1) Text"
        label, rest = m.group(1), m.group(2)
        if line.bold:
            return {"label": label, "title": rest.rstrip("."), "parts": []}
        if line.bold_lead and len(line.bold_lead) > len(label) + 2:
            caption = line.bold_lead[len(label):].strip()
            body = rest[len(caption):].strip()
            return {"label": label, "title": caption.rstrip("."), "parts": [body] if body else []}
        c = CAPTION.match(rest)
        if c and len(c.group(1).split()) <= 8:
            return {"label": label, "title": c.group(1), "parts": [c.group(2)]}
        c = SENTENCE_CAPTION.match(rest)
        if c:
            return {"label": label, "title": c.group(1), "parts": [c.group(2)]}
        c = DASH_CAPTION.match(rest)
        if c:  # the caption stays in the text too: a dash caption often reads as the sentence's start
            return {"label": label, "title": c.group(1), "parts": [rest]}
        return {"label": label, "title": "", "parts": [s], "open_label": True}
    c = (_run_in_caption(s) or DASH_CAPTION.match(s)) if para and not line.bold else None
    if c:
        return {"number": section, "title": c.group(1), "parts": [s], "caption": True}
    if para and line.bold and len(s) < 100 and not s.endswith((",", ";")) and not ARTICLE.match(s):
        return {"number": "", "title": s.rstrip(".:"), "parts": [], "heading": True}
    if para and s.isupper() and _is_title(s) and not ARTICLE.match(s):
        return {"number": "", "title": s.rstrip(".:"), "parts": [], "heading": True}
    return None


def _defines_heading(term: str, heading: str, line_before: str) -> bool:
    """Whether a bare definition is its section's own: its term names the section's heading, or the
    line before it when that reads like one after its number (a scan's heading is no bold line and
    may not be read as one: "1.40 415 Compensation"). One text's words all among the other's will do,
    as OCR may lose one ("Section 1.1 Account" over "'Combined Account' means")."""
    words = lambda t: set(re.findall(r"[a-z0-9]+", t.lower()))
    m = SECTION.match(line_before.strip())
    before = m.group(2) if m else line_before
    names = [heading] + ([before] if len(before.split()) <= 8 else [])  # a sentence holds a term's words
    defined = words(term)
    return bool(defined) and any(w and (defined <= w or w <= defined) for w in map(words, names))


def _opens_paragraph(current: dict, s: str) -> bool:
    """A paragraph that starts a new sentence (not a list item after "...the following:") and
    is not a further paragraph of a definition: a definition runs on to the next heading or term
    (on 6 fuzzed seeds: definitions one provision each 0.889 -> 0.902 source, 0.936 -> 0.972 target;
    recall -0.002 source, +0.007 target)."""
    if not current["parts"]:
        return False
    first = _join(current["parts"][:3]).lstrip()
    # a definition runs on to the next heading or term, but for one set bare among a section's text
    # ('"Participant's account balance" means' in 6.8(e)): what follows it is the section's, not its
    # own (eight QLAC paragraphs ran into it on the fixed layouts)
    if (DEFINED_TERM_OPENING.match(first) or first.startswith("Means")) and not current.get("bare_definition"):
        return False
    last = current["parts"][-1].rstrip()
    if _sentence_after_semicolon(current, s):
        return True
    return not last.endswith((*LIST_LEAD_IN, ",", "-")) and (s[:1].isupper() or s[:1] in "\"“'‘(")


ROMAN = re.compile(r"^\(?[ivx]{1,5}[.)]")


class Labels:
    """Subsection labels under the current section, nested by kind ("(a)" > "(1)" > "(i)" > "(A)"):
    a label of a kind already open closes the deeper ones, so "a." then "b." gives "1.04b.", never
    "1.04a.b." (Ascensus-style lettering ran on to 40 characters before)."""

    def __init__(self):
        self.section, self.stack = "", []  # stack of (kind, label)
        self.heading_provision: dict | None = None  # the section's heading, when it is a heading line

    @property
    def heading(self) -> str:
        """The section heading's title as read so far (a heading wrapped onto a second line included)."""
        return self.heading_provision["title"] if self.heading_provision else ""

    def reset(self, section: str) -> None:
        self.section, self.stack, self.heading_provision = section, [], None

    def title(self, caption: str) -> str:
        """A subsection's title: under a heading with no text of its own, the heading and the caption
        ("POWERS OF THE EMPLOYER – Appointment of Trustee"), or the heading alone."""
        if not self.heading:
            return caption
        return f"{self.heading} – {caption}" if caption else self.heading

    def number(self, label: str) -> str:
        kind = self._kind(label)
        kinds = [k for k, _ in self.stack]
        if kind in kinds:
            del self.stack[kinds.index(kind):]
        elif label.strip("().") not in ("a", "1", "i", "A"):
            self.stack = []  # "(d)" with no "(a)" seen (a list item kept with its lead-in): a top level
        self.stack.append((kind, label))
        if not self.section:
            return "".join(l for _, l in self.stack)
        # under a section number every label is parenthesised: "3.01(6)", "5.04(A)(1)(a)", not "3.016."
        return self.section + "".join(l if l.startswith("(") else f"({l.strip('.)')})" for _, l in self.stack)

    def _kind(self, label: str) -> str:
        core = label.strip("().")
        if core.isdigit():
            return "digit"
        if ROMAN.match(label) and not (core in ("i", "v", "x") and self._follows_letter(core)):
            return "roman"
        return "upper" if core.isupper() else "lower"

    def _follows_letter(self, core: str) -> bool:
        """"i." after "h." (or "v." after "u.") is a letter, not a roman numeral."""
        previous = next((l.strip("().") for k, l in reversed(self.stack) if k == "lower"), "")
        return len(previous) == 1 and ord(core) == ord(previous) + 1


def _wrapped_caption(current: dict, s: str, labels: "Labels") -> bool:
    """Whether line `s` ends a caption that wrapped after its label ("B. Direction of Investments by" /
    "Participants – Unless otherwise ...", in a narrow column), and if so title the provision by it."""
    if not current.pop("open_label", False) or len(current["parts"]) != 1:
        return False
    m = SUBSECTION.match(current["parts"][0])
    first = m.group(2) if m else ""
    joined = f"{first} {s}"
    c = DASH_CAPTION.match(joined) or CAPTION.match(joined) or SENTENCE_CAPTION.match(joined)
    if not first or not c or len(c.group(1)) <= len(first) or len(c.group(1).split()) > 8:
        return False
    current["title"] = labels.title(c.group(1))
    current["parts"] = [joined if c.re is DASH_CAPTION else c.group(2)]
    return True


QUOTES = "\"“'‘"
MEANS_WORD = re.compile(r"\b(?:means|shall mean)\b")


def _continues_heading(current: dict, start: dict | None, s: str, para: bool) -> bool:
    """Whether line `s` is more of a heading that has no text yet (and add it): a second heading
    line, a heading wrapped onto the next line, or a run-in heading that wrapped ("1.1 Qualified
    Automatic" / "Account. 'Qualified ...")."""
    if not current.get("heading") or current["parts"]:
        return False
    if start and start.get("heading") and not start.get("number"):
        current["title"] = f"{current['title']} {s}".strip()
        return True
    if start or para:
        return False
    c = CAPTION.match(s)
    caption = c is not None and len(c.group(1).split()) <= 6
    # the caption's end comes first when a quoted term follows it ("Account. 'Qualified Voluntary"),
    # and a line with "means" in it is the definition, not more title ("Employee Contribution
    # Account' means the": three of five words capitalised)
    if _is_title(s) and not s.endswith(".") and not (caption and c.group(2)[:1] in QUOTES) \
            and not MEANS_WORD.search(s):
        current["title"] = f"{current['title']} {s}"
        return True
    if caption:
        current["title"] = f"{current['title']} {c.group(1)}"
        current["parts"].append(c.group(2))
        return True
    return False


def _numbered(start: dict, labels: Labels) -> dict:
    """The start with its section number: a subsection's from the labels, nested under the section;
    a new numbered section resets the labels. Under a heading with no text of its own, subsections
    and captioned paragraphs are titled by it ("POWERS OF THE EMPLOYER – Appointment of Trustee")."""
    if "label" in start or start.get("caption"):
        if "label" in start:
            start["number"] = labels.number(start.pop("label"))
        start["title"] = labels.title(start["title"])
    elif start["number"] and (start["number"] != labels.section or start.get("heading")):
        # a second heading under the same number ("3.04 A OBLIGATION ...", then "3.04 B ALLOCATION ...")
        # titles what follows it, as the first did
        labels.reset(re.sub(r"\(.*$", "", start["number"]))
        labels.heading_provision = start if start.get("heading") else None
    return start


# An article heading run into its text: "ARTICLE XII CASH OR DEFERRED PROVISIONS. Except as ...", the
# title (at most twelve words) perhaps wrapped onto the next line ("PROVISIONS. Except as ..."). The
# text is kept as a paragraph: it was dropped with the heading, or run into the provision before it
# (fuzzed seeds with run-in headings lost relius-bpd-0431 so).
ARTICLE_BODY = re.compile(r"^(?:\S+\s+){0,11}?\S+?\.\s+([A-Z0-9(\"'“‘].*[a-z].*)$")
HEADING_END = re.compile(r"^[^a-z]{1,80}?\.\s+([A-Z0-9(\"'“‘].*)$")


def _article_heading(text: str) -> bool:
    """"ARTICLE XII CASH OR DEFERRED PROVISIONS", not a sentence that opens with an article's name
    ("Article XII of the Plan applies ...", whose text was dropped as a heading's)."""
    m = ARTICLE.match(text)
    return bool(m) and not m.group(2)[:1].islower()


def _article_body(heading: str) -> str:
    """The text after an article heading's title on its line ("" if none)."""
    m = ARTICLE_BODY.match(ARTICLE.match(heading).group(2))
    return m.group(1) if m else ""


def _after_article_heading(text: str) -> str:
    """A line right after an article heading: "" while the title goes on (no lowercase letter), the
    text after the title's end ("PROVISIONS. Except as ..."), or the whole line (the article's text)."""
    if not any(c.islower() for c in text):
        return ""
    m = HEADING_END.match(text)
    return m.group(1) if m else text


def parse_bpd(text: PdfText, doc_id: str) -> Document:
    """Segment BPD lines into provisions."""
    raw_lines = [l for page in text.pages for l in page]
    lines, starts = split_definitions(raw_lines, paragraph_starts(raw_lines))
    provisions: list[dict] = []
    labels = Labels()
    previous = ""
    in_article_heading = False
    for line, para in zip(lines, starts):
        s = line.text.strip()
        line_before = previous
        after_sentence, previous = _ends_sentence(previous) or not previous, s
        if in_article_heading and not SECTION.match(s):
            rest = _after_article_heading(s)
            if not rest and not para:
                continue  # the heading's title wraps onto this line
            if rest:
                line, s, para = replace(line, text=rest), rest, True
        in_article_heading = False
        if para and _article_heading(s):
            s = _article_body(s)
            if not s:  # article headings group sections; they are not provisions themselves
                in_article_heading = True
                continue
            line = replace(line, text=s)
        current = provisions[-1] if provisions else None
        opens = para or line.bold_lead or ((after_sentence or _next_section(current, s)) and _strong_start(s))
        start = _bpd_start(line, bool(opens), labels.section) if opens else None
        if start and current and "label" in start and not start["title"] and current["parts"] \
                and _leads_into_list(current["parts"][-1]) and not _sentence_after_semicolon(current, s):
            start = None  # a list item after "...the following:" stays with its lead-in
        if current and _continues_heading(current, start, s, para):
            continue
        if current and _wrapped_caption(current, s, labels):
            continue
        if start:
            start["page"] = line.page
            if start.get("bare_definition") and _defines_heading(start["title"], labels.heading, line_before):
                del start["bare_definition"]  # the section's own definition: it runs on
            provisions.append(_numbered(start, labels))
        elif current and para and _opens_paragraph(current, s):
            # a further paragraph of the same section is a provision of its own, under the same heading
            provisions.append({"number": current["number"], "title": current["title"], "parts": [s], "page": line.page})
        elif current:
            if current["parts"] and current["parts"][-1].rstrip().endswith(":"):
                current["list"] = True  # what follows "...the following:" is its list
            current["parts"].append(s)
    records = []
    for n, p in enumerate(x for x in provisions if x["parts"]):
        body = _join(p["parts"])
        refs = tuple(m.group(0) for m in AA_PLACEHOLDER.finditer(body))
        records.append(Provision(id=f"{doc_id}-p{n:04d}", section_number=p["number"], title=p["title"], text=body,
                                 page=p["page"], election_refs=refs))
    if not records:
        raise InputError(text.path, f"no provisions found ({_page_summary(text)})")
    return Document(id=doc_id, role="bpd", title=doc_id, source_path=str(text.path), pages=len(text.pages),
                    provisions=tuple(records), page_paths=tuple(text.page_paths))


# ---------------------------------------------------------------- AA

# A value typed after the printed blank ("is ____ __6%__"): one blank holding the value. Two valued
# blanks side by side ("__100__ __4__") stay two.
TYPED_AFTER_BLANK = re.compile(r"(?<!\S)_{2,}\s+(?=_{2,}[^_\s])")  # an empty blank, then a valued one


def _fill_ins(text: str) -> tuple[str, tuple[FillIn, ...]]:
    text = TYPED_AFTER_BLANK.sub("", text)
    fills = []
    for m in BLANK.finditer(text):
        label = re.findall(r"([A-Za-z][A-Za-z ]{0,30}):?\s*$", text[: m.start()])
        value = (m.group(1) or "").strip() or None
        fills.append(FillIn(label=(label[-1].strip() if label else ""), value=value))
    return BLANK.sub("____", text).strip(), tuple(fills)


def _option_start(s: str, question: dict) -> dict | None:
    """An option line ("a. [X] text", "[ ] b. text", "☐ text"), or None."""
    expected = len(question["options"])
    m = BOX_FIRST.match(s)
    if m:
        label = m.group(2) or chr(ord("a") + expected)
        return {"label": label, "box": m.group(1), "parts": [m.group(3)]}
    m = OPTION.match(s)
    if m and (m.group(2) or m.group(1) == chr(ord("a") + expected)):
        return {"label": m.group(1), "box": m.group(2) or "", "parts": [m.group(3)]}
    return None


def _nested_start(s: str, line: Line, question: dict) -> dict | None:
    """A sub-option under the current option: "(1) [ ] text" or "i. [X] text", set deeper than its parent."""
    parents = [o for o in question["options"] if "." not in o["label"]]
    if not parents:
        return None
    parent = parents[-1]
    m = NESTED.match(s)
    if m and m.group(3) and line.left > parent["left"] + 0.01:
        return {"label": f"{parent['label']}.{m.group(1) or m.group(2)}", "box": m.group(3), "parts": [m.group(4)],
}
    return None


def _opens_question(m: re.Match) -> bool:
    """A numbered line that is a question: its text starts a sentence ("1.01 Name of ...", "B. Vesting"),
    or a dotted number leads it ("4.01 a discretionary ..."); "12 months of ..." is not one."""
    number, rest = m.group(1), m.group(2)
    return rest[:1].isupper() or rest[:1] in "\"“([" or ("." in number and number[0].isdigit() and rest[:1].isalpha())


def _question_without_gap(m: re.Match, previous: str, current: dict | None = None) -> bool:
    """Forms often set questions line after line with no extra space: a dotted number, then a
    capital, after a line that was an option ("1.06 Is the Plan ..." after "[X] Fiscal year"), or
    that ended an option's sentence, or numbered next after the current question ("25.04" after
    "25.03"); not a wrapped reference ("... Section" / "1.06 of the Plan")."""
    number, rest = m.group(1), m.group(2)
    if not rest[:1].isupper():
        return False
    answered = _answered(current)
    if "." not in number:  # "2. Determination Period" after question 1's options
        return answered and _numbered_next(current["number"], number)
    if BOX_TOKEN.search(previous):  # an option line (a sentence end alone is too weak: wrapped text)
        return True
    if _numbered_heading(current) and rest.upper() != rest:  # "10.03 Initial Amount ..." under "10. ACA AND EACA"
        return True
    return answered and (_ends_sentence(previous) or bool(ENDS_WITH_BLANK.search(previous))
                         or _numbered_next(current["number"], number))


def _answered(current: dict | None) -> bool:
    """Whether the current question already has its answer: options, or a blank to fill that ends it
    ("The effective date of the Catch-Up Contribution provisions is ______"); what follows is then
    the next question or a section heading, not more of its text."""
    if not current:
        return False
    return bool(current["options"]) or bool(ENDS_WITH_BLANK.search(current["parts"][-1] if current["parts"] else ""))


def _numbered_heading(current: dict | None) -> bool:
    """The current "question" is a numbered section heading in capitals with nothing under it yet
    ("10. ACA AND EACA - INITIAL AMOUNT OF AUTOMATIC ELECTIVE DEFERRAL"): a numbered line in mixed
    case right under it is its first question, set without a gap, not more of the heading (on 6
    fuzzed layouts with bold headings and little space, a quarter of the target AA's questions ran
    into the heading before them)."""
    if not current or current["options"] or len(current["parts"]) != 1:
        return False
    return _heading_like(current["parts"][0])


def _numbered_next(before: str, after: str) -> bool:
    """"25.04" after "25.03", "B.02" after "B.01", "E" after "D": the next question of the same section."""
    a, b = before.rsplit(".", 1) if "." in before else ("", before), after.rsplit(".", 1) if "." in after else ("", after)
    if a[0] == b[0] and len(a[1]) == len(b[1]) == 1 and a[1].isupper() and b[1].isupper():
        return ord(b[1]) == ord(a[1]) + 1
    return a[0] == b[0] and a[1].isdigit() and b[1].isdigit() and int(b[1]) == int(a[1]) + 1


def _is_context(s: str, line: Line) -> bool:
    """A section heading between questions: a short line in capitals (or bold), no blank to fill."""
    return _heading_like(s, line.bold)


def _heading_like(s: str, bold: bool = False) -> bool:
    """A short line in capitals (or, when bold, in title case) with no blank to fill."""
    return (len(s) <= 100 and sum(c.isalpha() for c in s) >= 4 and not BLANK.search(s)
            and (s.upper() == s or bold and _is_title(s)))


def _inline_boxes_split(lines: list[Line], starts: list[bool], keep: set[int] = frozenset()):
    """(line, opens a paragraph) pairs, with lines holding two or more boxes ("Plan Year: ☐ Calendar
    ☐ Fiscal", "☐ Yes ☐ No") cut into the text before the first box and one line per box. Lines
    whose id is in `keep` (grid rows) are passed whole."""
    for line, para in zip(lines, starts):
        boxes = list(BOX_TOKEN.finditer(line.text))
        if id(line) in keep:
            yield line, para
            continue
        ends = [b.start() for b in boxes[1:]] + [len(line.text)]
        # short answers side by side; long sentences with boxes in them are options set out in prose
        if len(boxes) < 2 or any(end - box.end() > INLINE_ANSWER_CHARS for box, end in zip(boxes, ends)):
            yield line, para
            continue
        # a label printed before a box ("1. [ ] ...  2. [ ] ...") belongs to the box after it
        cuts = [b.start() for b in boxes]
        for n, cut in enumerate(cuts):
            label = TRAILING_LABEL.search(line.text[:cut])
            if label:
                cuts[n] = label.start()
        prefix = line.text[: cuts[0]].strip()
        if prefix:
            yield replace(line, text=prefix), para
        for n, (start, end) in enumerate(zip(cuts, cuts[1:] + [len(line.text)])):
            yield replace(line, text=line.text[start:end].strip(), left=line.left + 0.001 * n), False


# ---------------------------------------------------------------- AA grids

BOXES_ONLY = re.compile(rf"^(?:\s*(?:{BOX}))+\s*$")


@dataclass
class GridRow:
    """A row of boxes under column headings: "e. Age 20 1/2   ☐ ☐ ☒ ☐"."""

    text: str                  # what precedes the boxes ("e. Age 20 1/2")
    boxes: list[str]           # each box as printed ("☐", "[X]")
    columns: list[str]         # the heading over each box


def _box_centres(line: Line) -> list[tuple[str, float]] | None:
    """(box, x centre) of a line that ends in two or more boxes with no text between or after
    them, or None. A run holding several boxes is shared out by character position."""
    boxes = list(BOX_TOKEN.finditer(line.text))
    if len(boxes) < 2 or not line.spans or not BOXES_ONLY.match(line.text[boxes[0].start():]):
        return None
    centres = []
    for b in boxes:
        span = next((sp for sp in line.spans if sp[0] <= b.start() < sp[1]), None)
        if span is None:
            return None
        start, end, left, right, _ = span
        at = lambda i: left + (right - left) * (i - start) / max(end - start, 1)
        centres.append((b.group(0), (at(b.start()) + at(b.end())) / 2))
    return centres


def _heading_columns(lines: list[Line], row: int, xs: list[float]) -> tuple[list[str], list[int]] | None:
    """The column headings over box centres `xs` and the indices of the lines they were read from:
    the lines just above line `row` whose every run sits over a box (a heading may wrap onto two or
    three lines), or None."""
    tolerance = min(0.06, 0.45 * min(b - a for a, b in zip(xs, xs[1:])))
    names: list[list[str]] = [[] for _ in xs]
    used: list[int] = []
    for j in range(row - 1, max(row - 4, -1), -1):
        above = lines[j]
        if above.page != lines[row].page or BOX_TOKEN.search(above.text) or not above.spans:
            break
        placed = []
        for start, end, left, right, _ in above.spans:
            centre = (left + right) / 2
            nearest = min(range(len(xs)), key=lambda k: abs(xs[k] - centre))
            if abs(xs[nearest] - centre) > tolerance:
                placed = None
                break
            placed.append((nearest, above.text[start:end].strip()))
        if not placed:
            break
        for k, words in placed:
            names[k].insert(0, words)
        used.append(j)
    if not used or sum(bool(n) for n in names) < 2:
        return None
    return [" ".join(n) for n in names], used


def find_grids(lines: list[Line]) -> tuple[dict[int, GridRow], set[int]]:
    """Grid rows (by line index) and the heading lines over them. Rows further down the same grid
    (or continued on the next page) reuse the headings of the nearest grid above with its boxes
    in the same places."""
    rows: dict[int, GridRow] = {}
    headings: set[int] = set()
    last: tuple[list[float], list[str]] | None = None
    for i, line in enumerate(lines):
        centres = _box_centres(line)
        if centres is None:
            continue
        xs = [x for _, x in centres]
        found = _heading_columns(lines, i, xs)
        if found:
            columns, used = found
            headings.update(used)
            last = (xs, columns)
        elif last and len(last[0]) == len(xs) and all(abs(a - b) < 0.02 for a, b in zip(last[0], xs)):
            columns = last[1]
        else:
            continue
        first = line.text.index(centres[0][0]) if centres[0][0] in line.text else len(line.text)
        rows[i] = GridRow(line.text[:first].strip(), [box for box, _ in centres], columns)
    return rows, headings


def _grid_options(row: GridRow, question: dict, left: float) -> list[dict]:
    """A grid row as options: the row ("e", no box of its own), then one option per column under
    it ("e.1" All Contributions, "e.2" Elective Deferrals, ...), each with its box. The same AA
    drawn as nested lists gives the same options; no tick is read twice."""
    m = OPTION.match(row.text)
    label = m.group(1) if m else chr(ord("a") + sum("." not in o["label"] for o in question["options"]))
    text = m.group(3) if m else row.text
    options = [{"label": label, "box": "", "parts": [text], "left": left}]
    for k, (box, column) in enumerate(zip(row.boxes, row.columns), 1):
        options.append({"label": f"{label}.{k}", "box": box, "parts": [column], "left": left + 0.02, "column": True})
    return options


def parse_aa(text: PdfText, doc_id: str) -> Document:
    """Numbered questions with their options into elections."""
    lines = [l for page in text.pages for l in page]
    grid_rows, grid_headings = find_grids(lines)
    rows = {id(lines[i]): row for i, row in grid_rows.items()}
    skipped = {id(lines[i]) for i in grid_headings}
    questions: list[dict] = []
    context = ""
    previous = ""
    after_heading = False  # the line before was a section heading: a numbered line now opens a question
    for line, para in _inline_boxes_split(lines, paragraph_starts(lines), set(rows)):
        s = line.text.strip()
        current = questions[-1] if questions else None
        if id(line) in skipped:
            continue  # column headings over a grid: they name the grid's options
        if id(line) in rows and current:
            current["options"].extend(_grid_options(rows[id(line)], current, line.left))
            previous = s
            continue
        nested = _nested_start(s, line, current) if current else None
        option = None if nested else (_option_start(s, current) if current else None)
        question = QUESTION.match(s)
        if question and not (para or after_heading or _question_without_gap(question, previous, current)):
            question = None
        previous, after_heading = s, False
        if nested:
            current["options"].append({**nested, "left": line.left})
        elif option and not (question and not option["box"] and "." in question.group(1)):
            current["options"].append({**option, "left": line.left})
        elif question and _opens_question(question):
            number, opening = ("", s) if QUANTITY.match(s) else (question.group(1), question.group(2))
            questions.append({"number": number, "parts": [opening], "options": [], "context": context, "page": line.page})
        elif (para or _answered(current)) and _is_context(s, line):
            context = s.title()  # a section heading in capitals (after options or a blank it needs no gap)
            after_heading = True
        elif current:
            target = current["options"][-1] if current["options"] else current
            if target.get("column"):  # the row's text wrapped under it: it belongs to the row, not a column
                target = next(o for o in reversed(current["options"]) if not o.get("column"))
            target["parts"].append(s)
    elections = [_election(doc_id, n, q) for n, q in enumerate(questions)]
    if not elections:
        raise InputError(text.path, f"no Adoption Agreement questions found ({_page_summary(text)})")
    return Document(id=doc_id, role="aa", title=doc_id, source_path=str(text.path), pages=len(text.pages),
                    elections=tuple(elections), page_paths=tuple(text.page_paths))


def _box_state(box: str) -> bool | None:
    """Ticked, not ticked, or None when there is no box or its state cannot be read ("[?]")."""
    box = box.replace(" ", "")
    return None if not box or box == "[?]" else box in SELECTED


def _election(doc_id: str, n: int, q: dict) -> Election:
    question, fills = _fill_ins(_join(q["parts"]))
    options = []
    for o in q["options"]:
        option_text, option_fills = _fill_ins(_join(o["parts"]))
        options.append(ElectionOption(id=f"{doc_id}-q{n:03d}-{o['label']}", label=o["label"], text=option_text,
                                      is_selected=_box_state(o["box"]),
                                      fill_ins=option_fills))
    if not options:
        value = next((f.value for f in fills if f.value), None)
        return Election(id=f"{doc_id}-q{n:03d}", question_number=q["number"], question_text=question,
                        section_context=q["context"], kind="text", selected_value=value, page=q["page"])
    lowered = question.lower()
    multi = "all that apply" in lowered or "one or more" in lowered or "check all" in lowered
    chosen = [o.label for o in options if o.is_selected]
    value = chosen if multi else (chosen[0] if chosen else None)
    return Election(id=f"{doc_id}-q{n:03d}", question_number=q["number"], question_text=question,
                    section_context=q["context"], kind="multi_select" if multi else "single_select",
                    options=tuple(options), selected_value=value or None, page=q["page"])


# ---------------------------------------------------------------- documents

def unread_pages(page_paths) -> list[str]:
    """"page N: why" for every page that gave nothing (no text layer and no OCR, or a failure)."""
    return [f"page {n}: {how}" for n, how in enumerate(page_paths, 1) if how.startswith(("failed", "no text"))]


def _page_summary(text: PdfText) -> str:
    """Which pages gave nothing and why, for error messages."""
    bad = unread_pages(text.page_paths)
    return "; ".join(bad[:3]) + (f"; and {len(bad) - 3} more pages" if len(bad) > 3 else "") if bad else \
        f"{len(text.pages)} pages read"


def looks_like_aa(text: PdfText) -> bool:
    """An AA has checkboxes (three or more, anywhere on its lines); a BPD has none."""
    return sum(len(BOX_TOKEN.findall(l.text)) for lines in text.pages for l in lines) >= 3


def document_from_text(text: PdfText, role: str | None = None) -> Document:
    """Provisions (BPD) or elections (AA) from lines already read; the role is guessed when not given."""
    if role is None:
        role = "aa" if looks_like_aa(text) else "bpd"
    doc = parse_aa(text, text.path.stem) if role == "aa" else parse_bpd(text, text.path.stem)
    return doc.model_copy(update={"vendor": text.vendor}) if text.vendor and not doc.vendor else doc


def extract_pdf(path: Path, password: str | None = None, role: str | None = None) -> Document:
    """A PDF's provisions (BPD) or elections (AA), from its text layer (OCR where a page has none)."""
    return document_from_text(read_text(path, password), role)
