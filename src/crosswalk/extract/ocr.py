"""OCR for pages without a text layer: Tesseract through pytesseract.

Optional: Tesseract is a system program (Debian: `tesseract-ocr`, installed by
`make install`) and pytesseract an extra (`pip install 'plan-crosswalk[ocr]'`). When
either is missing, a page without a text layer is reported with the reason and the
other pages are still read.
"""

from __future__ import annotations

import shutil
from functools import lru_cache

from .layout import Line

OCR_DPI = 300        # Tesseract reads body text best at 300 dpi
MIN_CONFIDENCE = 30  # words Tesseract is less sure of are dropped (mostly specks and rules)


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
    """The page as a PIL image (pypdfium2 renders; forms drawn in)."""
    return page.render(scale=dpi / 72).to_pil()


def ocr_lines(image, number: int) -> list[Line]:
    """Tesseract's lines on a page image, top to bottom, with positions as shares of the page."""
    import pytesseract

    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT, config="--psm 3")
    width, height = image.size
    lines: dict[tuple[int, int, int], dict] = {}
    for i, word in enumerate(data["text"]):
        word = word.strip()
        if not word or float(data["conf"][i]) < MIN_CONFIDENCE:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = lines.setdefault(key, {"words": [], "top": data["top"][i], "left": data["left"][i], "bottom": 0})
        line["words"].append(word)
        line["top"] = min(line["top"], data["top"][i])
        line["left"] = min(line["left"], data["left"][i])
        line["bottom"] = max(line["bottom"], data["top"][i] + data["height"][i])
    # Tesseract's blocks come in reading order (columns included), so its order is kept
    return [Line(number, l["top"] / height, l["left"] / width, " ".join(l["words"]),
                height=(l["bottom"] - l["top"]) / height) for l in lines.values()]
