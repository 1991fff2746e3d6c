"""Steps 3 and 4 on the bundled examples (filled AA and expected proposals written by hand) and on crafted records."""

import asyncio
import datetime as dt
import json

import pytest

from crosswalk.confirm import ElectionLink, confirm, election_links
from crosswalk.extract import load_document
from crosswalk.merge import elected_value, exception_log, merged_text
from crosswalk.report.columns import EXCEPTION_COLUMNS
from crosswalk.models import Crosswalk, Election, ElectionOption, FillIn, Mapping
from crosswalk.pipeline import Conversion, run_conversion
from crosswalk.settings import load_settings
from crosswalk.store import Store

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def demo(session_store_path):
    conv = Conversion(*(load_document(EXAMPLES / n) for n in
                        ("source_bpd.json", "target_bpd.json", "source_aa_filled.json", "target_aa.json")))
    settings = load_settings({"store_path": session_store_path}, env={})
    with Store.open(session_store_path) as store:
        result = asyncio.run(run_conversion(conv, settings, store))
    return conv, result


def test_explicit_and_placeholder_links():
    bpd, aa = load_document(EXAMPLES / "source_bpd.json"), load_document(EXAMPLES / "source_aa_filled.json")
    links = election_links(bpd, aa)
    number = {e.id: e.question_number for e in aa.elections}
    trust = next(p for p in bpd.provisions if p.title == "Trust Investments")
    assert {number[l.election_id] for l in links[trust.id]} == {"11.01", "9.01"}
    assert all(l.method == "explicit" for l in links[trust.id])
    entry = next(p for p in bpd.provisions if p.title == "Entry Date")
    assert [number[l.election_id] for l in links[entry.id]] == ["2.03"]
    assert links[entry.id][0].method == "topic"
    code = next(p for p in bpd.provisions if p.title == "Code")
    assert links[code.id] == []


def test_every_confirmation_status_appears(demo):
    _, result = demo
    statuses = {c.status for c in result.instance.confirmations}
    assert {"CONFIRMED", "CONDITIONAL", "BLOCKED", "STANDALONE"} <= statuses
    blocked = next(c for c in result.instance.confirmations if c.status == "BLOCKED")
    assert blocked.missing and blocked.confidence < 0.5


def test_every_variance_type_and_the_exception_log(demo):
    _, result = demo
    types = {v.variance_type for v in result.instance.variances}
    assert {"administrative", "design", "regulatory"} <= types
    regulatory = [v for v in result.instance.variances if v.variance_type == "regulatory"]
    assert any("$5,000" in d or "5,000" in d for v in regulatory for d in v.differences)
    rows = result.instance.exceptions
    assert rows and all(tuple(r) == EXCEPTION_COLUMNS for r in rows)
    assert {r["Category"] for r in rows} >= {"design", "regulatory"}
    listed = {r["Description"].split(" ")[0] for r in rows}
    for v in result.instance.variances:
        if v.variance_type in ("design", "regulatory") or v.impact == "high":
            assert v.source_id in listed


def test_proposed_target_aa_against_the_hand_written_answers(demo):
    conv, result = demo
    expected = json.loads((EXAMPLES / "expected_proposals.json").read_text())
    by_number = {p.question_number: p for p in result.instance.proposals}
    right, wrong = 0, []
    for number, exp in expected.items():
        p = by_number[number]
        if exp["value"] == "ANALYST":
            ok = p.status == "no_source"
        else:
            ok = p.proposed_value == exp["value"] and p.fill_ins == exp["fill_ins"]
        right += ok
        if not ok:
            wrong.append((number, exp["value"], p.proposed_value, p.status))
    assert right / len(expected) >= 0.75, wrong
    amounts = by_number["9.06"]
    assert any("amount differs" in f for f in amounts.flags)


def _election(eid, kind="single_select", options=(), value=None):
    return Election(id=eid, question_text=f"Q {eid}", kind=kind, options=options, selected_value=value)


def test_elected_value_and_merge():
    e = _election("e1", options=(ElectionOption(label="a", text="Age 18."),
                                 ElectionOption(label="b", text="Other age:", is_selected=True,
                                                fill_ins=(FillIn(label="age", value="19"),))))
    assert elected_value(e) == "b. Other age: [age: 19]"
    assert elected_value(_election("e2")) is None
    assert elected_value(_election("e3", kind="text", value="Delaware")) == "Delaware"
    text = merged_text("Age as elected in the Adoption Agreement applies.",
                       [ElectionLink(election_id="e1", method="topic", confidence=0.8, evidence="")], {"e1": e})
    assert "(elected: Q e1 b. Other age: [age: 19])" in text and "Adoption Agreement" not in text


def test_confirmation_rules_on_crafted_crosswalks():
    def cw(kind, rows):
        return Crosswalk(kind=kind, source_document="s", target_document="t", mappings=tuple(
            Mapping(source_id=s, target_id=t, status="match" if t else "no_match", confidence=0.8 if t else 0.9)
            for s, t in rows))
    bpd = cw("bpd", [("p1", "q1"), ("p2", "q2"), ("p3", "q3"), ("p4", "q4"), ("p5", None)])
    aa = cw("aa", [("e1", "f1"), ("e2", None), ("e3", "f3")])
    link = lambda eid: ElectionLink(election_id=eid, method="explicit", confidence=0.95, evidence="")
    source_links = {"p1": [link("e1")], "p2": [link("e1"), link("e2")], "p3": [link("e2")], "p4": [], "p5": [link("e1")]}
    result = {c.source_id: c for c in confirm(bpd, aa, source_links, {})}
    assert [result[p].status for p in ("p1", "p2", "p3", "p4", "p5")] == \
        ["CONFIRMED", "CONDITIONAL", "BLOCKED", "STANDALONE", "UNMATCHED"]
    assert result["p2"].missing == ("e2",)
    assert result["p1"].confidence > result["p2"].confidence > result["p3"].confidence
    # the target provision uses f9, and f3's subject cannot be checked: e3 -> f3 is incompatible
    strict = confirm(cw("bpd", [("p1", "q1")]), aa, {"p1": [link("e3")]},
                     {"q1": [link("f9")]}, load_document(EXAMPLES / "target_aa.json"))
    assert strict[0].status == "BLOCKED" and strict[0].incompatible == ("e3",)


def test_exception_log_dates():
    class V:
        source_id, target_id, relation, variance_type, impact, rule = "p1", "q1", "conflict", "design", "high", "lost"
    rows = exception_log([V()], dt.date(2026, 1, 1), due_days=10)
    assert rows[0]["Due Date"] == "2026-01-11" and rows[0]["Status"] == "Open" and rows[0]["Risk"] == "high"


def test_llm_variance_is_used_when_the_rules_see_only_wording():
    from crosswalk.merge import _variance

    m = Mapping(source_id="p1", target_id="q1", status="match", confidence=0.9, reasoning="the target drops the election",
                variance_type="design", impact="high")
    v = _variance(m, None, "same words here", "same words here", set(), set())
    assert (v.variance_type, v.impact) == ("design", "high") and v.rule.startswith("LLM verifier")
    plain = _variance(m.model_copy(update={"variance_type": None}), None, "same words", "same words", set(), set())
    assert (plain.variance_type, plain.impact) == ("administrative", "none")
