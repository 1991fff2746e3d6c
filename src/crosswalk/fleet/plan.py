"""One plan of a fleet: read its filled AA, put its answers on the shared template, merge, write.

Everything here runs on a worker (a Dask process, or the driver itself in the default
single-process mode) and touches neither the store nor OUT: a plan's outputs come back as
bytes, and the driver, the one writer, puts them in place. What is shared by the fleet (the
vendor pair's documents and both crosswalks) arrives once per worker as `SharedWork`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import CrosswalkError, InputError
from ..extract import load_document
from ..metrics import RunMetrics
from ..models import Crosswalk, Document, Election
from ..pipeline import Conversion, ConversionResult, MatchResult, instance_step
from ..report.html import remember_diffs
from ..runner import run_summary, write_outputs
from ..settings import Settings

PlanStatus = Literal["finished", "failed", "skipped"]


@dataclass(frozen=True)
class SharedWork:
    """What every plan of a vendor pair reuses: its four documents and both crosswalks, computed once."""

    key: str  # content address: the four files' sha256 and the settings
    source_bpd: Document
    target_bpd: Document
    source_aa: Document  # the template: plans' answers are put on its elections
    target_aa: Document
    bpd: Crosswalk
    aa: Crosswalk
    sizes: dict  # per crosswalk: the plan counts `run.json` reports
    settings: Settings
    inputs: dict  # the four documents' records for each plan's run.json
    diffs: dict = field(default_factory=dict, repr=False)  # BPD pairs' word differences, for every plan's report


@dataclass(frozen=True)
class PlanOutcome:
    name: str
    status: PlanStatus
    error: str = ""
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # relative path -> content
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0
    worker: str = ""


# -- answers onto the template ------------------------------------------------------------------
BLANKS = re.compile(r"_{2,}|\[\s*[xX✓]?\s*\]|[^\w\s]")


def _norm(text: str) -> str:
    return " ".join(BLANKS.sub(" ", text.lower()).split())


def _key(e: Election) -> tuple[str, str]:
    return e.question_number.strip(), _norm(e.question_text)


def _answered(e: Election) -> bool:
    return e.selected_value not in (None, "", []) or any(o.is_selected for o in e.options)


def link_elections(template: Document, plan: Document) -> dict[str, str]:
    """Plan election id -> template election id: same number and wording first, then the closest
    wording among the template's unlinked questions (the plan was read apart from the template,
    perhaps by OCR or a vision model, so its ids and line breaks may differ)."""
    free: dict[tuple[str, str], list[Election]] = {}
    for e in template.elections:
        free.setdefault(_key(e), []).append(e)
    links, rest = {}, []
    for e in plan.elections:
        same = free.get(_key(e))
        if same:
            links[e.id] = same.pop(0).id
        else:
            rest.append(e)
    taken = set(links.values())
    left = [e for e in template.elections if e.id not in taken]
    for e in rest:
        best, score = None, 0.0
        for t in left:
            ratio = difflib.SequenceMatcher(None, _norm(e.text), _norm(t.text), autojunk=False).ratio()
            ratio += 0.05 * (t.question_number.strip() == e.question_number.strip())
            if ratio > score:
                best, score = t, ratio
        if best is not None and score >= 0.8:  # OCR noise stays above 0.9 on our scans; other questions below 0.6
            links[e.id] = best.id
            left.remove(best)
    return links


def _answers_onto(template: Election, answer: Election) -> Election:
    """The template question with the plan's answer (chosen options by label, fill-in values by position)."""
    by_label = {o.label: o for o in answer.options}
    options = []
    for o in template.options:
        given = by_label.get(o.label)
        if given is None:
            options.append(o.model_copy(update={"is_selected": False}))
            continue
        fills = tuple(f.model_copy(update={"value": g.value}) for f, g in zip(o.fill_ins, given.fill_ins))
        options.append(o.model_copy(update={"is_selected": given.is_selected, "fill_ins": fills + o.fill_ins[len(fills):]}))
    return template.model_copy(update={"options": tuple(options), "selected_value": answer.selected_value})


def fill_template(template: Document, plan: Document) -> tuple[Document, list[str]]:
    """(the template with the plan's answers, the plan's answered questions that matched no template question)."""
    links = link_elections(template, plan)
    answers = {links[e.id]: e for e in plan.elections if e.id in links}
    elections = tuple(_answers_onto(e, answers[e.id]) if e.id in answers else
                      e.model_copy(update={"selected_value": None,
                                           "options": tuple(o.model_copy(update={"is_selected": False}) for o in e.options)})
                      for e in template.elections)
    unlinked = [f"{e.question_number} {e.question_text[:80]}".strip() for e in plan.elections
                if e.id not in links and _answered(e)]
    filled = template.model_copy(update={"elections": elections, "title": plan.title or template.title,
                                         "source_path": plan.source_path})
    return filled, unlinked


# -- one plan ------------------------------------------------------------------------------------
def read_plan(path: Path, vision: dict[int, tuple[list[dict], str]] | None, model: str) -> Document:
    """The plan's filled AA: JSON as it is, a PDF from its text layer and OCR, or with the vision
    replies the driver obtained for its pages without a text layer."""
    if vision is not None and path.suffix.lower() == ".pdf":
        from ..extract.vision import document_with_vision

        doc = document_with_vision(path, None, "aa", vision, model)
    else:
        doc = load_document(path)
    if doc.role != "aa":
        raise InputError(path, "a plan must be a filled Adoption Agreement, and this is a BPD")
    return doc


def scan_plan(file_name: str, data: bytes) -> list:
    """Images of the plan's pages without a text layer (none for JSON): what the vision model must read."""
    if not file_name.lower().endswith(".pdf"):
        return []
    from ..extract.vision import scanned_pages

    with tempfile.TemporaryDirectory(prefix="crosswalk-plan-") as tmp:
        path = Path(tmp) / file_name
        path.write_bytes(data)
        try:
            return scanned_pages(path, None, "aa")[1]
        except CrosswalkError:
            return []  # the plan task reports the file's problem, with its name


def run_plan(shared: SharedWork, name: str, origin: str, data: bytes,
             vision: dict[int, tuple[list[dict], str]] | None = None, run_id: str = "") -> PlanOutcome:
    """One plan, start to finish; any failure becomes a failed outcome with its reason (never raised)."""
    t0, worker = time.perf_counter(), f"pid {os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="crosswalk-plan-") as tmp:
        path = Path(tmp) / Path(origin).name
        try:
            path.write_bytes(data)
            files, summary = _plan_files(shared, path, origin, vision, run_id)
        except CrosswalkError as exc:
            return PlanOutcome(name, "failed", str(exc).replace(str(path), origin),
                               seconds=time.perf_counter() - t0, worker=worker)
        except Exception as exc:  # one plan's bug must not stop the fleet; reported with its type
            return PlanOutcome(name, "failed", f"{type(exc).__name__}: {str(exc).replace(str(path), origin)[:300]}",
                               seconds=time.perf_counter() - t0, worker=worker)
    return PlanOutcome(name, "finished", files=files, summary=summary, seconds=time.perf_counter() - t0, worker=worker)


def _plan_files(shared: SharedWork, path: Path, origin: str, vision, run_id: str) -> tuple[dict[str, bytes], dict]:
    started = time.time()
    metrics = RunMetrics()
    with metrics.stage("plan:read") as stage:
        plan = read_plan(path, vision, shared.settings.vision_model)
        stage.items = len(plan.elections)
        filled, unlinked = fill_template(shared.source_aa, plan)
    conv = Conversion(shared.source_bpd, shared.target_bpd, filled.model_copy(update={"source_path": origin}),
                      shared.target_aa)
    result = ConversionResult(results={"bpd": MatchResult(shared.bpd, [], shared.sizes["bpd"]),
                                       "aa": MatchResult(shared.aa, [], shared.sizes["aa"])},
                              metrics=metrics, conversion=conv)
    with metrics.stage("confirm+merge", items=len(shared.source_bpd.items)):
        result.instance = instance_step(conv, shared.bpd, shared.aa, shared.settings)
    summary = run_summary(result)
    answered = sum(_answered(e) for e in plan.elections)
    summary["fleet"] = {"answered": answered, "unlinked_answers": unlinked, "page_paths": list(plan.page_paths),
                        "shared_work": shared.key}
    inputs = {**shared.inputs, "plan": {"id": plan.id, "role": "aa", "vendor": plan.vendor, "path": origin,
                                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                        "items": len(plan.elections)}}
    remember_diffs(shared.diffs)  # the same BPD pairs in every plan's report: diffed once, by the driver
    with tempfile.TemporaryDirectory(prefix="crosswalk-out-") as out:
        with metrics.stage("plan:outputs"):
            failed = write_outputs(Path(out), conv, shared.settings, result, run_id, inputs, started, summary)
        if failed:
            raise CrosswalkError("; ".join(f"{k} could not be written ({v})" for k, v in failed.items()))
        files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file()}
    return files, summary
