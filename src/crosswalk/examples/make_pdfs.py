"""Render the bundled example documents as PDFs (reportlab), the way vendors lay them out.

    python src/crosswalk/examples/make_pdfs.py

BPDs: a running header with the vendor's document name, a footer with the page
number, numbered sections with bold headings (the source quotes defined terms; the
target puts them in capitals followed by "Means"). AAs: numbered questions with
lettered options and checkboxes ("[ ]", "[X]" when elected), fill-in blanks with the
typed value between underscores. Also writes an owner-locked copy (permissions only:
opens without a password), a copy that needs a user password, a copy of the source BPD
whose second page is a scan (an image, no text layer: the OCR path), and the filled
source AA as a PDF form (AcroForm checkboxes and text fields hold the answers).
"""

from __future__ import annotations

import json
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen.canvas import Canvas

HERE = Path(__file__).resolve().parent
OUT = HERE / "pdf"
WIDTH, HEIGHT = LETTER
MARGIN = 72
BODY, BOLD, SIZE, LEAD = "Times-Roman", "Times-Bold", 10.5, 13.5


class Writer:
    """Flowing text over pages with a header and footer on each."""

    def __init__(self, path: Path, header: str, encrypt: StandardEncryption | None = None):
        self.c = Canvas(str(path), pagesize=LETTER, encrypt=encrypt, invariant=1)
        self.header = header
        self.page = 0
        self.new_page()

    def new_page(self) -> None:
        if self.page:
            self.c.showPage()
        self.page += 1
        self.c.setFont(BODY, 8)
        self.c.drawString(MARGIN, HEIGHT - 40, self.header)
        self.c.drawRightString(WIDTH - MARGIN, 36, f"Page {self.page}")
        self.y = HEIGHT - MARGIN

    def line(self, text: str, font: str = BODY, indent: float = 0.0) -> None:
        if self.y < MARGIN:
            self.new_page()
        self.c.setFont(font, SIZE)
        self.c.drawString(MARGIN + indent, self.y, text)
        self.y -= LEAD

    def para(self, text: str, font: str = BODY, indent: float = 0.0, first: str = "") -> None:
        """Wrap `text` to the measure; `first` (e.g. a section number) starts the first line."""
        words = (first + " " + text).split() if first else text.split()
        width = WIDTH - 2 * MARGIN - indent
        current = ""
        for word in words:
            trial = f"{current} {word}".strip()
            if self.c.stringWidth(trial, font, SIZE) > width and current:
                self.line(current, font, indent)
                current = word
            else:
                current = trial
        if current:
            self.line(current, font, indent)

    def gap(self) -> None:
        self.y -= LEAD / 2

    def save(self) -> None:
        self.c.save()


def bpd_pdf(doc: dict, path: Path, encrypt=None) -> None:
    w = Writer(path, doc["title"], encrypt)
    w.line(doc["title"].upper(), BOLD)
    w.gap()
    for p in doc["provisions"]:
        heading = f"{p['section_number']} {p['title']}".strip()
        w.para(heading, BOLD)
        w.para(p["text"])
        w.gap()
    w.save()


def _blank(value: str | None) -> str:
    return f"__{value}__" if value else "________"


def _form_blank(w: Writer, name: str, value: str | None, indent: float) -> None:
    """A text field on its own line, holding the typed value."""
    if w.y < MARGIN:
        w.new_page()
    w.c.acroForm.textfield(name=name, value=value or "", x=MARGIN + indent, y=w.y - 3, width=200, height=LEAD,
                           borderWidth=0.5, fontSize=9, fontName="Helvetica")
    w.y -= LEAD


def _form_option(w: Writer, name: str, label: str, text: str, checked: bool) -> None:
    """Label, an AcroForm checkbox, then the option text, on one line (wrapping under the text)."""
    if w.y < MARGIN:
        w.new_page()
    top = w.y
    w.line(f"{label}.", indent=18)
    w.c.acroForm.checkbox(name=name, checked=checked, x=MARGIN + 32, y=top - 1, size=8, borderWidth=0.5,
                          buttonStyle="check")
    w.y = top
    w.para(text, indent=46)


def aa_pdf(doc: dict, path: Path, encrypt=None, form: bool = False) -> None:
    w = Writer(path, doc["title"], encrypt)
    w.line(doc["title"].upper(), BOLD)
    context = None
    for e in doc["elections"]:
        if e["section_context"] != context:
            context = e["section_context"]
            w.gap()
            w.line(context.upper(), BOLD)
        w.gap()
        if e["kind"] == "text":
            if form:
                w.para(e["question_text"], first=e["question_number"])
                _form_blank(w, f"{e['id']}-value", e["selected_value"], 18)
            else:
                w.para(f"{e['question_text']} {_blank(e['selected_value'])}", first=e["question_number"])
            continue
        w.para(e["question_text"], first=e["question_number"])
        for o in e["options"]:
            if form:
                _form_option(w, o["id"], o["label"], o["text"], bool(o["is_selected"]))
                for n, f in enumerate(o["fill_ins"]):
                    _form_blank(w, f"{o['id']}-fill{n}", f["value"], 46)
                continue
            box = "[X]" if o["is_selected"] else "[ ]"
            fills = " ".join(_blank(f["value"]) for f in o["fill_ins"])
            w.para(f"{box} {o['text']} {fills}".strip(), indent=18, first=f"{o['label']}.")
    w.save()


def scanned_copy(src: Path, dst: Path, scanned_page: int, dpi: int = 200) -> None:
    """`src` with one page replaced by a picture of itself (what a scanner gives: no text layer)."""
    import io

    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader

    text = pdfium.PdfDocument(str(src))
    image = text[scanned_page - 1].render(scale=dpi / 72).to_pil().convert("L")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    picture_path = dst.with_suffix(".scan.tmp.pdf")
    c = Canvas(str(picture_path), pagesize=LETTER, invariant=1)
    c.drawImage(ImageReader(buffer), 0, 0, WIDTH, HEIGHT)
    c.save()
    picture = pdfium.PdfDocument(str(picture_path))
    out = pdfium.PdfDocument.new()
    out.import_pages(text, list(range(scanned_page - 1)))
    out.import_pages(picture, [0])
    out.import_pages(text, list(range(scanned_page, len(text))))
    out.save(str(dst))
    for pdf in (out, picture, text):
        pdf.close()
    picture_path.unlink()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in ("source_bpd", "target_bpd", "source_aa", "source_aa_filled", "target_aa"):
        doc = json.loads((HERE / f"{name}.json").read_text())
        (bpd_pdf if doc["role"] == "bpd" else aa_pdf)(doc, OUT / f"{name}.pdf")
        print(f"wrote examples/pdf/{name}.pdf")
    locked = StandardEncryption("", ownerPassword="owner-secret", canPrint=1, canModify=0, canCopy=0, canAnnotate=0)
    bpd_pdf(json.loads((HERE / "source_bpd.json").read_text()), OUT / "source_bpd_locked.pdf", locked)
    needs_password = StandardEncryption("user-secret", ownerPassword="owner-secret")
    aa_pdf(json.loads((HERE / "target_aa.json").read_text()), OUT / "target_aa_password.pdf", needs_password)
    print("wrote examples/pdf/source_bpd_locked.pdf (owner-locked) and target_aa_password.pdf (password 'user-secret')")
    scanned_copy(OUT / "source_bpd.pdf", OUT / "source_bpd_scanned.pdf", scanned_page=2)
    aa_pdf(json.loads((HERE / "source_aa_filled.json").read_text()), OUT / "source_aa_form.pdf", form=True)
    print("wrote examples/pdf/source_bpd_scanned.pdf (page 2 is a scan) and source_aa_form.pdf (AcroForm answers)")


if __name__ == "__main__":
    main()
