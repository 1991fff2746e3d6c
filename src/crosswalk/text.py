"""Text at the boundaries: what document text becomes on the way in, and what a writer may emit.

Document text is data from third parties (vendor PDFs, Word exports, OCR, a vision
model's reply). Two rules keep it from breaking anything downstream:

* **On the way in** (`clean_text`, applied by every record in `models`): PDFium's
  line-end hyphens (``\\x02`` and U+FFFE: ``"owner\\x02 Employee"``) become a plain
  hyphen joined to the next word; tabs stay; other control characters become a space
  (vertical tab, form feed) or go (NUL, the rest); lone surrogates, U+FFFE/U+FFFF
  and zero-width characters go; the result is NFC. Ids are cleaned the same way and
  trimmed (`clean_id`), so "A1 " and "A1" are one item. Cache keys hash the input
  file's bytes, never the cleaned text, so a cleaning change cannot alias two inputs.
* **On the way out** (`xlsx_text`, `csv_cell`): whatever still gets through (a
  reasoning string from an LLM, a hand-made JSON) is made safe per writer: no
  character Excel rejects, and no cell a spreadsheet would run as a formula.
"""

from __future__ import annotations

import re
import unicodedata

# PDFium reports a hyphen at a line end as \x02 (or U+FFFE, depending on the build); the
# word goes on after the line break: "tax\ufffe deductible" is "tax-deductible".
_LINE_END_HYPHEN = re.compile("[\x02\ufffe][ \t\r\n]*")
_SPACE_LIKE = re.compile("[\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
# NUL and the other C0/C1 controls (tab, newline, CR kept), lone surrogates, non-characters,
# zero-width characters and the BOM.
_DROP = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\uffff\u200b-\u200d\u2060\ufeff]")

# What openpyxl refuses in a cell (it raises IllegalCharacterError on these).
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# OWASP CSV injection: a cell starting with one of these (also after a tab or CR) is a formula
# to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def clean_text(value: str) -> str:
    """Document text as crosswalk keeps it (see the module docstring for each rule)."""
    if not isinstance(value, str):
        return value  # the record's own type check names the field
    if value.isascii() and value.isprintable():
        return value  # the common case, and the cheap one
    value = _LINE_END_HYPHEN.sub("-", value)
    value = _SPACE_LIKE.sub(" ", value)
    value = _DROP.sub("", value)
    return unicodedata.normalize("NFC", value)


def clean_id(value: str) -> str:
    """An id as crosswalk compares it: cleaned like text and trimmed."""
    return clean_text(value).strip() if isinstance(value, str) else value


def xlsx_text(value: str) -> str:
    """A string openpyxl will write: characters Excel cannot hold are removed."""
    return _XLSX_ILLEGAL.sub("", value)


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula: text starting with = + - @ (or a tab,
    CR, pipe or percent) gets a leading single quote, the OWASP rule. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def is_blank(value: str) -> bool:
    """True for text that is empty once cleaned (spaces, zero-width characters, controls)."""
    return not clean_text(value).strip()
