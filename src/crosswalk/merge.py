"""Step 4: merged instances, the proposed target AA, variances and the exception log.

- `elected_value`: what the employer chose on an AA question, as text.
- `merged_text`: a BPD template with the elected values put where its placeholders
  and AA references are ("the template is not the instance").
- `propose_target_aa`: for every target AA question, the value carried over from the
  filled source AA through the AA crosswalk and its option-level mapping, with every
  value that could not be carried flagged.
- `classify_variances`: each BPD mapping's merged source against its merged target:
  relation (equivalent / narrower / broader / conflict / no_counterpart), variance type
  (administrative / design / regulatory / none) and impact (high / medium / low / none),
  with the rule that fired and the evidence.
- `exception_log`: design and regulatory variances and any high impact, in the columns
  of the analyst's exception log.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from .confirm import Confirmation, ElectionLink
from .fingerprint import AA_PLACEHOLDER, content_words, meaningful_numbers
from .models import Crosswalk, Document, Election, Mapping, Record

# Terms that mark a law- or cycle-driven change when one side has them and the other does not.
REGULATORY_TERMS = re.compile(
    r"secure act|secure 2\.0|cares act|setting every community up|long-term part-time|qualified birth or adoption|"
    r"72\(t\)\(2\)\(h\)|401\(k\)\(2\)\(d\)|hurricane|disaster|cycle 3|cycle 4",
    re.I,
)


def elected_value(e: Election) -> str | None:
    """The employer's answer as readable text, or None when the question is unanswered."""
    if e.kind == "text":
        value = e.selected_value
        return None if value in (None, "", []) else str(value)
    chosen = [o for o in e.options if o.is_selected]
    if not chosen:
        return None
    parts = []
    for o in chosen:
        fills = ", ".join(f"{f.label}: {f.value}" for f in o.fill_ins if f.value)
        parts.append(f"{o.label}. {o.text}" + (f" [{fills}]" if fills else ""))
    return "; ".join(parts)


def merged_text(template: str, links: list[ElectionLink], elections: dict[str, Election]) -> str:
    """Substitute elected values where the template defers to the AA."""
    values = [f"{elections[l.election_id].question_text} {v}" for l in links
              if l.election_id in elections and (v := elected_value(elections[l.election_id]))]
    if not values:
        return template
    elected = "(elected: " + " | ".join(values) + ")"
    merged, n = AA_PLACEHOLDER.subn(elected, template, count=1)
    return merged if n else f"{template} {elected}"


ProposalStatus = Literal["carried", "partially_carried", "not_carried", "source_unanswered", "no_source"]


class Proposal(Record):
    """What to enter on one target AA question, and where it came from."""

    target_id: str
    question_number: str
    question_text: str
    status: ProposalStatus
    proposed_value: str | list[str] | None = None
    proposed_text: str = ""
    fill_ins: dict[str, str] = {}
    source_id: str | None = None
    source_value: str | None = None
    confidence: float = 0.0
    flags: tuple[str, ...] = ()


def propose_target_aa(source_aa: Document, target_aa: Document, aa_cw: Crosswalk) -> list[Proposal]:
    """One proposal per target question: the answer carried over from the filled source AA."""
    sources = {e.id: e for e in source_aa.elections}
    feeding: dict[str, list[Mapping]] = {}
    for m in aa_cw.mappings:
        if m.target_id:
            feeding.setdefault(m.target_id, []).append(m)
    proposals = []
    for t in target_aa.elections:
        maps = sorted(feeding.get(t.id, []), key=lambda m: -m.confidence)
        answered = [m for m in maps if elected_value(sources[m.source_id]) is not None]
        question = {"target_id": t.id, "question_number": t.question_number, "question_text": t.question_text}
        if not maps:
            proposals.append(Proposal(**question, status="no_source",
                                      flags=("no source question maps here: the analyst must answer it",)))
        elif not answered:
            proposals.append(Proposal(**question, status="source_unanswered", source_id=maps[0].source_id,
                                      confidence=maps[0].confidence))
        else:
            carried = _carry(t, sources[answered[0].source_id], answered[0])
            if len(answered) > 1:
                carried = carried.model_copy(update={"flags": carried.flags + (
                    "other answered source questions also map here: " + ", ".join(m.source_id for m in answered[1:]),)})
            proposals.append(carried)
    return proposals


def _carry(t: Election, s: Election, m: Mapping) -> Proposal:
    question = {"target_id": t.id, "question_number": t.question_number, "question_text": t.question_text,
                "source_id": s.id, "source_value": elected_value(s)}
    if t.kind == "text" or s.kind == "text" or not t.options:
        value = str(s.selected_value) if s.kind == "text" else question["source_value"]
        return Proposal(**question, status="carried", proposed_value=value, proposed_text=value or "",
                        confidence=m.confidence)
    to_target = {o.source_label: o.target_label for o in m.option_mapping if o.source_label and o.target_label}
    chosen = [o for o in s.options if o.is_selected]
    carried_labels, flags, fill_ins = [], [], {}
    for o in chosen:
        label = to_target.get(o.label)
        if label is None:
            flags.append(f"source option {o.label}. '{o.text}' has no counterpart on the target question")
            continue
        carried_labels.append(label)
        target_option = next(x for x in t.options if x.label == label)
        s_amounts, t_amounts = _amounts(o.text), _amounts(target_option.text)
        if s_amounts and t_amounts and s_amounts != t_amounts:
            flags.append(f"amount differs: source option {o.label} says {', '.join(sorted(s_amounts))}, "
                         f"target option {label} says {', '.join(sorted(t_amounts))}: confirm with the employer")
        values = [f.value for f in o.fill_ins if f.value]
        for f, v in zip(target_option.fill_ins, values):
            fill_ins[f.label or label] = v
        if len(values) > len(target_option.fill_ins):
            flags.append(f"fill-in values of option {o.label} could not all be placed on option {label}")
    status = "carried" if len(carried_labels) == len(chosen) else ("partially_carried" if carried_labels else "not_carried")
    value, text = None, ""
    if carried_labels:
        value = carried_labels if t.kind == "multi_select" or len(carried_labels) > 1 else carried_labels[0]
        text = "; ".join(next(x.text for x in t.options if x.label == lab) for lab in carried_labels)
    if t.kind == "single_select" and len(carried_labels) > 1:
        flags.append("several options carried to a single-choice question: choose one")
    return Proposal(**question, status=status, proposed_value=value, proposed_text=text, fill_ins=fill_ins,
                    confidence=round(m.confidence * (len(carried_labels) / len(chosen)), 4), flags=tuple(flags))


def _amounts(text: str) -> set[str]:
    return {n for n in meaningful_numbers(text) if "$" in n or "%" in n}


Relation = Literal["equivalent", "narrower", "broader", "conflict", "no_counterpart"]
VarianceType = Literal["design", "regulatory", "administrative"]
Impact = Literal["high", "medium", "low", "none"]


class Variance(Record):
    """One BPD mapping's instance-level comparison."""

    source_id: str
    target_id: str | None
    relation: Relation
    variance_type: VarianceType
    impact: Impact
    rule: str
    source_text: str
    target_text: str
    differences: tuple[str, ...] = ()
    confirmation: str = ""


def classify_variances(bpd_cw: Crosswalk, source_bpd: Document, target_bpd: Document,
                       confirmations: list[Confirmation], merged_source: dict[str, str],
                       merged_target: dict[str, str], proposals: list[Proposal], answered: set[str]) -> list[Variance]:
    """Apply the variance rules to every BPD mapping (see module docstring)."""
    conf = {c.source_id: c for c in confirmations}
    flagged = {p.source_id for p in proposals if p.source_id and p.status in ("partially_carried", "not_carried")}
    src = {p.id: p for p in source_bpd.provisions}
    tgt = {p.id: p for p in target_bpd.provisions}
    out = []
    for m in bpd_cw.mappings:
        c = conf.get(m.source_id)
        s_text = merged_source.get(m.source_id, src[m.source_id].text)
        t_text = merged_target.get(m.target_id, tgt[m.target_id].text) if m.target_id else ""
        out.append(_variance(m, c, s_text, t_text, flagged, answered))
    return out


def _variance(m: Mapping, c: Confirmation | None, s_text: str, t_text: str, flagged: set[str], answered: set[str]) -> Variance:
    deps = [link.election_id for link in (c.depends_on if c else ())]
    base = {"source_id": m.source_id, "target_id": m.target_id, "source_text": s_text, "target_text": t_text,
            "confirmation": c.status if c else ""}
    if m.target_id is None:
        lost = [d for d in deps if d in answered]
        return Variance(**base, relation="no_counterpart", variance_type="design" if deps else "administrative",
                        impact="high" if lost or deps else "medium",
                        rule="no counterpart in the target BPD" + (f"; answered elections lost: {', '.join(lost)}"
                                                                   if lost else ""))
    base["differences"] = tuple(_differences(s_text, t_text))
    lost = [d for d in deps if d in flagged or (c and (d in c.missing or d in c.incompatible))]
    if lost:
        answered_lost = [d for d in lost if d in answered]
        return Variance(**base, relation="conflict", variance_type="design", impact="high" if answered_lost else "medium",
                        rule=f"employer election not carried over: {', '.join(lost)}")
    if _regulatory(s_text, t_text):
        return Variance(**base, relation=_size_relation(s_text, t_text), variance_type="regulatory", impact="medium",
                        rule="law- or cycle-driven change: numbers or regulatory terms differ")
    if m.variance_type in ("design", "regulatory"):  # the LLM verifier read both texts and saw more than wording
        return Variance(**base, relation=_size_relation(s_text, t_text), variance_type=m.variance_type,
                        impact=m.impact if m.impact in ("high", "medium", "low", "none") else "medium",
                        rule=f"LLM verifier: {m.reasoning}")
    if m.status == "match" and m.confidence >= 0.75:
        return Variance(**base, relation="equivalent", variance_type="administrative", impact="none",
                        rule="strong match, wording only")
    return Variance(**base, relation=_size_relation(s_text, t_text), variance_type="administrative", impact="low",
                    rule=f"{m.status} match (confidence {m.confidence:.2f}): wording differs, no election or legal change found")


def _size_relation(s_text: str, t_text: str) -> Relation:
    ratio = (len(t_text) + 1) / (len(s_text) + 1)
    return "narrower" if ratio < 0.7 else "broader" if ratio > 1.4 else "equivalent"


def _regulatory(s_text: str, t_text: str) -> bool:
    """New-law terms on one side only, or a dollar limit stated on both sides with different amounts."""
    s_terms = {m.lower() for m in REGULATORY_TERMS.findall(s_text)}
    t_terms = {m.lower() for m in REGULATORY_TERMS.findall(t_text)}
    dollars = lambda text: {n for n in meaningful_numbers(text) if "$" in n}
    s_dollars, t_dollars = dollars(s_text), dollars(t_text)
    return bool(s_terms ^ t_terms) or bool(s_dollars and t_dollars and s_dollars != t_dollars)


def _differences(s_text: str, t_text: str, limit: int = 8) -> list[str]:
    s_words, t_words = set(content_words(s_text)), set(content_words(t_text))
    out = []
    only_s = sorted(s_words - t_words)[:limit]
    only_t = sorted(t_words - s_words)[:limit]
    if only_s:
        out.append("only in source: " + ", ".join(only_s))
    if only_t:
        out.append("only in target: " + ", ".join(only_t))
    s_num, t_num = meaningful_numbers(s_text), meaningful_numbers(t_text)
    if s_num != t_num:
        out.append(f"numbers: source {sorted(s_num - t_num)} → target {sorted(t_num - s_num)}")
    return out


def exception_log(variances: list[Variance], opened_on: dt.date, due_days: int = 14) -> list[dict]:
    """Rows for design and regulatory variances and any high impact, in the analyst's columns."""
    rows = []
    for v in variances:
        if v.variance_type not in ("design", "regulatory") and v.impact != "high":
            continue
        rows.append({
            "ID": f"EX-{len(rows) + 1:04d}",
            "Description": f"{v.source_id} → {v.target_id or '(none)'}: {v.relation}; {v.rule}",
            "Category": v.variance_type,
            "Risk": v.impact,
            "Owner": "Unassigned",
            "Opened On": opened_on.isoformat(),
            "Due Date": (opened_on + dt.timedelta(days=due_days)).isoformat(),
            "Status": "Open",
            "Resolution": "",
            "Resolution Date": "",
            "Evidence Link": f"report.html#{v.source_id}",
            "Reviewer Sign-off": "",
        })
    return rows
