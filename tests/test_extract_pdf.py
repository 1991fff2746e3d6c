"""PDF import from real PDFs: the bundled example PDFs (rendered by examples/make_pdfs.py) and broken files."""

import difflib
import json
import subprocess
import sys

import pytest

from crosswalk.errors import InputError
from crosswalk.extract import load_document
from crosswalk.extract.pdf import read_text

from .conftest import EXAMPLES

PDFS = EXAMPLES / "pdf"


def _recall(expected: list[str], got: list[str]) -> float:
    hits = sum(max(difflib.SequenceMatcher(None, e.lower(), g.lower()).ratio() for g in got) >= 0.9 for e in expected)
    return hits / len(expected)


@pytest.mark.parametrize("name", ["source_bpd", "target_bpd"])
def test_bpd_provisions_from_the_text_layer(name):
    doc = load_document(PDFS / f"{name}.pdf")
    ref = json.loads((EXAMPLES / f"{name}.json").read_text())["provisions"]
    assert doc.role == "bpd" and len(doc.provisions) == len(ref)
    assert _recall([r["text"] for r in ref], [p.text for p in doc.provisions]) == 1.0
    assert all("Page" not in p.text and "Basic Plan Document" not in p.text for p in doc.provisions)  # furniture gone
    numbered = [p for p in doc.provisions if p.section_number]
    assert name == "target_bpd" or len(numbered) == len(ref)


@pytest.mark.parametrize("name", ["source_aa_filled", "target_aa"])
def test_aa_questions_options_and_selection_state(name):
    doc = load_document(PDFS / f"{name}.pdf")
    ref = json.loads((EXAMPLES / f"{name}.json").read_text())["elections"]
    assert doc.role == "aa" and len(doc.elections) == len(ref)
    questions = [e.question_text.replace("____", "").strip() for e in doc.elections]
    assert _recall([r["question_text"] for r in ref], questions) == 1.0
    for r, e in zip(ref, doc.elections):
        assert e.kind == r["kind"]
        assert [o.label for o in e.options] == [o["label"] for o in r["options"]]
        assert [bool(o.is_selected) for o in e.options] == [bool(o["is_selected"]) for o in r["options"]]


def test_filled_values_are_read():
    doc = load_document(PDFS / "source_aa_filled.pdf")
    by_number = {e.question_number: e for e in doc.elections}
    assert by_number["1.01"].selected_value == "Acme Widget Company"
    months = next(o for o in by_number["2.02"].options if o.is_selected)
    assert [f.value for f in months.fill_ins] == ["6"]
    assert by_number["2.04"].selected_value == ["a", "b"]


def test_owner_locked_opens_and_user_password_is_asked_for():
    assert len(load_document(PDFS / "source_bpd_locked.pdf").provisions) == 46
    with pytest.raises(InputError, match="a password is needed"):
        load_document(PDFS / "target_aa_password.pdf")
    with pytest.raises(InputError, match="password is wrong"):
        load_document(PDFS / "target_aa_password.pdf", password="nope")
    assert len(load_document(PDFS / "target_aa_password.pdf", password="user-secret").elections) == 30


def test_broken_pdfs_are_clear_errors(tmp_path):
    fake = tmp_path / "letter.pdf"
    fake.write_text("Dear analyst, this is not a PDF.")
    with pytest.raises(InputError, match="not a PDF"):
        load_document(fake)
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes((PDFS / "source_bpd.pdf").read_bytes()[:700])
    with pytest.raises(InputError, match="truncated.pdf"):
        load_document(truncated)
    import pypdfium2 as pdfium

    empty = pdfium.PdfDocument.new()
    empty.save(str(tmp_path / "empty.pdf"))
    with pytest.raises(InputError, match="empty.pdf: (the PDF has no pages|cannot open PDF)"):
        read_text(tmp_path / "empty.pdf")  # pdfium itself refuses a page tree with no page


def test_run_on_pdfs_and_extract_command(tmp_path, session_store_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "crosswalk", "run",
                           "--source-bpd", PDFS / "source_bpd.pdf", "--target-bpd", PDFS / "target_bpd.pdf",
                           "--source-aa", PDFS / "source_aa_filled.pdf", "--target-aa", PDFS / "target_aa.pdf",
                           "-o", out, "--store", session_store_path, "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    bpd = json.loads((out / "bpd_crosswalk.json").read_text())["mappings"]
    assert len(bpd) == 46 and sum(m["target_id"] is not None for m in bpd) >= 40
    proc = subprocess.run([sys.executable, "-m", "crosswalk", "extract", PDFS / "target_aa.pdf", "-o",
                           tmp_path / "aa.json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and len(load_document(tmp_path / "aa.json").elections) == 30


def test_extraction_is_cached_by_file_hash(tmp_path):
    import shutil

    from crosswalk.store import Store

    copy = tmp_path / "plan.pdf"
    shutil.copy(PDFS / "source_bpd.pdf", copy)
    with Store.open(tmp_path / "s.sqlite") as store:
        first = load_document(copy, store=store)
        assert store.count("extraction") == 1
        copy.write_bytes(copy.read_bytes())  # same bytes: served from the store
        again = load_document(copy, store=store)
        assert again == first and store.count("extraction") == 1
        shutil.copy(PDFS / "target_bpd.pdf", copy)  # other bytes: extracted anew
        assert load_document(copy, store=store) != first and store.count("extraction") == 2
