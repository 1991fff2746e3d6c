"""PDF import: pages to lines (text layer, OCR for scans), lines to provisions or elections.

Library: pypdfium2 (Apache-2.0/BSD). It is fast, reads owner-locked (permissions-only)
files without asking, renders pages for OCR and vision, and reads AcroForm fields.
PyMuPDF would also do, but it is AGPL, which a commercial user of this tool may not
accept.

Each page takes one path, recorded in `Document.page_paths`: `text` (its text layer),
`ocr` (no text layer: Tesseract read the rendered page), or why it gave nothing
(`no text layer: OCR needs ...`, `failed: ...`). One bad page never loses the others.

The stages below this module: `layout` (a page's lines), `ocr` (a scanned page's lines),
`paragraphs` (which lines open a paragraph), then `bpd` (provisions) or `aa` (questions,
options, fill-ins, grids).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from ..errors import InputError
from ..interrupts import stop_requested
from ..models import Document
from .aa import BOX_TOKEN, parse_aa
from .bpd import parse_bpd
from .layout import Line, PdfText, page_lines, remove_furniture, unread_pages
from .ocr import ocr_pages, ocr_unavailable, render_page

__all__ = ["EXTRACTOR_VERSION", "PDFIUM_LOCK", "PdfText", "detect_vendor", "document_from_text", "extract_pdf",
           "looks_like_aa", "open_pdf", "read_text", "unread_pages"]

EXTRACTOR_VERSION = "pdf-text-35"  # bump when parsing changes: cached extractions are then redone
OCR_BATCH = 8  # pages rendered and held for OCR at once (a 300 dpi page is ~8 MB in grey)
# PDFium is not thread-safe: one thread at a time may use it, whichever thread (a pipeline reads
# documents in worker threads; two at once crashed the process)
PDFIUM_LOCK = threading.RLock()


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


# ---------------------------------------------------------------- documents

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
