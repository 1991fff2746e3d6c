"""The review rows analysts work from: `ReviewData`, which the workbook and the HTML report render.

A run builds it from its result in memory (`review_from_result`); `crosswalk report OUT` reads
the same records back from OUT (`load_review`: crosswalk JSON, step 3/4 outputs, the saved
documents, run and metrics JSON) and rebuilds the reports without recomputing anything.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..classify import classify
from ..errors import InputError
from ..extract import load_document
from ..fingerprint import fingerprint
from ..merge import elected_value
from ..models import Document, Election, Provision

DOCUMENT_NAMES = ("source_bpd", "target_bpd", "source_aa", "target_aa")


@dataclass
class ReviewRow:
    """One source item with everything a reviewer needs to decide on it."""

    kind: str
    source_id: str
    target_id: str | None
    section: str
    target_section: str
    provision_type: str
    source_title: str
    target_title: str
    source_text: str
    target_text: str
    status: str
    confidence: float
    reasoning: str
    alternates: list[str] = field(default_factory=list)
    variance_type: str = ""
    impact: str = ""
    relation: str = ""
    confirmation: str = ""
    depends_on: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    recommended_action: str = ""
    reviewed: bool = False  # settled by a reviewer's decision (`--decisions`)
    matcher_target_id: str = ""  # what the row said when written: a Reject with it unchanged is "no counterpart"

    @property
    def evidence_link(self) -> str:
        return f"report.html#{self.source_id}"


@dataclass
class ReviewData:
    run: dict
    metrics: dict
    rows: dict[str, list[ReviewRow]]
    exceptions: list[dict]
    proposals: list[dict]
    confirmation_counts: dict[str, int]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, f"cannot read run output: {exc}") from None


def item_text(item: Provision | Election) -> str:
    if isinstance(item, Provision):
        return item.text
    lines = [item.question_text]
    for o in item.options:
        box = "☒" if o.is_selected else "☐"
        fills = "".join(f" [{f.label}: {f.value}]" for f in o.fill_ins if f.value)
        lines.append(f"{box} {o.label}. {o.text}{fills}")
    if item.kind == "text" and item.selected_value:
        lines.append(f"Answer: {item.selected_value}")
    return "\n".join(lines)


def item_section(item: Provision | Election | None) -> str:
    if item is None:
        return ""
    return item.section_number if isinstance(item, Provision) else item.question_number


def item_title(item: Provision | Election | None) -> str:
    if item is None:
        return ""
    return item.title if isinstance(item, Provision) else item.question_text


def recommended_action(status: str, variance_type: str, impact: str, reviewed: bool = False) -> str:
    """What the reviewer should do next, from status and variance (documented in the README)."""
    if reviewed and variance_type not in ("design", "regulatory"):
        return "None: settled by a reviewer's decision"
    if status == "abstain":
        return "Review: the best candidate is uncertain; pick the counterpart or confirm there is none"
    if status == "no_match":
        return "Confirm the target has no counterpart; document where the content went"
    if status == "error":
        return "Re-run or map by hand: verification failed"
    if variance_type == "design":
        return "Confirm the employer's election carries over to the target AA"
    if variance_type == "regulatory":
        return "Confirm the law- or cycle-driven change is intended"
    if status == "partial" or impact == "low":
        return "Review the wording differences"
    return "None: wording only"


def load_review(out: Path) -> ReviewData:
    """Read a finished run's outputs into review rows."""
    out = Path(out)
    docs = {name: load_document(out / "documents" / f"{name}.json")
            for name in DOCUMENT_NAMES if (out / "documents" / f"{name}.json").exists()}
    crosswalks = {kind: _read_json(out / f"{kind}_crosswalk.json") for kind in ("bpd", "aa")
                  if (out / f"{kind}_crosswalk.json").exists()}
    return review_data(_read_json(out / "run.json"),
                       _read_json(out / "metrics.json") if (out / "metrics.json").exists() else {},
                       docs, crosswalks, _optional(out / "variances.json", "variances"),
                       _optional(out / "confirmations.json", "confirmations"),
                       _read_exceptions(out / "exception_log.csv"), _optional(out / "proposed_target_aa.json", "proposals"))


def review_from_result(result, run: dict, metrics: dict) -> ReviewData:
    """The review rows of a `ConversionResult` still in memory (what a run renders its reports from)."""
    from . import crosswalk_payload

    conv = result.conversion
    docs = {name: getattr(conv, name) for name in DOCUMENT_NAMES if conv is not None and getattr(conv, name) is not None}
    crosswalks = {kind: crosswalk_payload(m.crosswalk) for kind, m in result.results.items()}
    inst = result.instance
    if inst is None:  # a BPD-only or AA-only run: no step 3/4 records
        return review_data(run, metrics, docs, crosswalks, [], [], [], [])
    dump = lambda records: [r.model_dump(mode="json") for r in records]
    return review_data(run, metrics, docs, crosswalks, dump(inst.variances), dump(inst.confirmations),
                       inst.exceptions, dump(inst.proposals))


def review_data(run: dict, metrics: dict, docs: dict[str, Document], crosswalks: dict[str, dict],
                variances: list[dict], confirmations: list[dict], exceptions: list[dict],
                proposals: list[dict]) -> ReviewData:
    by_source_v = {v["source_id"]: v for v in variances}
    by_source_c = {c["source_id"]: c for c in confirmations}
    rows = {kind: _rows(kind, cw, docs.get(f"source_{kind}"), docs.get(f"target_{kind}"), by_source_v, by_source_c)
            for kind, cw in crosswalks.items()}
    counts: dict[str, int] = {}
    for c in by_source_c.values():
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    return ReviewData(run, metrics, rows, exceptions, proposals, counts)


def _optional(path: Path, key: str) -> list[dict]:
    return _read_json(path)[key] if path.exists() else []


def _read_exceptions(path: Path) -> list[dict]:
    """The exception log as written: `exception_log.json` (exact text); a run from before it
    existed has only the CSV."""
    if path.with_suffix(".json").exists():
        return _read_json(path.with_suffix(".json"))["exceptions"]
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _rows(kind: str, cw: dict, source: Document | None, target: Document | None,
          variances: dict, confirmations: dict) -> list[ReviewRow]:
    src = {i.id: i for i in source.items} if source else {}
    tgt = {i.id: i for i in target.items} if target else {}
    rows = []
    for m in cw["mappings"]:
        s, t = src.get(m["source_id"]), tgt.get(m["target_id"])
        v = variances.get(m["source_id"], {})
        c = confirmations.get(m["source_id"], {})
        if kind == "bpd":
            ptype = classify(fingerprint(s)) if s else ""
        else:
            ptype = s.kind if s else ""
        row = ReviewRow(
            kind=kind, source_id=m["source_id"], target_id=m["target_id"], section=item_section(s),
            target_section=item_section(t), provision_type=ptype, source_title=item_title(s), target_title=item_title(t),
            source_text=item_text(s) if s else "", target_text=item_text(t) if t else "",
            status=m["status"], confidence=m["confidence"], reasoning=m["reasoning"], alternates=m["alternates"],
            variance_type=v.get("variance_type", ""), impact=v.get("impact", ""), relation=v.get("relation", ""),
            confirmation=c.get("status", ""), differences=v.get("differences", []),
            depends_on=[f"{d['election_id']} ({d['method']})" for d in c.get("depends_on", [])],
            options=[f"{o['source_label'] or '—'} → {o['target_label'] or '—'} ({o['change']})"
                     for o in m.get("option_mapping", [])],
            reviewed=bool(m.get("reviewed")), matcher_target_id=m["target_id"] or "",
        )
        if kind == "aa" and s is not None and isinstance(s, Election) and elected_value(s):
            row.differences = [f"elected: {elected_value(s)}"] + row.differences
        row.recommended_action = recommended_action(row.status, row.variance_type, row.impact, row.reviewed)
        rows.append(row)
    return rows
