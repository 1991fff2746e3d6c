"""PDF import from the text layer (pypdfium2: Apache-2.0/BSD, reads owner-locked files).

PyMuPDF would also do, but it is AGPL, which a commercial user of this tool may not
accept; pdfium is permissive and fast.

1. Lines with positions: PDFium's text rectangles, merged by baseline, top to bottom;
   two-column pages are read left column first.
2. Page furniture removed: lines repeated in the top or bottom band of most pages
   (headers, footers; digits ignored, so "Page 3" repeats), bare page numbers;
   table-of-contents pages (dot leaders) skipped; words hyphenated across lines joined.
3. BPD: a provision starts at a numbered heading ("1.04 Compensation", "ARTICLE III"),
   a quoted definition ("'Compensation' means") or a capitalised one ("COMPENSATION:
   Means"); text continues across pages. AA: numbered questions, lettered options with
   checkbox glyphs ([ ], [X], ☐, ☒, ☑, ✓), fill-in blanks with typed values
   (`__value__`), section headings in capitals as context.

Not yet: OCR and vision for pages without a text layer (reported per page), boxes
drawn as vector paths, AcroForm field values.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..fingerprint import AA_PLACEHOLDER
from ..models import Document, Election, ElectionOption, FillIn, Provision

EXTRACTOR_VERSION = "pdf-text-1"  # bump when parsing changes: cached extractions are then redone
BAND = 0.08                 # top and bottom share of the page where headers and footers live
FURNITURE_SHARE = 0.5       # a line repeated on this share of pages is furniture
TOC_LEADER = re.compile(r"\.{4,}\s*\d+\s*$")
PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d+(?:\s+of\s+\d+)?\s*$", re.I)
ARTICLE = re.compile(r"^ARTICLE\s+([IVXLC]+|\d+)\b\.?\s*(.*)$")
SECTION = re.compile(r"^(\d{1,2}\.\d{1,3}[a-z]?)\.?\s+(\S.*)$")
QUOTED_DEFINITION = re.compile(r"^[\"“'‘]([^\"”'’]{2,80})[\"”'’]\s+(?:means|shall mean)\b", re.I)
CAPS_DEFINITION = re.compile(r"^([A-Z][A-Z0-9 \-/()’']{2,70}?)(?::\s*|\.\s+|\s+)(Means\b.*)$")
QUESTION = re.compile(r"^(\d{1,2}(?:\.\d{1,3})?)\.?\s+(\S.*)$")
OPTION = re.compile(r"^\(?([a-z])[.)]\s*(\[\s*[xX✓]?\s*\]|☐|☒|☑|✓)?\s*(.*)$")
SELECTED = {"[x]", "[X]", "☒", "☑", "✓", "[✓]"}
BLANK = re.compile(r"_{2,}([^_\n]*?)_{2,}|_{3,}")
CONTEXT = re.compile(r"^[A-Z][A-Z0-9 ,&\-–/()]{3,80}$")


@dataclass
class Line:
    page: int
    top: float
    left: float
    text: str


@dataclass
class PdfText:
    path: Path
    pages: list[list[Line]]
    page_paths: list[str] = field(default_factory=list)  # which path each page took (text / empty)


def open_pdf(path: Path, password: str | None = None):
    """Open with pdfium; a clear InputError for non-PDFs, corrupt files and missing passwords."""
    import pypdfium2 as pdfium

    head = path.read_bytes()[:1024]
    if b"%PDF-" not in head:
        raise InputError(path, "not a PDF (no %PDF header)")
    try:
        return pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            need = "a password is needed: pass --password" if password is None else "the password is wrong"
            raise InputError(path, need) from None
        raise InputError(path, f"cannot open PDF: {exc}") from None


def read_text(path: Path, password: str | None = None) -> PdfText:
    """Lines with positions for every page, furniture removed."""
    pdf = open_pdf(path, password)
    if len(pdf) == 0:
        raise InputError(path, "the PDF has no pages")
    pages: list[list[Line]] = []
    paths: list[str] = []
    try:
        for n in range(len(pdf)):
            try:
                lines = _page_lines(pdf[n], n + 1)
            except Exception as exc:  # one bad page must not lose the others
                lines, paths_entry = [], f"failed: {type(exc).__name__}"
            else:
                paths_entry = "text" if lines else "no text layer (OCR not available yet)"
            pages.append(lines)
            paths.append(paths_entry)
    finally:
        pdf.close()
    return PdfText(path, _remove_furniture(pages), paths)


def _page_lines(page, number: int) -> list[Line]:
    width, height = page.get_size()
    tp = page.get_textpage()
    rects = []
    for i in range(tp.count_rects()):
        left, bottom, right, top = tp.get_rect(i)
        text = tp.get_text_bounded(left, bottom, right, top).strip()
        if text:
            rects.append((top / height, left / width, right / width, text))
    tp.close()
    merged: list[list] = []
    for top, left, right, text in sorted(rects, key=lambda r: (-r[0], r[1])):
        if merged and abs(merged[-1][0] - top) < 0.004 and left >= merged[-1][2] - 0.01:
            merged[-1][2] = right
            merged[-1][3] += " " + text
        else:
            merged.append([top, left, right, text])
    lines = [Line(number, 1.0 - top, left, text) for top, left, _, text in merged]
    return _column_order(lines)


def _column_order(lines: list[Line]) -> list[Line]:
    """Two columns: most body lines start either left of 0.3 or right of 0.5 of the width."""
    right = [l for l in lines if l.left >= 0.5]
    if len(right) < 0.3 * len(lines) or len(right) < 5:
        return lines
    left = [l for l in lines if l.left < 0.5]
    return left + right


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def _remove_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_furniture_key(l.text) for l in lines if l.top < BAND or l.top > 1 - BAND})
    threshold = max(2, int(FURNITURE_SHARE * len(pages)))
    furniture = {k for k, n in counts.items() if n >= threshold}
    cleaned = []
    for lines in pages:
        if sum(bool(TOC_LEADER.search(l.text)) for l in lines) > 0.4 * max(len(lines), 1):
            cleaned.append([])  # a table of contents page
            continue
        cleaned.append([l for l in lines if not PAGE_NUMBER.match(l.text)
                        and not ((l.top < BAND or l.top > 1 - BAND) and _furniture_key(l.text) in furniture)])
    return cleaned


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


def _is_title_line(line: str) -> bool:
    return len(line) < 90 and not line.endswith((",", ";")) and (line.istitle() or line.isupper() or len(line.split()) <= 8)


def parse_bpd(text: PdfText, doc_id: str) -> Document:
    """Segment BPD lines into provisions."""
    provisions: list[dict] = []
    for lines in text.pages:
        for line in lines:
            s = line.text.strip()
            m_article = ARTICLE.match(s)
            m_section = SECTION.match(s)
            m_quoted = QUOTED_DEFINITION.match(s)
            m_caps = CAPS_DEFINITION.match(s)
            if m_article:  # article headings group sections; they are not provisions themselves
                continue
            if m_section and _is_title_line(m_section.group(2)):
                provisions.append({"number": m_section.group(1), "title": m_section.group(2).strip(), "parts": [],
                                   "page": line.page})
            elif m_quoted and (not provisions or provisions[-1]["parts"]):
                provisions.append({"number": provisions[-1]["number"] if provisions else "", "title": m_quoted.group(1),
                                   "parts": [s], "page": line.page})
            elif m_caps and not (provisions and provisions[-1]["number"] and not provisions[-1]["parts"]):
                provisions.append({"number": "", "title": m_caps.group(1).strip(), "parts": [m_caps.group(2)],
                                   "page": line.page})
            elif s.isupper() and len(s) < 90 and not provisions or (s.isupper() and len(s) < 60 and provisions
                                                                      and provisions[-1]["parts"]):
                provisions.append({"number": "", "title": s, "parts": [], "page": line.page})
            elif provisions:
                provisions[-1]["parts"].append(s)
    records = []
    for n, p in enumerate(x for x in provisions if x["parts"]):
        body = _join(p["parts"])
        refs = tuple(m.group(0) for m in AA_PLACEHOLDER.finditer(body))
        records.append(Provision(id=f"{doc_id}-p{n:04d}", section_number=p["number"], title=p["title"], text=body,
                                 page=p["page"], election_refs=refs))
    if not records:
        raise InputError(text.path, "no provisions found in the text layer")
    return Document(id=doc_id, role="bpd", title=doc_id, source_path=str(text.path), pages=len(text.pages),
                    provisions=tuple(records))


def _fill_ins(text: str) -> tuple[str, tuple[FillIn, ...]]:
    fills = []
    for m in BLANK.finditer(text):
        label = re.findall(r"([A-Za-z][A-Za-z ]{0,30}):?\s*$", text[: m.start()])
        value = (m.group(1) or "").strip() or None
        fills.append(FillIn(label=(label[-1].strip() if label else ""), value=value))
    return BLANK.sub("____", text).strip(), tuple(fills)


def parse_aa(text: PdfText, doc_id: str) -> Document:
    """Numbered questions with lettered options into elections."""
    questions: list[dict] = []
    context = ""
    for lines in text.pages:
        for line in lines:
            s = line.text.strip()
            option = OPTION.match(s)
            question = QUESTION.match(s)
            if option and questions and (option.group(2) or option.group(1) == chr(ord("a") + len(questions[-1]["options"]))):
                questions[-1]["options"].append({"label": option.group(1), "box": option.group(2) or "",
                                                 "parts": [option.group(3)]})
            elif question and not option:
                questions.append({"number": question.group(1), "parts": [question.group(2)], "options": [],
                                  "context": context, "page": line.page})
            elif CONTEXT.match(s) and not question:
                context = s.title()
            elif questions:
                target = questions[-1]["options"][-1] if questions[-1]["options"] else questions[-1]
                target["parts"].append(s)
    elections = [_election(doc_id, n, q) for n, q in enumerate(questions)]
    if not elections:
        raise InputError(text.path, "no Adoption Agreement questions found in the text layer")
    return Document(id=doc_id, role="aa", title=doc_id, source_path=str(text.path), pages=len(text.pages),
                    elections=tuple(elections))


def _election(doc_id: str, n: int, q: dict) -> Election:
    question, fills = _fill_ins(_join(q["parts"]))
    options = []
    for o in q["options"]:
        option_text, option_fills = _fill_ins(_join(o["parts"]))
        options.append(ElectionOption(id=f"{doc_id}-q{n:03d}-{o['label']}", label=o["label"], text=option_text,
                                      is_selected=o["box"].replace(" ", "") in SELECTED if o["box"] else None,
                                      fill_ins=option_fills))
    if not options:
        value = next((f.value for f in fills if f.value), None)
        return Election(id=f"{doc_id}-q{n:03d}", question_number=q["number"], question_text=question,
                        section_context=q["context"], kind="text", selected_value=value, page=q["page"])
    multi = "all that apply" in question.lower() or "one or more" in question.lower()
    chosen = [o.label for o in options if o.is_selected]
    value = chosen if multi else (chosen[0] if chosen else None)
    return Election(id=f"{doc_id}-q{n:03d}", question_number=q["number"], question_text=question,
                    section_context=q["context"], kind="multi_select" if multi else "single_select",
                    options=tuple(options), selected_value=value or None, page=q["page"])


def looks_like_aa(text: PdfText) -> bool:
    """An AA has many checkbox options; a BPD has none."""
    boxes = sum(bool(OPTION.match(l.text) and OPTION.match(l.text).group(2)) for lines in text.pages for l in lines)
    return boxes >= 3


def document_from_text(text: PdfText, role: str | None = None) -> Document:
    """Provisions (BPD) or elections (AA) from lines already read; the role is guessed when not given."""
    if role is None:
        role = "aa" if looks_like_aa(text) else "bpd"
    return parse_aa(text, text.path.stem) if role == "aa" else parse_bpd(text, text.path.stem)


def extract_pdf(path: Path, password: str | None = None, role: str | None = None) -> Document:
    """A PDF's provisions (BPD) or elections (AA), from its text layer."""
    return document_from_text(read_text(path, password), role)
