"""JSON importers: crosswalk's own format and the corpus formats (see the corpus README)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import ValidationError

from ..errors import InputError
from ..models import Document, Election, ElectionOption, FillIn, Provision

OWN_FORMAT = "crosswalk.document/v1"


def detect_json_format(data: Any) -> str | None:
    """Name of the JSON shape `data` has, or None when it is none we know."""
    if not isinstance(data, dict):
        return None
    if data.get("format") == OWN_FORMAT:
        return "own"
    records = data.get("records")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return "corpus_empty" if isinstance(records, list) and not records else None
    first = records[0]
    if "form_elements" in first:
        return "corpus_form_elements"
    if "question_text" in first:
        return "corpus_aa"
    if "provision_text" in first:
        return "corpus_bpd"
    return None


def parse_json_document(fmt: str, data: dict, path: Path) -> Document:
    """Build a Document from JSON already identified as `fmt`."""
    parser: Callable[[dict, Path], Document] = {
        "own": _parse_own,
        "corpus_bpd": _parse_corpus_bpd,
        "corpus_aa": _parse_corpus_aa,
        "corpus_form_elements": _parse_form_elements,
        "corpus_empty": _parse_corpus_empty,
    }[fmt]
    return parser(data, path)


@contextmanager
def _record(path: Path, where: str) -> Iterator[None]:
    """A record of the wrong shape (a page "abc", an option that is not an object, NaN, a
    selection "maybe") becomes one InputError naming the file and the record."""
    try:
        yield
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(path, f"{field}: {err['msg']}" if field else err["msg"], item=where) from None
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise InputError(path, f"malformed record ({type(exc).__name__}: {str(exc)[:200]})", item=where) from None


def _records(data: dict, path: Path) -> Iterator[tuple[int, dict]]:
    for i, rec in enumerate(data["records"]):
        if not isinstance(rec, dict):
            raise InputError(path, f"a record must be a JSON object, not {type(rec).__name__}", item=f"record {i}")
        yield i, rec


def _parse_own(data: dict, path: Path) -> Document:
    body = {k: v for k, v in data.items() if k != "format"}
    try:
        return Document.model_validate(body)
    except ValidationError as exc:
        raise InputError(path, _describe(exc, body)) from None


def _describe(exc: ValidationError, body: dict) -> str:
    """Name the record a validation error is about ("provisions.3 (id X): field: message")."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] in ("provisions", "elections") and isinstance(loc[1], int):
        try:
            where += f" (id {body[loc[0]][loc[1]].get('id')})"
        except (KeyError, IndexError, AttributeError, TypeError):
            pass
    return f"{where}: {err['msg']}"


def _doc_meta(data: dict, path: Path, role: str) -> dict[str, Any]:
    extraction = data.get("source_extraction") or {}
    return {
        "id": str(data.get("document") or path.stem),
        "role": role,
        "vendor": str(data.get("vendor") or ""),
        "title": str(data.get("title") or data.get("document") or path.stem),
        "source_path": str(path),
        "pages": extraction.get("total_pages"),
    }


def _record_id(record: dict, index: int, path: Path) -> str:
    rid = record.get("id")
    if not isinstance(rid, str) or not rid:
        raise InputError(path, "record has no id", item=f"record {index}")
    return rid


def _parse_corpus_bpd(data: dict, path: Path) -> Document:
    provisions = []
    for i, rec in _records(data, path):
        rid = _record_id(rec, i, path)
        text = rec.get("provision_text")
        if not isinstance(text, str):
            raise InputError(path, "provision_text missing", item=rid)
        with _record(path, rid):
            provisions.append(Provision(
                id=rid,
                section_number=str(rec.get("section_number") or ""),
                title=str(rec.get("section_title") or ""),
                text=text,
                provision_type=str(rec.get("provision_type") or ""),
                page=rec.get("pdf_page"),
            ))
    with _record(path, "document"):
        return Document(**_doc_meta(data, path, "bpd"), provisions=tuple(provisions))


def _option(raw: dict) -> ElectionOption:
    fill_ins = []
    for f in raw.get("fill_ins") or []:
        if isinstance(f, dict):
            fill_ins.append(FillIn(label=str(f.get("label") or f.get("name") or ""), value=_opt_str(f.get("value"))))
        else:
            fill_ins.append(FillIn(label=str(f)))
    return ElectionOption(
        id=str(raw.get("option_id") or ""),
        label=str(raw.get("label") or ""),
        text=str(raw.get("option_text") or raw.get("text") or ""),
        is_selected=raw.get("is_selected"),
        fill_ins=tuple(fill_ins),
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _selected_value(rec: dict) -> str | list[str] | None:
    value = rec.get("value")
    if isinstance(value, dict):
        if value.get("selected_labels"):
            return [str(v) for v in value["selected_labels"]]
        if value.get("selected_label"):
            return str(value["selected_label"])
        if value.get("text"):
            return str(value["text"])
        return None
    return _opt_str(value)


def _parse_corpus_aa(data: dict, path: Path) -> Document:
    elections = []
    for i, rec in _records(data, path):
        rid = _record_id(rec, i, path)
        kind = rec.get("kind") or "text"
        if kind not in ("text", "single_select", "multi_select"):
            raise InputError(path, f"unknown election kind {kind!r}", item=rid)
        with _record(path, rid):
            elections.append(_corpus_election(rec, rid, kind))
    with _record(path, "document"):
        return Document(**_doc_meta(data, path, "aa"), elections=tuple(elections))


def _corpus_election(rec: dict, rid: str, kind: str) -> Election:
    return Election(
            id=rid,
            question_number=str(rec.get("question_number") or ""),
            question_text=str(rec.get("question_text") or ""),
            section_context=str(rec.get("section_context") or ""),
            kind=kind,
            options=tuple(_option(o) for o in rec.get("options") or []),
            selected_value=_selected_value(rec),
            page=(rec.get("provenance") or {}).get("page"),
        )


def _parse_form_elements(data: dict, path: Path) -> Document:
    """The flatter AA variant: one record per printed line.

    A line without a checkbox opens a question; the checkbox lines after it (same
    page run) are its options. A line with only a text blank is a text question.
    """
    elections: list[Election] = []
    header: dict | None = None
    options: list[ElectionOption] = []

    def flush() -> None:
        nonlocal header, options
        if header is not None:
            with _record(path, str(header["id"])):  # a bad question names the question's record
                elections.append(_form_question(header, options))
        header, options = None, []

    for i, rec in _records(data, path):
        rid = _record_id(rec, i, path)
        with _record(path, rid):
            checkbox = "checkbox" in [e.get("element_type") for e in rec.get("form_elements") or []]
            option = _form_option(rec) if checkbox else None
        if option is not None and header is not None:
            options.append(option)
            continue
        flush()
        header = rec
        if option is not None:  # an orphan option: keep it as a one-option question
            options.append(option)
    flush()
    with _record(path, "document"):
        return Document(**_doc_meta(data, path, "aa"), elections=tuple(elections))


def _form_text(rec: dict) -> str:
    return str(rec.get("provision_text") or rec.get("field_label") or rec.get("section_title") or "").strip()


def _form_option(rec: dict) -> ElectionOption:
    elements = rec.get("form_elements") or []
    box = next((e for e in elements if e.get("element_type") == "checkbox"), {})
    blanks = [FillIn(label=str(rec.get("field_label") or ""), value=_opt_str(e.get("text_value")))
              for e in elements if e.get("element_type") == "text"]
    return ElectionOption(
        id=str(rec["id"]),
        label=str(rec.get("section_number") or "").rstrip("."),
        text=_form_text(rec),
        is_selected=box.get("is_selected"),
        fill_ins=tuple(blanks),
    )


def _form_question(header: dict, options: list[ElectionOption]) -> Election:
    selected = [o.label for o in options if o.is_selected]
    elements = header.get("form_elements") or []
    text_value = next((e.get("text_value") for e in elements if e.get("element_type") == "text"), None)
    kind = "multi_select" if len(options) > 1 else ("single_select" if options else "text")
    return Election(
        id=str(header["id"]),
        question_number=str(header.get("section_number") or ""),
        question_text=_form_text(header),
        section_context=str(header.get("parent_section") or ""),
        kind=kind,
        options=tuple(options),
        selected_value=selected or _opt_str(text_value),
        page=header.get("pdf_page"),
    )


def _parse_corpus_empty(data: dict, path: Path) -> Document:
    role = "aa" if "aa" in str(data.get("document", "")).lower() else "bpd"
    with _record(path, "document"):
        return Document(**_doc_meta(data, path, role))
