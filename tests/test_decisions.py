"""Reviewer decisions (`--decisions`): parsing, applying, and a real run that honours them."""

import json

import pytest
from openpyxl import load_workbook

from crosswalk.decisions import apply_decisions, check_decided_sources, load_decisions
from crosswalk.errors import InputError
from crosswalk.models import Verdict

from .conftest import EXAMPLES
from .test_cli import cw


def write(tmp_path, text, name="decisions.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def verdict(source, target, status="match", p=0.8):
    return Verdict(source_id=source, target_id=target, status=status, confidence=p, reasoning="p",
                   scores={"p_match": p} if target else {}, verifier="local-logistic")


def test_parsing_reads_targets_notes_and_no_counterpart(tmp_path):
    # Excel's BOM, upper-case headers, a blank line, "none" and an empty target both mean no counterpart
    path = write(tmp_path, "\ufeffSource_ID,Target_ID,Note\ns1,t9,checked by JB\n\ns2,none,\ns3,,\n")
    decisions = load_decisions(path)
    assert len(decisions) == 3
    assert decisions.by_source["s1"].target_id == "t9" and decisions.by_source["s1"].note == "checked by JB"
    assert decisions.by_source["s1"].line == 2
    assert decisions.by_source["s2"].target_id is None and decisions.by_source["s3"].target_id is None


@pytest.mark.parametrize("text, message", [
    ("source,target\ns1,t1\n", "needs the columns source_id and target_id (found: source, target)"),
    ("source_id,target_id\ns1,t1\ns1,t2\n", "line 3: source 's1' is decided twice (lines 2 and 3)"),
    ("source_id,target_id\n,t1\n", "line 2: source_id is empty"),
])
def test_a_malformed_file_names_the_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_decisions(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_missing_decisions_file_is_named(tmp_path):
    with pytest.raises(InputError, match="nothere.csv: file not found"):
        load_decisions(tmp_path / "nothere.csv")


def test_decided_verdicts_replace_the_matchers_and_say_what_it_proposed(tmp_path):
    decisions = load_decisions(write(tmp_path, "source_id,target_id,note\ns1,t2,see memo\ns2,,\ns3,t3,\n"))
    verdicts = [verdict("s1", "t1"), verdict("s2", "t5", p=0.6), verdict("s3", "t3", p=0.9),
                verdict("s4", None, "abstain")]
    out = apply_decisions(verdicts, decisions, ["t1", "t2", "t3", "t5"], "target.pdf")
    s1, s2, s3, s4 = out
    assert (s1.target_id, s1.status, s1.confidence, s1.verifier) == ("t2", "match", 1.0, "reviewer")
    assert "(decisions.csv line 2): see memo" in s1.reasoning and "proposed t1 (match, 0.80)" in s1.reasoning
    assert s1.scores == {}  # the matcher's scores were for t1, not for the decided target
    assert (s2.target_id, s2.status) == (None, "no_match") and "proposed t5" in s2.reasoning
    assert s3.scores == {"p_match": 0.9} and s3.reasoning.endswith("too.")  # reviewer and matcher agree
    assert s4 == verdicts[3]  # undecided items keep the matcher's verdict


def test_a_decided_target_or_source_that_does_not_exist_is_an_input_error(tmp_path):
    decisions = load_decisions(write(tmp_path, "source_id,target_id\ns1,t404\nghost,t1\n"))
    with pytest.raises(InputError, match="line 2: target 't404' is not an item of target.pdf"):
        apply_decisions([verdict("s1", "t1")], decisions, ["t1"], "target.pdf")
    with pytest.raises(InputError, match="line 3: source 'ghost' is not an item of the source documents"):
        check_decided_sources(decisions, ["s1"])


def _run(tmp_path, store, *extra):
    out = tmp_path / "out"
    proc = cw("run", "--source-bpd", EXAMPLES / "source_bpd.json", "--target-bpd", EXAMPLES / "target_bpd.json",
              "--source-aa", EXAMPLES / "source_aa_filled.json", "--target-aa", EXAMPLES / "target_aa.json",
              "-o", out, *extra, store=store)
    return proc, out


def _mappings(out, kind):
    return {m["source_id"]: m for m in json.loads((out / f"{kind}_crosswalk.json").read_text())["mappings"]}


def test_a_run_honours_decisions_down_to_the_proposed_target_aa(tmp_path, session_store_path):
    plain, plain_out = _run(tmp_path / "plain", session_store_path)
    assert plain.returncode == 0, plain.stderr
    bpd, aa = _mappings(plain_out, "bpd"), _mappings(plain_out, "aa")
    # move one BPD provision to a target the matcher did not choose; say one carried AA question has no counterpart
    moved = next(m for m in bpd.values() if m["target_id"])
    elsewhere = next(t for t in (m["target_id"] for m in bpd.values()) if t and t != moved["target_id"])
    carried = json.loads((plain_out / "proposed_target_aa.json").read_text())["proposals"]
    fed = next(p for p in carried if p["status"] == "carried")
    aa_source = next(s for s, m in aa.items() if m["target_id"] == fed["target_id"])
    decisions = write(tmp_path, f"source_id,target_id,note\n{moved['source_id']},{elsewhere},per counsel\n"
                                f"{aa_source},none,\n")

    proc, out = _run(tmp_path / "decided", session_store_path, "--decisions", decisions)
    assert proc.returncode == 0, proc.stderr
    assert "reviewer decisions: 2 applied" in " ".join(proc.stdout.split())
    decided = _mappings(out, "bpd")[moved["source_id"]]
    assert (decided["target_id"], decided["status"], decided["reviewed"]) == (elsewhere, "match", True)
    assert f"proposed {moved['target_id']}" in decided["reasoning"]
    assert _mappings(out, "aa")[aa_source]["status"] == "no_match"
    proposals = {p["target_id"]: p for p in json.loads((out / "proposed_target_aa.json").read_text())["proposals"]}
    assert proposals[fed["target_id"]]["status"] != "carried"  # nothing feeds that target question any more
    undecided = [m for s, m in _mappings(out, "bpd").items() if s != moved["source_id"]]
    assert undecided == [m for s, m in bpd.items() if s != moved["source_id"]]
    # the review sheet shows the decision as settled
    sheet = load_workbook(out / "workbook.xlsx")["AA Crosswalk"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("Source ID")] == aa_source)
    assert row[header.index("Disposition")] == "Accept"
    assert row[header.index("Notes/Recommended Action")].startswith("None: settled by a reviewer")
    gold = EXAMPLES / "expected_bpd.jsonl"
    said = cw("eval", out / "bpd_crosswalk.json", "--gold", gold, check=True).stdout
    assert "1 of the labelled items were set by a reviewer" in " ".join(said.split())
    assert "reviewer" not in cw("eval", plain_out / "bpd_crosswalk.json", "--gold", gold, check=True).stdout
    html = (out / "report.html").read_text()
    assert html.count(">reviewed</span>") == 2 and "settled by reviewer" in html
    assert ">reviewed</span>" not in (plain_out / "report.html").read_text()
    run, plain_run = (json.loads((o / "run.json").read_text()) for o in (out, plain_out))
    assert run["inputs"]["decisions"]["items"] == 2 and len(run["inputs"]["decisions"]["sha256"]) == 64
    assert run["run_id"] != plain_run["run_id"]  # the decisions are an input of the run


def test_a_decision_naming_a_missing_item_stops_the_run_and_writes_nothing(tmp_path, session_store_path):
    decisions = write(tmp_path, "source_id,target_id\nks-bpd-001,hv-bpd-999\n")
    proc, out = _run(tmp_path, session_store_path, "--decisions", decisions)
    assert proc.returncode == 2 and "line 2: target 'hv-bpd-999' is not an item of" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_a_batch_manifest_gives_each_conversion_its_own_decisions(tmp_path):
    from crosswalk.runner import read_manifest

    manifest = write(tmp_path, '[[conversion]]\nname = "acme"\nout = "out/acme"\nsource_bpd = "s.json"\n'
                               'target_bpd = "t.json"\ndecisions = "reviews/acme.csv"\n\n'
                               '[[conversion]]\nname = "zenith"\nout = "out/zenith"\nsource_bpd = "s.json"\n'
                               'target_bpd = "t.json"\n', name="batch.toml")
    _, (acme, zenith) = read_manifest(manifest)
    assert acme.paths["decisions"] == tmp_path / "reviews" / "acme.csv"
    assert zenith.paths["decisions"] is None
