"""Render corpus records as PDFs in several vendor-like layouts (reportlab), remembering
what each page holds, so the extraction benchmark can score what comes back.

BPD layouts: `single` (bold numbered headings over body paragraphs, running header
and footer), `two-column` (same, two columns, smaller type), `inline` (definitions run
in: `1.78 "Term" means ...`, `TERM: Means ...`, subsection captions `(a) Caption.`
in bold at the start of their paragraph; sans-serif). AA layouts: `glyphs` (☐/☒ in
DejaVu Sans, or [ ]/[X] where that font is missing), `drawn` (boxes and ticks drawn as
vector paths), `form` (AcroForm checkboxes and text fields carrying the values).
Any layout can be turned into an image-only copy (`scan`) for the OCR path.

Selections and fill-in values are chosen deterministically per record, so the truth
for selection-state accuracy is known.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

WIDTH, HEIGHT = LETTER
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def register_fonts(folder: Path, faces: dict[str, str]) -> bool:
    """Register TrueType `faces` (name -> file in `folder`) with reportlab; False when not installed."""
    if not all((folder / file).is_file() for file in faces.values()):
        return False
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    return True


HAVE_DEJAVU = register_fonts(DEJAVU, {"DejaVu": "DejaVuSans.ttf", "DejaVu-Bold": "DejaVuSans-Bold.ttf",
                                      "DejaVuSerif": "DejaVuSerif.ttf", "DejaVuSerif-Bold": "DejaVuSerif-Bold.ttf"})


def _chance(key: str, salt: str) -> float:
    return int(hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


@dataclass
class Truth:
    """What was rendered: per record, its page; for AA options, the rendered selection state."""

    pages: dict[str, int] = field(default_factory=dict)
    selected: dict[str, list[bool]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


class Flow:
    """Text flowing down one or two columns over pages, with a running header and footer."""

    def __init__(self, path: Path, header: str, columns: int = 1, size: float = 10.5,
                 body: str = "Times-Roman", bold: str = "Times-Bold"):
        self.c = Canvas(str(path), pagesize=LETTER, invariant=1)
        self.header, self.columns, self.size, self.lead = header, columns, size, size * 1.3
        self.body, self.bold = body, bold
        self.margin, self.gutter = 60, 24
        self.col_width = (WIDTH - 2 * self.margin - (columns - 1) * self.gutter) / columns
        self.page, self.col = 0, 0
        self._new_page()

    def _new_page(self) -> None:
        if self.page:
            self.c.showPage()
        self.page += 1
        self.col = 0
        self.c.setFont(self.body, 8)
        self.c.drawString(self.margin, HEIGHT - 36, self.header)
        self.c.drawRightString(WIDTH - self.margin, 30, f"Page {self.page}")
        self.y = HEIGHT - 64

    def x(self, indent: float = 0.0) -> float:
        return self.margin + self.col * (self.col_width + self.gutter) + indent

    def need(self, height: float) -> None:
        if self.y - height < 56:
            if self.col + 1 < self.columns:
                self.col += 1
                self.y = HEIGHT - 64
            else:
                self._new_page()

    def gap(self, share: float = 0.6) -> None:
        self.y -= self.lead * share

    def para(self, pieces: list[tuple[str, str]], indent: float = 0.0, first: str = "") -> None:
        """Wrap (font, text) pieces as one paragraph; `first` (a label) hangs before the first line."""
        words = [(font, w) for font, text in pieces for w in text.split()]
        width = self.col_width - indent
        line: list[tuple[str, str]] = []
        for word in words:
            trial = line + [word]
            if line and self._width(trial) > width:
                self._draw(line, indent)
                line = [word]
            else:
                line = trial
        if line:
            self._draw(line, indent)

    def _width(self, words) -> float:
        return sum(self.c.stringWidth(w + " ", f, self.size) for f, w in words)

    def _draw(self, words, indent: float) -> None:
        self.need(self.lead)
        x = self.x(indent)
        # consecutive words in one font are one string, as word processors write them
        runs: list[tuple[str, str]] = []
        for font, word in words:
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + " " + word)
            else:
                runs.append((font, word))
        for font, text in runs:
            self.c.setFont(font, self.size)
            self.c.drawString(x, self.y, text)
            x += self.c.stringWidth(text + " ", font, self.size)
        self.y -= self.lead

    def save(self) -> None:
        self.c.save()


def render_bpd(doc: dict, path: Path, layout: str) -> Truth:
    """The corpus BPD's records as a PDF in `layout` (single, two-column, inline)."""
    columns, size = (2, 9.0) if layout == "two-column" else (1, 10.5)
    fonts = ("Helvetica", "Helvetica-Bold") if layout == "inline" else ("Times-Roman", "Times-Bold")
    f = Flow(path, f"{doc.get('vendor', '')} Basic Plan Document", columns, size, *fonts)
    body, bold = fonts
    truth = Truth()
    for r in doc["records"]:
        number, title, text = r["section_number"].strip(), r["section_title"].strip(), r["provision_text"].strip()
        f.gap()
        f.need(3 * f.lead)
        truth.pages[r["id"]] = f.page
        if layout == "inline" and text[:1] in "'\"‘“" and not number.startswith("("):
            f.para([(bold, number), (body, text)] if number else [(body, text)])
        elif layout == "inline" and text.startswith("Means") and title.isupper():
            f.para([(bold, title + ":"), (body, text)])
        elif layout == "inline" and number.startswith("(") and title:
            f.para([(bold, f"{number} {title}."), (body, text)])
        else:
            heading = f"{number} {title}".strip()
            if heading:
                f.para([(bold, heading)])
            f.para([(body, text)])
    f.save()
    return truth


def _box(c: Canvas, x: float, y: float, ticked: bool, size: float = 8.0) -> None:
    c.setLineWidth(0.6)
    c.rect(x, y - 1, size, size, stroke=1, fill=0)
    if ticked:
        c.line(x + 1.5, y + 0.5, x + size - 1.5, y + size - 2.5)
        c.line(x + 1.5, y + size - 2.5, x + size - 1.5, y + 0.5)


OPTION_LIKE = re.compile(r"^\(?([a-z]{1,2})[.)]\s+(.*)$|^\(?(\d{1,2})[.)]\s*\[\s*[xX]?\s*\]\s*(.*)$", re.S)


def option_label(record: dict) -> tuple[str, str] | None:
    """(label, text) of a corpus "question" that is really an option the earlier extraction split out
    ("m. Other: ____", or numbered just "w"), else None."""
    m = OPTION_LIKE.match(record["question_text"].strip())
    if m:
        return (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    if re.fullmatch(r"[a-z]{1,2}", record["question_number"].strip()):
        return record["question_number"].strip(), record["question_text"].strip()
    return None


def is_option_like(record: dict) -> bool:
    return option_label(record) is not None


def render_aa(doc: dict, path: Path, layout: str) -> Truth:
    """The corpus AA's elections as a PDF in `layout` (glyphs, drawn, form), ticking some options.

    A record that is an option split out as a question is drawn as what it is on paper: an
    option line of the question before it."""
    f = Flow(path, f"{doc.get('vendor', '')} Adoption Agreement", 1, 10.0, "Helvetica", "Helvetica-Bold")
    truth = Truth()
    context = None
    for r in doc["records"]:
        question = r["question_text"].strip()
        if is_option_like(r):  # its own options are nested under it: "(1) [ ] All Contributions"
            label, text = option_label(r)
            truth.pages[r["id"]] = f.page
            _option_line(f, layout, label, text, False, r["id"])
            for n, o in enumerate(r.get("options") or [], 1):
                _option_line(f, layout, f"({n})", o["option_text"].strip(), False, f"{r['id']}_{n}", indent=36)
            continue
        if r.get("section_context") and r["section_context"] != context:
            context = r["section_context"]
            f.gap(1.0)
            f.need(4 * f.lead)
            f.para([("Helvetica-Bold", context.upper())])
        f.gap()
        f.need(3 * f.lead)
        truth.pages[r["id"]] = f.page
        # a question whose text already starts with its number is not numbered twice
        number = r["question_number"].strip()
        number = "" if re.match(r"^[A-Z]?\.?\d", question) or question.startswith(number + ".") else number
        options = r.get("options") or []
        if not options:
            value = f"Value {r['id'][-3:]}" if _chance(r["id"], "value") < 0.5 else ""
            truth.values[r["id"]] = value
            if layout == "form":  # the blank is a text field on the line below the question
                f.para([("Helvetica-Bold", number), ("Helvetica", re.sub(r"\s*_{3,}", "", question).strip())])
                f.need(f.lead)
                f.c.acroForm.textfield(name=f"t_{r['id']}", value=value, x=f.x(18), y=f.y - 3, width=220,
                                       height=f.lead, borderWidth=0, fontSize=8, fontName="Helvetica")
                f.y -= f.lead
            else:
                filled = question.replace("______", f"__{value}__", 1) if value and "___" in question else question
                tail = f" __{value}__" if value and "___" not in question else ("" if "___" in question else " ________")
                f.para([("Helvetica-Bold", number), ("Helvetica", filled + tail)])
            continue
        f.para([("Helvetica-Bold", number), ("Helvetica", question)])
        multi = r["kind"] == "multi_select"
        pick = int(_chance(r["id"], "pick") * len(options))
        states = [(_chance(f"{r['id']}-{i}", "multi") < 0.3) if multi else (i == pick and _chance(r["id"], "any") < 0.6)
                  for i in range(len(options))]
        truth.selected[r["id"]] = states
        for o, state in zip(options, states):
            _option_line(f, layout, o["label"], o["option_text"].strip(), state, f"{r['id']}_{o['label']}")
    f.save()
    return truth


def _option_line(f: Flow, layout: str, label: str, text: str, state: bool, name: str, indent: float = 18) -> None:
    """One option: label, checkbox (glyph, drawn or form field) and text."""
    label = label if label.startswith("(") else f"{label}."
    if layout == "glyphs":
        glyph_font = "DejaVu" if HAVE_DEJAVU else "Helvetica"
        on, off = ("☒", "☐") if HAVE_DEJAVU else ("[X]", "[ ]")
        f.para([("Helvetica", label), (glyph_font, on if state else off), ("Helvetica", text)], indent=indent)
        return
    f.need(f.lead)
    top = f.y
    f.para([("Helvetica", label)], indent=indent)
    f.y = top  # the box and the text share the label's line
    if layout == "drawn":
        _box(f.c, f.x(indent + 14), top, state)
    else:
        f.c.acroForm.checkbox(name=f"c_{name}", checked=state, x=f.x(indent + 14), y=top - 1, size=8, borderWidth=0.5,
                              buttonStyle="cross")
    f.para([("Helvetica", text)], indent=indent + 28)


def scan_copy(src: Path, dst: Path, pages: int | None = None, dpi: int = 200) -> None:
    """An image-only copy of `src` (first `pages` pages): what a scanner gives."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(src))
    c = Canvas(str(dst), pagesize=LETTER, invariant=1)
    from reportlab.lib.utils import ImageReader

    for n in range(min(len(pdf), pages or len(pdf))):
        image = pdf[n].render(scale=dpi / 72, may_draw_forms=True).to_pil().convert("L")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        buffer.seek(0)
        c.drawImage(ImageReader(buffer), 0, 0, WIDTH, HEIGHT)
        c.showPage()
    c.save()
    pdf.close()
