"""Importers: turn a file into a `Document`, detecting its format.

`load_document(path)` is the one entry point. JSON inputs are recognised by shape
(our own format, the corpus BPD and AA records, the flatter AA form-element
records); PDFs go to `pdf.extract_pdf` (text layer, OCR for scanned pages), cached
in the store by file hash. The vision path (`vision.py`) is separate: it needs a
provider client.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError, UnsupportedFormatError
from ..models import Document
from .json_formats import detect_json_format, parse_json_document

__all__ = ["check_is_file", "load_document", "save_document", "DOCUMENT_FORMAT"]

DOCUMENT_FORMAT = "crosswalk.document/v1"


def load_document(path: Path | str, password: str | None = None, store=None) -> Document:
    """Import `path`, auto-detecting its format; raises `InputError` naming the file and record.

    With a store, PDF extractions are cached by (extractor version, file hash): a rerun extracts nothing.
    """
    path = Path(path)
    check_is_file(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _load_pdf(path, password, store)
    data = _parse_json(_json_text(path), path)
    fmt = detect_json_format(data)
    if fmt is None:
        raise UnsupportedFormatError(path, "unknown format: expected a crosswalk document, or corpus BPD/AA records")
    try:
        document = parse_json_document(fmt, data, path)
    except RecursionError:
        raise InputError(path, "JSON nested too deeply to be a plan document") from None
    _check_document(document, path)
    return document


def check_is_file(path: Path) -> None:
    """Raise `InputError` unless `path` is a file we can open: missing, a directory, or a special file."""
    if not path.exists():
        raise InputError(path, "file not found")
    if not path.is_file():
        raise InputError(path, "a directory, not a file" if path.is_dir() else "not a file")


def _json_text(path: Path) -> str:
    """A JSON file's text: UTF-8, with or without the byte-order mark Windows editors write, or UTF-16/32
    (JSON's own encoding detection, RFC 8259 section 8.1)."""
    try:
        raw = path.read_bytes()
        return raw.decode(json.detect_encoding(raw))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read: {exc}") from None


def _parse_json(raw: str, path: Path):
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except RecursionError:  # 100k-deep nesting: no plan document is shaped like that
        raise InputError(path, "JSON nested too deeply to be a plan document") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise InputError(path, f"not valid JSON: {exc}") from None


def _load_pdf(path: Path, password: str | None, store) -> Document:
    import hashlib

    from ..store import cache_key
    from .pdf import EXTRACTOR_VERSION, PDFIUM_LOCK, extract_pdf, open_pdf

    key = None
    if store is not None:
        key = cache_key("extraction", extractor=EXTRACTOR_VERSION, file=hashlib.sha256(path.read_bytes()).hexdigest())
        cached = store.get_json(key)
        if cached is not None:  # same bytes, same extractor: the same records (ids included)
            # The store holds decrypted text and may be shared by a team: a protected file's password
            # is checked against the file itself before its cached text is used (extraction checks it
            # on a miss).
            with PDFIUM_LOCK:
                open_pdf(path, password).close()
            return Document.model_validate({**cached, "source_path": str(path)})
    document = extract_pdf(path, password)
    _check_document(document, path)
    if key is not None:
        store.put_json("extraction", key, document.model_dump(mode="json"))
    return document


def save_document(document: Document, path: Path | str) -> None:
    """Write `document` in crosswalk's own JSON format (round-trips exactly through `load_document`)."""
    payload = {"format": DOCUMENT_FORMAT, **document.model_dump(mode="json")}
    Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _check_document(document: Document, path: Path) -> None:
    items = document.items
    if not items:
        raise InputError(path, f"empty document: no {'provisions' if document.role == 'bpd' else 'elections'}")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise InputError(path, "duplicate id", item=item.id)
        seen.add(item.id)
        if not item.text.strip():
            raise InputError(path, "record has no text", item=item.id)
