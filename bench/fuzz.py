"""A layout fuzzer: the shared corpus rendered as PDFs in randomised styles, so the
extraction benchmark measures layouts nobody tuned the parser to.

Each seed draws a style (random.Random(seed)): font family and size, leading, one or two
columns, justified or ragged text, first-line indents, headings bold or plain, in
capitals or as printed, with or without space before them, run into their text or on a
line of their own, numbering as "1.04", "Section 1.04" or "1.04.", definitions run in
("1.10 "Term" means ...", "TERM: Means ...") or under a heading, list items after a
colon on lines of their own or run together, running headers and footers in several
wordings, watermarks drawn at an angle or upright letter by letter, and no space at
all between paragraphs. AAs: boxes as glyphs, bracket text, vector squares or form
fields, before or after the label, labels "a." / "(a)" / "a)", and the corpus's
contribution-type questions drawn as a grid (one box per row under each column
heading). Scans: an image-only copy at a random resolution, skew and noise.

What was drawn is remembered (`Truth`: page of each record, ticked states), so the
benchmark can score what comes back. Nothing here is read by crosswalk itself.
"""

from __future__ import annotations

import dataclasses
import io
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from render import HAVE_DEJAVU, Truth, is_option_like, option_label, register_fonts

WIDTH, HEIGHT = LETTER
LIBERATION = Path("/usr/share/fonts/truetype/liberation")


FAMILIES = [("Times-Roman", "Times-Bold"), ("Helvetica", "Helvetica-Bold"), ("Courier", "Courier-Bold")]
if HAVE_DEJAVU:
    FAMILIES += [("DejaVuSerif", "DejaVuSerif-Bold"), ("DejaVu", "DejaVu-Bold")]
if register_fonts(LIBERATION, {"LibSerif": "LiberationSerif-Regular.ttf", "LibSerif-Bold": "LiberationSerif-Bold.ttf",
                               "LibSans": "LiberationSans-Regular.ttf", "LibSans-Bold": "LiberationSans-Bold.ttf"}):
    FAMILIES += [("LibSerif", "LibSerif-Bold"), ("LibSans", "LibSans-Bold")]
HEADERS = ["{vendor} Basic Plan Document", "Defined Contribution Prototype Plan", "© {vendor}. All rights reserved.",
           "Non-Standardized 401(k) Plan – Basic Plan Document #01", ""]
FOOTERS = ["Page {n}", "{n}", "- {n} -", "Page {n} of {total}", "BPD {n}", "{vendor} {n}"]
GRID_COLUMNS = ["All Contributions", "Elective Deferrals/SH", "Matching", "Nonelective"]


@dataclass(frozen=True)
class Style:
    """One drawn layout; every field is random per seed."""

    seed: int
    body: str
    bold: str
    size: float
    leading: float            # line pitch as a multiple of the size
    columns: int
    justify: bool
    first_indent: float       # points
    para_gap: float           # extra space between paragraphs, in lines (0: none at all)
    heading_gap: float        # extra space before a heading, in lines
    heading_bold: bool
    heading_upper: bool
    heading_runin: bool       # "1.04 Compensation. Text ..." rather than a heading line
    numbering: str            # "{n}", "Section {n}", "{n}."
    definitions_runin: bool   # '1.10 "Term" means' / 'TERM: Means' on the first line of the text
    caps_colon: str           # how a capitalised definition is joined to "Means": ": ", " ", or a line break
    list_lines: bool          # list items after a colon on lines of their own
    list_indent: float
    watermark: str            # "", "angled", "upright"
    header: str
    footer: str
    # AA
    box: str                  # "glyph", "brackets", "drawn", "form"
    box_after_label: bool
    label_style: str          # "{l}.", "({l})", "{l})"
    grid: bool                # contribution-type questions as a grid
    # scans
    dpi: int
    skew: float               # degrees
    noise: float              # standard deviation of grey-level noise

    def describe(self) -> str:
        return (f"{self.body} {self.size:.1f}pt x{self.leading:.2f} {self.columns}col{' just' if self.justify else ''} "
                f"head:{'B' if self.heading_bold else 'p'}{'U' if self.heading_upper else ''}"
                f"{' runin' if self.heading_runin else ''} gap{self.para_gap:.1f} wm:{self.watermark or '-'} "
                f"box:{self.box}{' grid' if self.grid else ''} scan:{self.dpi}dpi {self.skew:+.1f}° n{self.noise:.0f}")


def random_style(seed: int) -> Style:
    rng = random.Random(seed)
    body, bold = rng.choice(FAMILIES)
    glyph = ["glyph"] if HAVE_DEJAVU else []
    return Style(
        seed=seed, body=body, bold=bold, size=rng.choice([8.5, 9, 9.5, 10, 10.5, 11, 12]),
        leading=rng.uniform(1.12, 1.45), columns=2 if rng.random() < 0.25 else 1, justify=rng.random() < 0.5,
        first_indent=rng.choice([0, 0, 18, 36]), para_gap=rng.choice([0.0, 0.0, 0.3, 0.6, 1.0]),
        heading_gap=rng.choice([0.0, 0.3, 0.8, 1.2]), heading_bold=rng.random() < 0.5,
        heading_upper=rng.random() < 0.5, heading_runin=rng.random() < 0.3,
        numbering=rng.choice(["{n}", "{n}", "Section {n}", "{n}."]), definitions_runin=rng.random() < 0.5,
        caps_colon=rng.choice([": ", " ", "\n"]), list_lines=rng.random() < 0.7, list_indent=rng.choice([0, 18, 36]),
        watermark=rng.choice(["", "", "angled", "upright"]), header=rng.choice(HEADERS), footer=rng.choice(FOOTERS),
        box=rng.choice(glyph + ["brackets", "drawn", "form"]), box_after_label=rng.random() < 0.6,
        label_style=rng.choice(["{l}.", "({l})", "{l})"]), grid=rng.random() < 0.5,
        dpi=rng.choice([100, 150, 200, 300]), skew=rng.uniform(-2.0, 2.0), noise=rng.choice([0, 8, 16, 28]))


class Page:
    """Text flowing down the columns of letter pages in one style, furniture drawn on each page."""

    def __init__(self, path: Path, style: Style, vendor: str):
        self.c = Canvas(str(path), pagesize=LETTER, invariant=1)
        self.s, self.vendor = style, vendor
        self.lead = style.size * style.leading
        self.margin, self.gutter = 54 + (style.seed % 3) * 6, 20
        self.col_width = (WIDTH - 2 * self.margin - (style.columns - 1) * self.gutter) / style.columns
        self.page = 0
        self._new_page()

    def _new_page(self) -> None:
        if self.page:
            self.c.showPage()
        self.page, self.col = self.page + 1, 0
        s = self.s
        self.c.setFont(s.body, 8)
        if s.header:
            self.c.drawString(self.margin, HEIGHT - 34, s.header.format(vendor=self.vendor))
        self.c.drawCentredString(WIDTH / 2, 28, s.footer.format(n=self.page, total="", vendor=self.vendor).replace(" of ", " "))
        self._watermark()
        self.y = HEIGHT - 62

    def _watermark(self) -> None:
        if not self.s.watermark:
            return
        self.c.saveState()
        self.c.setFillGray(0.85)
        self.c.setFont(self.s.bold, 54)
        if self.s.watermark == "angled":
            self.c.translate(WIDTH / 2, HEIGHT / 2)
            self.c.rotate(40)
            self.c.drawCentredString(0, 0, "SAMPLE")
        else:  # upright, letter by letter, as some vendors draw it: each letter its own text object
            x = WIDTH / 2 - 110
            for letter in "SAMPLE":
                self.c.drawString(x, HEIGHT / 2 - 20, letter)
                x += 40
        self.c.restoreState()

    def x(self, indent: float = 0.0) -> float:
        return self.margin + self.col * (self.col_width + self.gutter) + indent

    def need(self, height: float) -> None:
        if self.y - height < 50:
            if self.col + 1 < self.s.columns:
                self.col += 1
                self.y = HEIGHT - 62
            else:
                self._new_page()

    def space(self, lines: float) -> None:
        self.y -= self.lead * lines

    def para(self, pieces: list[tuple[str, str]], indent: float = 0.0, first_indent: float | None = None,
             justify: bool | None = None) -> None:
        """Wrap (font, text) pieces as one paragraph."""
        words = [(font, w) for font, text in pieces for w in text.split()]
        first = self.s.first_indent if first_indent is None else first_indent
        justify = self.s.justify if justify is None else justify
        line: list[tuple[str, str]] = []
        offset = first
        for word in words:
            trial = line + [word]
            if line and self._width(trial) > self.col_width - indent - offset:
                self._draw(line, indent + offset, self.col_width - indent - offset if justify else None)
                line, offset = [word], 0.0
            else:
                line = trial
        if line:
            self._draw(line, indent + offset, None)

    def _width(self, words) -> float:
        return sum(self.c.stringWidth(w, f, self.s.size) for f, w in words) + \
            sum(self.c.stringWidth(" ", f, self.s.size) for f, _ in words[:-1])

    def _draw(self, words, indent: float, justify_to: float | None) -> None:
        self.need(self.lead)
        extra = 0.0
        if justify_to and len(words) > 1:
            extra = (justify_to - self._width(words)) / (len(words) - 1)
        t = self.c.beginText(self.x(indent), self.y)
        t.setWordSpace(extra)  # justified: wider real spaces (the text layer keeps them)
        font = None
        for n, (f, w) in enumerate(words):
            if f != font:
                t.setFont(f, self.s.size)
                font = f
            t.textOut(w if n == len(words) - 1 else w + " ")
        self.c.drawText(t)
        self.y -= self.lead

    def save(self) -> None:
        self.c.save()


def title_opens_text(title: str, text: str) -> bool:
    """The record's text opens with its title, after a label at most ("F. ", "(a) "), whichever
    apostrophes each uses (ascensus-bpd-0351's title has "'", its text "’": its heading was drawn
    above the same words)."""
    title, text = (t.replace("’", "'").replace("‘", "'") for t in (title, text))
    return bool(re.match(r"^(?:\(?[A-Za-z0-9]{1,4}[.)]\s+)?" + re.escape(title), text, re.I))


LIST_START = re.compile(r"^(?:\([a-zA-Z0-9]{1,4}\)|[a-zA-Z0-9]{1,3}\.)\s")


def render_bpd(doc: dict, path: Path, style: Style) -> Truth:
    """The corpus BPD's records in `style`."""
    s = style
    p = Page(path, s, doc.get("vendor", ""))
    truth = Truth()
    previous_key = None
    for r in doc["records"]:
        number, title, text = r["section_number"].strip(), r["section_title"].strip(), r["provision_text"].strip()
        # a record that continues the one before (same number and title: the corpus cut a provision at a
        # page break, or a further paragraph) is drawn as a paragraph, not under its heading again
        repeat = (number, title) == previous_key and bool(number or title)
        previous_key = (number, title)
        if repeat:
            number, title = "", ""
        chunks = [c.strip() for c in re.split(r"\n\s*\n", text) if c.strip()]
        # a record whose text starts with its own number or title ("F. Safe Harbor CODA Rules – ...") has no
        # heading; one whose title is only among its first words ("HEADINGS": "The headings of the Plan ...")
        # has one, or the benchmark would count a title that is nowhere on the page
        title = title.rstrip(".")
        definition = text[:1] in "'\"‘“" or text.startswith("Means")
        is_heading = bool(title) and not (number and text.startswith(number)) and \
            (definition or not title_opens_text(title, text))
        p.space(s.heading_gap if is_heading else s.para_gap)
        p.need(2 * p.lead)
        truth.pages[r["id"]] = p.page
        # a number that carries its own period ("3.", 50 records) is printed as it is: the style's
        # "{n}." made it "3..", which no document prints
        shown = s.numbering.format(n=number) if re.match(r"^\d", number) and not number.endswith(".") else number
        head = (title.upper() if s.heading_upper else title)
        hfont = s.bold if s.heading_bold else s.body
        first = chunks[0]
        if s.definitions_runin and first[:1] in "'\"‘“" and not number.startswith("("):
            pieces = [(hfont, shown), (s.body, first)] if shown else [(s.body, first)]
        elif first.startswith("Means") and title.isupper() and s.caps_colon != "\n":
            pieces = [(hfont, title + s.caps_colon.rstrip()), (s.body, first)]
        elif is_heading and s.heading_runin:
            pieces = [(hfont, f"{shown} {head}".strip() + "."), (s.body, first)]
        else:
            if is_heading:
                p.para([(hfont, f"{shown} {head}".strip())], first_indent=0, justify=False)
                p.space(s.para_gap * 0.5)
            pieces = [(s.body, first)]
        p.para(pieces)
        for chunk in chunks[1:]:
            if s.list_lines:
                p.space(s.para_gap * 0.5)
                indent = s.list_indent if LIST_START.match(chunk) else 0.0
                p.para([(s.body, chunk)], indent=indent, first_indent=0 if indent else None)
            else:  # run together: list items continue the same paragraph's lines
                p.para([(s.body, chunk)], first_indent=0)
    p.save()
    return truth


# ---------------------------------------------------------------- AA

def _glyph(s: Style, ticked: bool) -> tuple[str, str]:
    if s.box == "glyph":
        return "DejaVu", "☒" if ticked else "☐"
    return s.body, "[X]" if ticked else "[ ]"


def _drawn_box(p: Page, x: float, y: float, ticked: bool, name: str) -> None:
    size = 8.0
    if p.s.box == "form":
        p.c.acroForm.checkbox(name=name, checked=ticked, x=x, y=y - 1, size=size, borderWidth=0.5, buttonStyle="cross")
        return
    p.c.setLineWidth(0.6)
    p.c.rect(x, y - 1, size, size, stroke=1, fill=0)
    if ticked:
        p.c.line(x + 1.5, y + 0.5, x + size - 1.5, y + size - 2.5)
        p.c.line(x + 1.5, y + size - 2.5, x + size - 1.5, y + 0.5)


def _option(p: Page, label: str, text: str, ticked: bool, name: str, indent: float = 18) -> None:
    s = p.s
    shown = s.label_style.format(l=label.strip("()."))
    if s.box in ("glyph", "brackets"):
        font, box = _glyph(s, ticked)
        order = [(s.body, shown), (font, box)] if s.box_after_label else [(font, box), (s.body, shown)]
        p.para([*order, (s.body, text)], indent=indent, first_indent=0, justify=False)
        return
    p.need(p.lead)
    top = p.y
    width = p.c.stringWidth(shown + " ", s.body, s.size)
    if s.box_after_label:
        p.para([(s.body, shown)], indent=indent, first_indent=0, justify=False)
        p.y = top
        _drawn_box(p, p.x(indent + width + 2), top, ticked, name)
    else:
        _drawn_box(p, p.x(indent), top, ticked, name)
        p.para([(s.body, shown)], indent=indent + 12, first_indent=0, justify=False)
        width += 12
        p.y = top
    if text:
        p.para([(s.body, text)], indent=indent + width + 14, first_indent=0, justify=False)
    else:  # a box with no text (the corpus has one): its line is used all the same, so nothing is set on it
        p.y = top - p.lead


def _grid_header(p: Page, columns: list[str], xs: list[float]) -> None:
    """Column headings over the box columns, each wrapped to two lines when long."""
    p.need(3 * p.lead)
    small = p.s.size - 1
    for x, name in zip(xs, columns):
        words = name.split()
        lines = [" ".join(words[: (len(words) + 1) // 2]), " ".join(words[(len(words) + 1) // 2:])] if len(words) > 1 else [name]
        for n, text in enumerate(lines):
            p.c.setFont(p.s.bold, small)
            p.c.drawCentredString(x + 4, p.y - n * small * 1.15, text)
    p.y -= p.lead + small * 1.15


def _grid_row(p: Page, label: str, text: str, states: list[bool], xs: list[float], name: str) -> None:
    s = p.s
    words = f"{s.label_style.format(l=label)} {text}".split()
    room = xs[0] - 12 - p.x(18)
    lines: list[str] = []
    for word in words:  # the row's text wraps in the space left of the first box column
        if lines and p.c.stringWidth(f"{lines[-1]} {word}", s.body, s.size) <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    p.need(p.lead * len(lines))
    top = p.y
    p.c.setFont(s.body, s.size)
    for n, line in enumerate(lines):
        p.c.drawString(p.x(18) + (0 if n == 0 else 12), top - n * p.lead, line)
    for n, (x, ticked) in enumerate(zip(xs, states)):
        if s.box in ("glyph", "brackets"):
            font, box = _glyph(s, ticked)
            p.c.setFont(font, s.size)
            p.c.drawString(x, top, box)
        else:
            _drawn_box(p, x, top, ticked, f"{name}_{n}")
    p.y -= p.lead * len(lines)


def _states(rng: random.Random, n: int, multi: bool) -> list[bool]:
    if multi:
        return [rng.random() < 0.3 for _ in range(n)]
    pick = rng.randrange(n) if n else 0
    chosen = rng.random() < 0.6
    return [chosen and i == pick for i in range(n)]


def render_aa(doc: dict, path: Path, style: Style) -> Truth:
    """The corpus AA in `style`. Options split out as questions ("e. Age 20 1/2" with options
    All Contributions / Elective Deferrals / ...) are drawn as rows of the question before them:
    nested lines, or one grid row with a box under each column heading when `style.grid`."""
    s = dataclasses.replace(style, columns=1)  # AAs are forms: one column
    rng = random.Random(s.seed * 7919 + 1)
    p = Page(path, s, doc.get("vendor", ""))
    truth = Truth()
    context = None
    records = doc["records"]
    for k, r in enumerate(records):
        question = r["question_text"].strip()
        options = r.get("options") or []
        if is_option_like(r):
            label, text = option_label(r)
            truth.pages[r["id"]] = p.page
            columns = [o["option_text"].strip() for o in options]
            states = _states(rng, len(columns), True)
            truth.selected[r["id"]] = states
            if s.grid and len(columns) >= 2 and all(len(c) <= 24 for c in columns):
                xs = [WIDTH - p.margin - 30 - 58 * (len(columns) - 1 - i) for i in range(len(columns))]
                previous = records[k - 1] if k else None
                if previous is None or not is_option_like(previous) or \
                        [o["option_text"] for o in previous.get("options") or []] != [o["option_text"] for o in options]:
                    _grid_header(p, columns, xs)
                _grid_row(p, label, text, states, xs, f"g_{r['id']}")
                continue
            _option(p, label, text, False, f"c_{r['id']}")  # no box of its own: its sub-options carry them
            for n, (o, state) in enumerate(zip(options, states), 1):
                _option(p, str(n), o["option_text"].strip(), state, f"c_{r['id']}_{n}", indent=40)
            continue
        if r.get("section_context") and r["section_context"] != context:
            context = r["section_context"]
            p.space(s.heading_gap + 0.3)
            p.need(4 * p.lead)
            p.para([(s.bold if s.heading_bold else s.body, context.upper())], first_indent=0, justify=False)
        p.space(s.para_gap)
        p.need(3 * p.lead)
        truth.pages[r["id"]] = p.page
        number = r["question_number"].strip()
        number = "" if re.match(r"^[A-Z]?\.?\d", question) or question.startswith(number + ".") else number
        if not options:
            value = f"Value {r['id'][-3:]}" if rng.random() < 0.5 else ""
            truth.values[r["id"]] = value
            filled = question.replace("______", f"__{value}__", 1) if value and "___" in question else question
            tail = f" __{value}__" if value and "___" not in question else ("" if "___" in question else " ________")
            p.para([(s.bold, number), (s.body, filled + tail)], first_indent=0)
            continue
        p.para([(s.bold, number), (s.body, question)], first_indent=0)
        states = _states(rng, len(options), r["kind"] == "multi_select")
        truth.selected[r["id"]] = states
        for o, state in zip(options, states):
            _option(p, o["label"], o["option_text"].strip(), state, f"c_{r['id']}_{o['label']}")
    p.save()
    return truth


# ---------------------------------------------------------------- scans

def scan_copy(src: Path, dst: Path, style: Style, pages: int) -> None:
    """An image-only copy of the first `pages` pages, as a scanner at `style.dpi` would give it:
    slightly rotated, with grey-level noise, stored as 8-bit grey."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    rng = np.random.default_rng(style.seed)
    pdf = pdfium.PdfDocument(str(src))
    c = Canvas(str(dst), pagesize=LETTER, invariant=1)
    for n in range(min(len(pdf), pages)):
        image = pdf[n].render(scale=style.dpi / 72, may_draw_forms=True).to_pil().convert("L")
        image = image.rotate(style.skew, resample=Image.BILINEAR, expand=False, fillcolor=255)
        if style.noise:
            pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, style.noise, (image.height, image.width))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        buffer.seek(0)
        c.drawImage(ImageReader(buffer), 0, 0, WIDTH, HEIGHT)
        c.showPage()
    c.save()
    pdf.close()


@dataclass
class Sample:
    """A fuzzed document and what was drawn in it."""

    style: Style
    pdf: Path
    truth: Truth = field(default_factory=Truth)
