"""One finished run under review: what the app shows, and every decision saved at once.

`ReviewSession.open(out, store)` reads the run, scores each source item's candidates again with
the local verifier (embeddings come from the store: about a second warm), and builds one
`ReviewState` per crosswalk with the decisions already in the store (this conversion's and, by
content, other conversions'). The web app (`review.app`) and the tests drive it; so could a
script.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..metrics import RunMetrics
from ..models import Document, Election, Provision
from ..pipeline import candidate_sets_for, decision_rule
from ..report.html import word_diff
from ..report.review import item_section as _section, item_text, item_title as _title
from ..store import Store
from ..text import csv_cell
from ..verify.features import FEATURES, CandidateSet
from ..verify.local import load_model
from ..verify.options import map_options
from .apply import ReviewedRun, apply_review, open_run
from .memory import ELSEWHERE, decision_row, remembered_decisions
from .queue import Candidate, ReviewItem, ReviewState

SHOWN_CANDIDATES = 6
EVIDENCE = ("cosine", "lexical", "heading", "term_equal", "code_overlap", "number_overlap", "claim_margin")


@dataclass(frozen=True)
class Context:
    """What depends on each source item, read from the run's step 3-4 outputs."""

    variances: dict[str, dict]
    confirmations: dict[str, dict]
    proposals: dict[str, list[dict]]  # by source election id

    @classmethod
    def read(cls, out: Path) -> "Context":
        def rows(name: str, key: str) -> list[dict]:
            path = out / name
            return json.loads(path.read_text(encoding="utf-8"))[key] if path.exists() else []
        proposals: dict[str, list[dict]] = {}
        for p in rows("proposed_target_aa.json", "proposals"):
            if p.get("source_id"):
                proposals.setdefault(p["source_id"], []).append(p)
        return cls({v["source_id"]: v for v in rows("variances.json", "variances")},
                   {c["source_id"]: c for c in rows("confirmations.json", "confirmations")}, proposals)

    def impact(self, source_id: str) -> float:
        """0-1: a design or regulatory variance, a BLOCKED confirmation, an elected value that changes."""
        v, c = self.variances.get(source_id, {}), self.confirmations.get(source_id, {})
        weight = 0.5 if v.get("variance_type") in ("design", "regulatory") else 0.0
        weight += 0.5 if c.get("status") == "BLOCKED" else 0.0
        weight += 0.3 if any(p.get("status") != "carried" for p in self.proposals.get(source_id, [])) else 0.0
        return min(weight, 1.0)


class ReviewSession:
    def __init__(self, run: ReviewedRun, store: Store, states: dict[str, ReviewState],
                 sets: dict[str, dict[str, CandidateSet]], context: Context):
        self.run, self.store, self.states, self.sets, self.context = run, store, states, sets, context
        self.notes: dict[tuple[str, str], str] = {}
        self.origins: dict[tuple[str, str], str] = {}

    @classmethod
    async def open(cls, out: Path, store: Store) -> "ReviewSession":
        run = open_run(Path(out), store)
        context = Context.read(run.out)
        states, sets = {}, {}
        for kind in run.baselines:
            source, target = run.pair(kind)
            found = await candidate_sets_for(kind, source, target, run.settings, _embedder(run, store), RunMetrics())
            sets[kind] = {cs.source_id: cs for cs in found}
            states[kind] = _state(kind, run, found, context)
        session = cls(run, store, states, sets, context)
        session._load_decisions()
        return session

    def _load_decisions(self) -> None:
        for kind, state in self.states.items():
            remembered = remembered_decisions(self.store, kind, *self.run.pair(kind))
            for sid, d in remembered.by_source.items():
                state.decisions[sid] = d.target_id
                self.notes[(kind, sid)] = d.note
                self.origins[(kind, sid)] = d.origin
            state.refresh()

    # -- reading ----------------------------------------------------------------------------
    def kind_of(self, source_id: str) -> str | None:
        """The crosswalk whose source document holds `source_id`."""
        return next((kind for kind, sets in self.sets.items() if source_id in sets), None)

    def documents(self, kind: str) -> tuple[Document, Document]:
        return self.run.pair(kind)

    def queue(self, kind: str) -> list[dict]:
        """Every source item, undecided first in queue order, then the decided in document order."""
        state = self.states[kind]
        source, target = self.documents(kind)
        titles = {i.id: _title(i) for i in (*source.items, *target.items)}
        order = state.queue() + [i.id for i in source.items if i.id in state.decisions]
        rows = []
        for sid in order:
            a = state.answer(sid)
            rows.append({"source_id": sid, "title": titles.get(sid, ""), "answer": a.target_id,
                         "answer_title": titles.get(a.target_id, "") if a.target_id else "",
                         "p_wrong": round(a.p_wrong, 3), "priority": round(state.priority(sid), 3),
                         "decided": a.decided, "changed": a.changed, "impact": state.item(sid).impact,
                         "origin": self.origins.get((kind, sid), "")})
        return rows

    def item(self, kind: str, source_id: str) -> dict:
        state = self.states[kind]
        source, target = self.documents(kind)
        s = _find(source, source_id)
        targets = {i.id: i for i in target.items}
        a = state.answer(source_id)
        probabilities = state.probabilities(source_id)
        cs = self.sets[kind][source_id]
        shown = sorted(probabilities, key=probabilities.get, reverse=True)[:SHOWN_CANDIDATES]
        for extra in (a.target_id, state.item(source_id).proposed):
            if extra and extra not in shown and extra in targets:
                shown.append(extra)
        return {"kind": kind, "source_id": source_id, "section": _section(s), "title": _title(s),
                "text": item_text(s), "answer": a.target_id, "decided": a.decided, "proposed": state.item(source_id).proposed,
                "note": self.notes.get((kind, source_id), ""), "origin": self.origins.get((kind, source_id), ""),
                "candidates": [self._candidate(s, targets[t], probabilities.get(t), cs) for t in shown],
                "depends": self._depends(kind, source_id)}

    def _candidate(self, s, t, p: float | None, cs: CandidateSet) -> dict:
        left, right = word_diff(item_text(s), item_text(t))
        row = {"target_id": t.id, "section": _section(t), "title": _title(t), "p": None if p is None else round(p, 3),
               "source_diff": left, "target_diff": right, "evidence": {}}
        if t.id in cs.target_ids:
            features = dict(zip(FEATURES, cs.features[cs.target_ids.index(t.id)].tolist()))
            row["evidence"] = {name: round(features[name], 3) for name in EVIDENCE}
            row["evidence"]["fused"] = round(float(cs.fused[cs.target_ids.index(t.id)]), 3)
        if isinstance(s, Election) and isinstance(t, Election):
            row["options"] = [{"source": o.source_label, "target": o.target_label, "change": o.change}
                              for o in map_options(s, t)]
        return row

    def _depends(self, kind: str, source_id: str) -> dict:
        c = self.context
        return {"variance": c.variances.get(source_id), "confirmation": c.confirmations.get(source_id),
                "proposals": c.proposals.get(source_id, [])}

    def search(self, kind: str, query: str, limit: int = 20) -> list[dict]:
        """Target items whose id, number, title or text hold every word of `query`."""
        words = query.lower().split()
        _, target = self.documents(kind)
        hits = []
        for t in target.items:
            haystack = f"{t.id} {_section(t)} {_title(t)} {item_text(t)}".lower()
            if words and all(w in haystack for w in words):
                hits.append({"target_id": t.id, "section": _section(t), "title": _title(t),
                             "text": item_text(t)[:300]})
            if len(hits) >= limit:
                break
        return hits

    # -- deciding -------------------------------------------------------------------------------
    def decide(self, kind: str, source_id: str, target_id: str | None, note: str = "") -> None:
        """Save the decision in the store (committed before this returns), then let the queue learn."""
        source, target = self.documents(kind)
        s = _find(source, source_id)
        t = _find(target, target_id) if target_id else None
        self.store.save_decision(decision_row(self.run.scope(kind), kind, s, t, target, note))
        self.notes[(kind, source_id)] = note
        self.origins[(kind, source_id)] = "this review"
        self.states[kind].decide(source_id, target_id)

    def undo(self, kind: str, source_id: str) -> None:
        self.store.delete_decision(self.run.scope(kind), kind, source_id)
        self.notes.pop((kind, source_id), None)
        self.origins.pop((kind, source_id), None)
        self.states[kind].undo(source_id)

    def decisions_csv(self) -> str:
        """The decisions as the `--decisions` CSV (source_id,target_id,note)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["source_id", "target_id", "note"])
        for kind, state in self.states.items():
            for sid, tid in state.decisions.items():
                note = self.notes.get((kind, sid), "")
                writer.writerow([sid, tid or "none", csv_cell(note)])  # ids are read back as they are
        return buffer.getvalue()

    def progress(self) -> dict:
        return {kind: {"items": len(state.items), "decided": len(state.decisions),
                       "from_other_conversions": sum(o == ELSEWHERE for (k, _), o in self.origins.items() if k == kind)}
                for kind, state in self.states.items()}

    async def recompute(self) -> dict:
        """Confirmations, the proposed target AA, variances, the exception log and the reports rewritten
        in OUT from the decisions; the queue's impacts follow the new variances."""
        summary, failed = await apply_review(self.run.out, self.store)
        if failed:
            summary = {**summary, "failed_reports": failed}
        self.context = Context.read(self.run.out)
        return summary


def _embedder(run: ReviewedRun, store: Store):
    from ..embed import make_embedder

    if run.settings.embedder != "minilm-onnx":
        raise InputError(run.out, "reviewing a run made with the API embedder is not supported yet; rerun with the "
                                  "embedded default")
    return make_embedder(run.settings, store)


def _state(kind: str, run: ReviewedRun, sets: list[CandidateSet], context: Context) -> ReviewState:
    model = load_model(kind)
    threshold = decision_rule(run.settings, model.meta.get("threshold", 0.5)).match_threshold
    proposed = {m.source_id: m.target_id for m in run.baselines[kind].mappings}
    source, target = run.pair(kind)
    position = {item.id: n for n, item in enumerate(source.items)}
    items = [ReviewItem(cs.source_id, position[cs.source_id],
                        tuple(Candidate(t, float(p)) for t, p in zip(cs.target_ids, model.probability(cs.features))),
                        threshold, proposed.get(cs.source_id), context.impact(cs.source_id)) for cs in sets]
    return ReviewState(items, {item.id: n for n, item in enumerate(target.items)})


def _find(doc: Document, item_id: str) -> Provision | Election:
    for item in doc.items:
        if item.id == item_id:
            return item
    raise InputError(doc.source_path or doc.id, "no such item", item=item_id)
