"""The review loop without a browser: the queue and its learning (pure), decisions remembered in the
store by content, a run rewritten from them, the workbook read back as decisions, and the app's
guard against other hosts, other sites and requests without the session token (a real server on
loopback)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook

from crosswalk.decisions import load_decisions
from crosswalk.errors import InputError
from crosswalk.extract import load_document
from crosswalk.review.apply import apply_review
from crosswalk.review.memory import ELSEWHERE, conversion_scope, decision_row, item_content, remembered_decisions
from crosswalk.review.queue import Candidate, ReviewItem, ReviewState
from crosswalk.store import Store

from .test_report import run_cli


def item(sid: str, position: int, *candidates: tuple[str, float], proposed: str | None = "?",
         impact: float = 0.0) -> ReviewItem:
    cands = tuple(Candidate(t, p) for t, p in candidates)
    if proposed == "?":
        best = max(cands, key=lambda c: c.p)
        proposed = best.target_id if best.p >= 0.5 else None
    return ReviewItem(sid, position, cands, 0.5, proposed, impact)


def test_queue_puts_the_likely_wrong_and_high_impact_first():
    items = [item("s1", 0, ("t1", 0.95)), item("s2", 1, ("t2", 0.55), ("t3", 0.4)),
             item("s3", 2, ("t4", 0.6), impact=1.0), item("s4", 3, ("t5", 0.3))]
    state = ReviewState(items, {f"t{i}": i for i in range(1, 6)})
    assert state.queue()[0] == "s3"            # 0.4 likely wrong, doubled by impact
    assert state.queue()[-1] == "s1"           # confident
    assert state.answer("s4").target_id is None and state.answer("s4").p_wrong == pytest.approx(0.3)
    state.decide("s3", "t4")
    assert "s3" not in state.queue() and state.answer("s3").decided


def test_a_decided_neighbour_moves_an_unsure_item():
    items = [item("s1", 0, ("t1", 0.6), ("t9", 0.1)), item("s2", 1, ("t2", 0.45), ("t8", 0.4))]
    positions = {"t1": 1, "t2": 2, "t8": 20, "t9": 30}
    learning = ReviewState(items, positions)
    assert learning.answer("s2").target_id is None  # below the threshold before any decision
    learning.decide("s1", "t1")
    assert learning.answer("s2").target_id == "t2" and learning.answer("s2").changed
    frozen = ReviewState(items, positions, learning=False)
    frozen.decide("s1", "t1")
    assert frozen.answer("s2").target_id is None


def test_recalibration_lowers_an_overconfident_verifier():
    wrong = [item(f"s{i}", i * 10, (f"t{i}", 0.8), (f"u{i}", 0.1)) for i in range(30)]
    state = ReviewState(wrong, {})
    assert state.answer("s29").target_id == "t29"
    for n in range(20):  # the verifier's best candidate was wrong every time
        state.decide(f"s{n}", f"u{n}")
    assert state.probabilities("s29")["t29"] < 0.5  # 0.8 is no longer believed
    assert state.answer("s29").target_id is None and state.answer("s29").changed


@pytest.fixture(scope="module")
def run_with_store(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("review")
    out, store = root / "out", root / "store.sqlite"
    proc = run_cli("demo", "--from", "json", "-o", out, "--store", store)
    assert proc.returncode == 0, proc.stderr
    return out, store


def test_decisions_are_applied_and_remembered_by_content(run_with_store, tmp_path):
    out, store_path = run_with_store
    source, target = (load_document(out / "documents" / f"{n}.json") for n in ("source_bpd", "target_bpd"))
    confirmations = json.loads((out / "confirmations.json").read_text())["confirmations"]
    confirmed = next(c for c in confirmations if c["status"] == "CONFIRMED")
    src = next(i for i in source.items if i.id == confirmed["source_id"])
    with Store.open(store_path) as store:
        store.save_decision(decision_row(conversion_scope("bpd", source, target), "bpd", src, None, target, "gone"))
        asyncio.run(apply_review(out, store))
        # another conversion whose source BPD says the same things under other ids
        renamed = source.model_copy(update={"id": "other", "provisions": tuple(
            p.model_copy(update={"id": f"x-{p.id}"}) for p in source.provisions)})
        elsewhere = remembered_decisions(store, "bpd", renamed, target)
    mapping = next(m for m in json.loads((out / "bpd_crosswalk.json").read_text())["mappings"]
                   if m["source_id"] == src.id)
    assert mapping["target_id"] is None and mapping["reviewed"] and "gone" in mapping["reasoning"]
    after = {c["source_id"]: c["status"] for c in json.loads((out / "confirmations.json").read_text())["confirmations"]}
    assert after[src.id] != "CONFIRMED"
    assert json.loads((out / "run.json").read_text())["review"]["decisions_applied"] == 1
    assert elsewhere.by_source[f"x-{src.id}"].target_id is None
    assert elsewhere.by_source[f"x-{src.id}"].origin == ELSEWHERE


def test_an_elections_content_ignores_the_employers_answers(run_with_store):
    out, _ = run_with_store
    aa = load_document(out / "documents" / "source_aa.json")
    e = next(e for e in aa.elections if e.options)
    flipped = e.model_copy(update={"options": tuple(o.model_copy(update={"is_selected": not o.is_selected})
                                                    for o in e.options), "selected_value": None})
    assert item_content(flipped) == item_content(e)
    assert item_content(e.model_copy(update={"question_text": e.question_text + " (amended)"})) != item_content(e)


def test_the_workbook_round_trip(run_with_store, tmp_path):
    out, _ = run_with_store
    wb = load_workbook(out / "workbook.xlsx")
    ws = wb["BPD Crosswalk"]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in ("Disposition", "Target ID", "Source ID", "Notes/Recommended Action")}
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col["Target ID"]).value]
    accept, reject, retarget, note = rows[:4]
    ws.cell(accept, col["Disposition"]).value = "Accept"
    ws.cell(reject, col["Disposition"]).value = "Reject"
    ws.cell(retarget, col["Disposition"]).value = "Reject"
    ws.cell(retarget, col["Target ID"]).value = ws.cell(accept, col["Target ID"]).value
    ws.cell(note, col["Disposition"]).value = "Accept with note"
    ws.cell(note, col["Notes/Recommended Action"]).value = "checked against the SPD"
    ws.cell(rows[4], col["Disposition"]).value = "Needs review"
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    decided = load_decisions(path).by_source
    sid = lambda r: ws.cell(r, col["Source ID"]).value
    already = {sid(r) for r in range(2, ws.max_row + 1) if r not in (accept, reject, retarget, note, rows[4])
               and ws.cell(r, col["Disposition"]).value == "Accept"}  # rows a reviewer settled: written as Accept
    assert set(decided) == {sid(r) for r in (accept, reject, retarget, note)} | already
    assert decided[sid(accept)].target_id == ws.cell(accept, col["Target ID"]).value
    assert decided[sid(reject)].target_id is None
    assert decided[sid(retarget)].target_id == ws.cell(accept, col["Target ID"]).value
    assert decided[sid(note)].note == "checked against the SPD"
    proc = run_cli("run", "--source-bpd", out / "documents" / "source_bpd.json", "--target-bpd",
                   out / "documents" / "target_bpd.json", "--decisions", path, "-o", tmp_path / "rerun", "-q",
                   "--store", tmp_path / "s.sqlite")
    assert proc.returncode == 0, proc.stderr
    reviewed = {m["source_id"] for m in json.loads((tmp_path / "rerun" / "bpd_crosswalk.json").read_text())["mappings"]
                if m["reviewed"]}
    assert reviewed == set(decided)
    ws.cell(accept, col["Disposition"]).value = "Maybe"
    wb.save(path)
    with pytest.raises(InputError, match="sheet 'BPD Crosswalk' row [0-9]+: unknown Disposition 'Maybe'"):
        load_decisions(path)


def test_the_app_answers_only_its_own_page(run_with_store):
    from .test_review_browser import ReviewApp  # the app in its own process on 127.0.0.1

    out, store = run_with_store
    app = ReviewApp(out, store)
    try:
        def status(path: str, headers: dict | None = None, data: bytes | None = None) -> int:
            request = urllib.request.Request(app.base + path, headers=headers or {}, data=data)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code
        token = {"X-Crosswalk-Token": app.token}
        assert status("/api/state") == 403
        assert status("/api/state?token=wrong") == 403
        assert status("/api/state", token) == 200
        assert status(f"/?token={app.token}") == 200
        assert status("/api/state", {**token, "Host": "attacker.example"}) == 403
        decide = json.dumps({"kind": "bpd", "source_id": "nope", "target_id": None}).encode()
        cross = {**token, "Content-Type": "application/json", "Origin": "http://attacker.example"}
        assert status("/api/decide", cross, decide) == 403
        assert status(f"/api/decide?token={app.token}", {"Content-Type": "application/json"}, decide) == 403
        assert status("/api/decide", {**token, "Content-Type": "application/json"}, decide) == 400  # no such item
        assert status(f"/static/..%2f..%2fapp.py?token={app.token}") == 404
    finally:
        app.stop()
