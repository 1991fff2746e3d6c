import json
from pathlib import Path

import pytest

from crosswalk.errors import InputError, UnsupportedFormatError
from crosswalk.extract import load_document, save_document

from .conftest import EXAMPLES


def test_own_format_round_trips_exactly(tmp_path):
    doc = load_document(EXAMPLES / "source_aa_filled.json")
    out = tmp_path / "copy.json"
    save_document(doc, out)
    again = load_document(out)
    assert again == doc
    assert [e.id for e in again.elections] == [e.id for e in doc.elections]


def test_examples_have_expected_shape():
    bpd = load_document(EXAMPLES / "source_bpd.json")
    aa = load_document(EXAMPLES / "source_aa_filled.json")
    assert bpd.role == "bpd" and len(bpd.provisions) >= 40
    assert aa.role == "aa" and len(aa.elections) >= 30
    assert any(o.is_selected for e in aa.elections for o in e.options)
    assert any(f.value for e in aa.elections for o in e.options for f in o.fill_ins)


def test_corpus_formats_import_with_their_ids(corpus):
    counts = {"source_bpd.json": 565, "target_bpd.json": 466, "source_aa.json": 182, "target_aa.json": 550}
    for name, n in counts.items():
        doc = load_document(corpus / name)
        assert len(doc.items) == n
        assert doc.items[0].id.split("-")[0] in ("relius", "ascensus")
    fe = load_document(corpus / "source_aa_form_elements.json")
    assert fe.role == "aa" and len(fe.elections) > 100
    assert any(len(e.options) > 1 for e in fe.elections)


def _write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _own(provisions):
    return {"format": "crosswalk.document/v1", "id": "d", "role": "bpd", "provisions": provisions}


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ({"hello": 1}, "unknown format"),
    (_own([]), "empty document"),
    (_own([{"id": "p1", "text": "a"}, {"id": "p1", "text": "b"}]), "duplicate id"),
    (_own([{"id": "p1", "text": "  "}]), "record has no text"),
    (_own([{"id": "p7", "txt": "x"}]), "provisions.0"),
])
def test_bad_input_names_file_and_record(tmp_path, content, message):
    path = _write(tmp_path, "bad.json", content)
    with pytest.raises(InputError) as info:
        load_document(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_a_json_file_a_windows_editor_saved_is_read(tmp_path, encoding):
    # Notepad and Excel write a byte-order mark; JSON allows UTF-16/32 (RFC 8259 section 8.1)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_own([{"id": "p1", "text": "Plan Year means the calendar year."}])), encoding=encoding)
    assert load_document(path).items[0].text == "Plan Year means the calendar year."


def test_bytes_that_are_no_text_are_a_clear_error(tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(b"\xf4\x90\x80" * 10)
    with pytest.raises(InputError, match="cannot read"):
        load_document(path)


def test_duplicate_id_names_the_record(tmp_path):
    path = _write(tmp_path, "dup.json", _own([{"id": "p1", "text": "a"}, {"id": "p1", "text": "b"}]))
    with pytest.raises(InputError, match="p1"):
        load_document(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_document(tmp_path / "nope.json")
    with pytest.raises(UnsupportedFormatError, match="unknown format"):
        load_document(_write(tmp_path, "plan.json", {"records": [{"x": 1}]}))
