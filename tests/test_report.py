"""Reports: the workbook opens with openpyxl and holds the analyst's columns; the HTML escapes document text."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from crosswalk.report.html import word_diff
from crosswalk.report.review import recommended_action
from crosswalk.report.workbook import CROSSWALK_COLUMNS

from .conftest import EXAMPLES

INJECTION = 'Compensation means <script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> W-2 wages.'


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "crosswalk", *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, session_store_path) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    proc = run_cli("demo", "-o", out, "--store", session_store_path)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory, session_store_path) -> Path:
    """A run whose documents contain markup and script: it must show as text."""
    root = tmp_path_factory.mktemp("hostile")
    for name in ("source_bpd", "target_bpd"):
        doc = json.loads((EXAMPLES / f"{name}.json").read_text())
        doc["provisions"][4]["text"] = INJECTION
        doc["provisions"][4]["title"] = "<b>Compensation</b>"
        (root / f"{name}.json").write_text(json.dumps(doc))
    out = root / "out"
    proc = run_cli("run", "--source-bpd", root / "source_bpd.json", "--target-bpd", root / "target_bpd.json",
                   "-o", out, "--store", session_store_path, "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def test_workbook_has_the_analyst_columns_and_sheets(demo_run):
    wb = load_workbook(demo_run / "workbook.xlsx")
    assert {"BPD Crosswalk", "AA Crosswalk", "Exceptions", "Proposed Target AA", "Summary", "Run"} <= set(wb.sheetnames)
    ws = wb["BPD Crosswalk"]
    header = [c.value for c in ws[1]]
    for name in ("Section", "Provision Type", "Source Text/Selection", "Target Text/Selection", "Variance Type",
                 "Impact", "Owner", "Due Date", "Notes/Recommended Action", "Disposition", "Evidence Link",
                 "Status", "Confidence", "Reasoning"):
        assert name in header
    assert header == [name for name, _ in CROSSWALK_COLUMNS]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert ws.max_row == 1 + len(json.loads((demo_run / "bpd_crosswalk.json").read_text())["mappings"])
    assert any("Accept" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
    assert len(ws.conditional_formatting) >= 1
    assert wb["Exceptions"].max_row >= 2
    run_keys = [c.value for c in wb["Run"]["A"]]
    assert "setting: embedder" in run_keys


def test_report_rebuilds_without_inputs(demo_run, tmp_path, session_store_path):
    (demo_run / "report.html").unlink()
    proc = run_cli("report", demo_run, "--store", session_store_path)
    assert proc.returncode == 0, proc.stderr
    assert (demo_run / "report.html").stat().st_size > 10_000
    bad = run_cli("report", tmp_path, "--store", session_store_path)
    assert bad.returncode == 2 and "no run.json" in bad.stderr


def test_html_escapes_document_text(hostile_run):
    page = (hostile_run / "report.html").read_text()
    assert "<script>window.__pwned" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;b&gt;Compensation&lt;/b&gt;" in page


def test_word_diff_marks_changes():
    left, right = word_diff("limit of $5,000 applies", "limit of $7,000 applies")
    assert ("del", "$5,000") in left and ("ins", "$7,000") in right
    assert "".join(t for _, t in left) == "limit of $5,000 applies"


def test_recommended_actions():
    assert recommended_action("abstain", "", "").startswith("Review")
    assert "election" in recommended_action("match", "design", "high")
    assert recommended_action("match", "administrative", "none") == "None: wording only"


def test_reports_rendered_in_memory_match_the_ones_read_back(tmp_path, session_store_path):
    """A run renders its workbook and HTML from the result in memory; `crosswalk report` reads the
    same records back from OUT. Both must give the same review rows, exceptions and proposals."""
    from crosswalk import ConversionInputs, Crosswalker
    from crosswalk.report.review import load_review, review_from_result

    inputs = ConversionInputs(source_bpd=EXAMPLES / "source_bpd.json", target_bpd=EXAMPLES / "target_bpd.json",
                              source_aa=EXAMPLES / "source_aa_filled.json", target_aa=EXAMPLES / "target_aa.json")
    out = tmp_path / "out"
    with Crosswalker(store_path=session_store_path) as cw:
        result = cw.convert(inputs, out=out)
    run = json.loads((out / "run.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    in_memory, read_back = review_from_result(result, run, metrics), load_review(out)
    assert in_memory.rows == read_back.rows and sum(len(r) for r in in_memory.rows.values()) > 0
    assert in_memory.exceptions == read_back.exceptions and in_memory.proposals == read_back.proposals
    assert in_memory.confirmation_counts == read_back.confirmation_counts
