"""OCR for pages without a text layer: Tesseract through pytesseract.

Optional: Tesseract is a system program (Debian: `tesseract-ocr`, installed by
`make install`) and pytesseract an extra (`pip install 'plan-crosswalk[ocr]'`). When
either is missing, a page without a text layer is reported with the reason and the
other pages are still read.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache

from .layout import Line, Run, find_gutter, join_columns

OCR_DPI = 300        # Tesseract reads body text best at 300 dpi
MIN_CONFIDENCE = 30  # words Tesseract is less sure of are dropped (mostly specks and rules) ...
# ... unless they are a quoted term's words: Tesseract often gives those no confidence at all
# ('"Beneficiary"' at 0, '‘Qualified' at 13) and a definition lost its term and ran into the one before.
# Any low-confidence word of letters was tried first: on a 100-dpi scan those are misreadings
# ("propeietOr!", "conilaper") that cost more records than the terms won. A line of nothing but such
# words is dropped still. "means", the word that opens a definition, is kept too: after a quoted term
# it doubted, Tesseract gave it 27 on a 300-dpi scan, and the definition lost its start.
DESCENDERS = frozenset("gjpqy,;()[]")  # what reaches below the baseline
QUOTED_WORD = re.compile(r"^[\"“‘'][A-Za-z][A-Za-z'’-]+\W{0,2}$|^[A-Za-z][A-Za-z'’-]+[\"”’][.,;:)]?$")
KEPT_WORD = re.compile(QUOTED_WORD.pattern + r"|^[Mm]eans$")


@lru_cache(maxsize=1)
def ocr_unavailable() -> str | None:
    """Why OCR cannot run here, or None when it can."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return "OCR needs pytesseract (pip install 'plan-crosswalk[ocr]')"
    if shutil.which("tesseract") is None:
        return "OCR needs the tesseract program (Debian: apt-get install tesseract-ocr)"
    return None


def render_page(page, dpi: int = OCR_DPI):
    """The page as a PIL image at `dpi` (pypdfium2 renders; forms drawn in), with the resolution
    of the scan it holds, if any, in `image.info["scan_dpi"]`."""
    image = page.render(scale=dpi / 72).to_pil()
    image.info["scan_dpi"] = scan_dpi(page)
    return image


def scan_dpi(page) -> float | None:
    """The resolution of the image that fills the page (a scan), or None when there is none."""
    import pypdfium2.raw as raw

    width, height = page.get_size()
    best = None
    for image in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        if (right - left) * (top - bottom) < 0.6 * width * height:
            continue
        pixels = image.get_metadata().width
        dpi = pixels / ((right - left) / 72)
        best = dpi if best is None else max(best, dpi)
    return best


def ocr_pages(images: dict[int, object]) -> dict[int, list[Line] | Exception]:
    """OCR page images (page number -> image) concurrently, one Tesseract process per core.

    Tesseract's own OpenMP threads fight each other on a small machine (measured here: 9.3 s a
    page with them, 2.8 s with one thread), so each process gets one thread and pages run side
    by side instead. A page that fails gives its exception, not a lost document."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # read by the tesseract processes we start

    def one(item):
        number, image = item
        try:
            return number, ocr_lines(image, number)
        except Exception as exc:  # recorded against the page by the caller
            return number, exc

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(pool.map(one, images.items()))


def prepare_scan(image):
    """A scanned page made easier to read: grey, speckle noise removed, turned straight.

    Scanners add grain and a degree or two of skew; Tesseract's own binarisation turns grain into
    specks and its line finder splits skewed lines."""
    from PIL import ImageFilter

    # rendering at 300 dpi enlarges a scan's pixels, grain and all: the median's window follows the
    # enlargement. A 100-dpi scan (3x) gets 5 pixels (fuzzed, with noise: 0.47 of the records with
    # 3, 0.84 with 5); from 120 dpi up, 3 (a 150-dpi Courier page: 0.54 with 5, 0.81 with 3)
    native = image.info.get("scan_dpi")
    size = 5 if native and native <= 120 else 3
    grey = image.convert("L").filter(ImageFilter.MedianFilter(size))
    angle = skew_angle(grey)
    if abs(angle) >= 0.2:
        from PIL import Image

        grey = grey.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    return grey


def skew_angle(grey, limit: float = 3.0, step: float = 0.2) -> float:
    """The rotation (degrees) that makes the page's text lines horizontal: the angle whose row
    profile of dark pixels is sharpest, tried on a quarter-size copy."""
    import numpy as np
    from PIL import Image

    small = grey.resize((max(1, grey.width // 4), max(1, grey.height // 4)))
    pixels = np.asarray(small, dtype=np.float32)
    dark = pixels < min(160.0, float(pixels.mean()) - 2 * float(pixels.std()) / 3)
    if dark.sum() < 200:
        return 0.0  # a blank page: nothing to straighten
    ink = Image.fromarray((dark * 255).astype(np.uint8))
    best, best_score = 0.0, -1.0
    for n in range(int(-limit / step), int(limit / step) + 1):
        angle = n * step
        rows = np.asarray(ink.rotate(angle, resample=Image.NEAREST), dtype=np.float32).sum(axis=1)
        score = float(np.square(np.diff(rows)).sum())
        if score > best_score:
            best, best_score = angle, score
    return best


# Tesseract's usual misreadings of the marks that open a provision, put back so that the parsers see
# what was printed: a closing quote read as a symbol ('"Code® means' for '"Code" means'), the period
# of a number or a label read as a colon or comma ('Section 1:17 CODE', '1, W-2 wages – ...'), at a
# line's start only (inside a line a comma is a comma; '1,000 Hours' stays), also a section number's
# last period before a quoted term ('1.2, "ACP" means'); and the space lost between a section number
# and its quoted term ('1.4."ADP" means').
MISREAD_CLOSE_QUOTE = re.compile(r"([\"“‘'][^\"”’®©™]{1,80}?[\w.)])[®©™](?=\s|$)")
MISREAD_NUMBER = re.compile(r"^((?:Section\s+)?\d{1,2})(?:[:;]|,(?!\d{3}\b))(\d{1,3})\b")  # not 1,000
MISREAD_LABEL = re.compile(r"^(\d{1,2}|[a-z]|[A-Z])[,;:](\s+[A-Z])")
LOST_SPACE = re.compile(r"^((?:Section\s+)?\d{1,2}\.\d{1,3}\.?)(?=[\"“'‘])")  # '1.4."ADP" means
NUMBER_COMMA = re.compile(r"^((?:Section\s+)?\d{1,2}\.\d{1,3}),(?=\s*[\"“'‘])")  # '1.2, "ACP" means


def repair_misreadings(text: str) -> str:
    """A line of OCR text with the misreadings above put back."""
    text = MISREAD_CLOSE_QUOTE.sub(lambda m: m.group(1) + ("'" if m.group(1)[0] in "‘'" else '"'), text)
    text = MISREAD_NUMBER.sub(r"\1.\2", text)
    text = MISREAD_LABEL.sub(r"\1.\2", text)
    text = NUMBER_COMMA.sub(r"\1.", text)
    return LOST_SPACE.sub(r"\1 ", text)


def ocr_lines(image, number: int) -> list[Line]:
    """Tesseract's lines on a page image, top to bottom, with positions as shares of the page.

    A line's `top` follows its baseline, not its highest letter: a box's top moves with the letters
    in it ("same" against "The", a quote or parenthesis above both), and the paragraph cues compare
    the steps between lines to a few per cent (see `paragraphs.paragraph_starts`). A line with no word of
    letters ("3.01(E)(1).") keeps its box top."""
    import pytesseract

    data = pytesseract.image_to_data(prepare_scan(image), output_type=pytesseract.Output.DICT, config="--psm 3")
    return lines_from_words(data, *image.size, number)


def lines_from_words(data: dict[str, list], width: int, height: int, number: int) -> list[Line]:
    """Page `number`'s lines from Tesseract's words (`image_to_data` as a dict of columns)."""
    lines: dict[tuple[int, int, int], dict] = {}
    for i, word in enumerate(data["text"]):
        word = word.strip()
        sure = float(data["conf"][i]) >= MIN_CONFIDENCE
        if not word or not (sure or KEPT_WORD.match(word)):
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = lines.setdefault(key, {"words": [], "boxes": [], "flat": [], "deep": [], "top": data["top"][i],
                                      "sure": False})
        line["words"].append(word)
        line["boxes"].append((data["left"][i], data["left"][i] + data["width"][i]))
        if sum(ch.isalpha() for ch in word) >= 2:  # where a word of letters ends: see `_baselines`
            line["deep" if DESCENDERS.intersection(word) else "flat"].append(data["top"][i] + data["height"][i])
        line["top"] = min(line["top"], data["top"][i])
        line["sure"] = line["sure"] or sure
    kept = [l for l in lines.values() if l["sure"]]
    tops = _baselines(kept)
    runs = [Run(top / height, top / height, min(b[0] for b in l["boxes"]) / width,
                max(b[1] for b in l["boxes"]) / width, repair_misreadings(" ".join(l["words"])),
                second_word=l["boxes"][1][0] / width if len(l["boxes"]) > 1 else 0.0)
            for l, top in zip(kept, tops)]
    gutter = find_gutter(runs)
    if gutter is None:  # Tesseract's blocks come in reading order, so its order is kept
        return [Line(number, r.top, r.left, r.text, right=r.right, second_word=r.second_word) for r in runs]
    # Two columns: each column's words joined as a text layer's runs are, by baseline and then left to
    # right. Tesseract's blocks cut a justified line at its wide spaces and read the pieces out of order
    # (a 300-dpi scan: "account" / "Account' the" / "1.1. 'Elective Deferral"), and the pieces can
    # interleave ('1.4. "ADP" "Actual Deferral' in one block, 'means the ... Percentage"' in the next),
    # so words, not pieces, are ordered. Without a clear gutter Tesseract's order stands: at 100 dpi
    # some of its lines run across both columns.
    words = [Run(top / height, top / height, left / width, right / width, word)
             for l, top in zip(kept, tops) for word, (left, right) in zip(l["words"], l["boxes"])]
    return [replace(line, text=repair_misreadings(line.text), spans=())
            for line in join_columns(words, gutter, number)]


def _baselines(lines: list[dict]) -> list[float]:
    """Each line's position (pixels) from its baseline, set back by the page's usual height above it.

    A box's top moves with the letters in it ("same" against "The", a quote above both), so the
    baseline places a line better: a word without a descending letter ends on it. A line whose words
    all descend ("Nonhighly Compensated Employee") ends the page's usual descent below it; a line with
    no word of letters ("3.01(E)(1).") keeps its box top."""
    flat = [min(l["flat"]) if l["flat"] else None for l in lines]
    descent = statistics.median([min(l["deep"]) - base for l, base in zip(lines, flat) if l["deep"] and base is not None]
                                or [0])
    bases = [base if base is not None else (min(l["deep"]) - descent if l["deep"] else None)
             for l, base in zip(lines, flat)]
    rise = statistics.median([base - l["top"] for l, base in zip(lines, bases) if base is not None] or [0])
    return [base - rise if base is not None else l["top"] for l, base in zip(lines, bases)]
