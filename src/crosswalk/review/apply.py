"""A finished run with the store's decisions applied: crosswalks, confirmations, the proposed
target AA, variances, the exception log and the reports rewritten in OUT (nothing re-verified:
no API call, no new cost).

The matcher's crosswalk of the run is kept in the store the first time (`review_baselines`), so
a decision taken back restores what the matcher had said.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..decisions import Decisions, decided_verdict
from ..embed import make_embedder
from ..errors import InputError
from ..extract import load_document, save_document
from ..models import Crosswalk, Document, Verdict
from ..pipeline import Conversion, ConversionResult, MatchResult, instance_step, option_vectors, to_mapping
from ..report import crosswalk_payload, write_crosswalk, write_instance, write_json, write_reports
from ..report.outdir import OutputFolder, is_crosswalk_output
from ..settings import Settings
from ..store import Store
from .memory import conversion_scope, remembered_decisions

KINDS = ("bpd", "aa")


@dataclass
class ReviewedRun:
    """A run's documents, settings and crosswalks as the matcher wrote them."""

    out: Path
    record: dict
    settings: Settings
    documents: dict[str, Document]
    baselines: dict[str, Crosswalk]  # the matcher's, by kind

    def pair(self, kind: str) -> tuple[Document, Document]:
        return self.documents[f"source_{kind}"], self.documents[f"target_{kind}"]

    def scope(self, kind: str) -> str:
        return conversion_scope(kind, *self.pair(kind))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, f"cannot read run output: {exc}") from None


def run_settings(record: dict, store: Store) -> Settings:
    """The settings the run was made with (fields of another version dropped), on this store."""
    known = {k: v for k, v in record.get("settings", {}).items() if k in Settings.model_fields}
    return Settings(**{**known, "store_path": store.path})


def open_run(out: Path, store: Store) -> ReviewedRun:
    """Read a finished run; its crosswalks as written are kept as the matcher's the first time."""
    out = Path(out)
    if not is_crosswalk_output(out):
        raise InputError(out, "not a crosswalk output directory (no run.json written by crosswalk)")
    record = _read_json(out / "run.json")
    documents = {}
    for path in sorted((out / "documents").glob("*.json")):
        documents[path.stem] = load_document(path)
    baselines = {}
    for kind in KINDS:
        path = out / f"{kind}_crosswalk.json"
        if not path.exists() or f"source_{kind}" not in documents or f"target_{kind}" not in documents:
            continue
        # the matcher's crosswalk of this run (a rerun with other settings is another run id)
        key = f"{conversion_scope(kind, documents[f'source_{kind}'], documents[f'target_{kind}'])}:{record.get('run_id')}"
        store.save_baseline(key, kind, _read_json(path))  # kept only the first time
        try:
            baselines[kind] = Crosswalk.model_validate(store.baseline(key, kind))
        except ValueError as exc:
            raise InputError(path, f"not a crosswalk: {exc}") from None
    if not baselines:
        raise InputError(out, "the run has no crosswalk to review")
    return ReviewedRun(out, record, run_settings(record, store), documents, baselines)


async def decided_crosswalk(run: ReviewedRun, kind: str, decisions: Decisions, store: Store) -> Crosswalk:
    """The matcher's crosswalk with every decided source's mapping replaced by the reviewer's."""
    source, target = run.pair(kind)
    sources, targets = {i.id: i for i in source.items}, {i.id: i for i in target.items}
    decided: dict[str, Verdict] = {}
    for m in run.baselines[kind].mappings:
        decision = decisions.by_source.get(m.source_id)
        if decision is not None and (decision.target_id is None or decision.target_id in targets):
            proposed = Verdict(**m.model_dump(exclude={"option_mapping", "reviewed"}))
            decided[m.source_id] = decided_verdict(decision, proposed, "")
    vectors = {}
    if kind == "aa" and decided:  # option mappings of the decided pairs (embeddings cached in the store)
        vectors = await option_vectors(list(decided.values()), sources, targets, make_embedder(run.settings, store))
    mappings = tuple(to_mapping(decided[m.source_id], sources, targets, vectors) if m.source_id in decided else m
                     for m in run.baselines[kind].mappings)
    return run.baselines[kind].model_copy(update={"mappings": mappings})


async def apply_review(out: Path, store: Store) -> tuple[dict, dict[str, str]]:
    """OUT's outputs with the store's decisions applied: the new status summary, and the reports that
    could not be written (name → why). When the decisions change no mapping (none made, or all
    already applied) only the workbook and HTML are rebuilt, in place."""
    from ..runner import run_summary  # the runner writes runs; this rewrites one (no cycle at import)

    run = open_run(out, store)
    crosswalks, applied = {}, 0
    for kind in run.baselines:
        decisions = await asyncio.to_thread(remembered_decisions, store, kind, *run.pair(kind))
        applied += len(decisions)
        crosswalks[kind] = await decided_crosswalk(run, kind, decisions, store)
    if all(crosswalk_payload(cw) == _read_json(run.out / f"{kind}_crosswalk.json") for kind, cw in crosswalks.items()):
        with OutputFolder(out, [store.path], force=True):  # locked: a run writing this folder is not raced
            return run.record.get("status_counts", {}), await asyncio.to_thread(write_reports, run.out)
    conv = Conversion(**{name: doc for name, doc in run.documents.items()})
    result = ConversionResult(results={k: MatchResult(cw, [], run.record.get("plans", {}).get(k, {}))
                                       for k, cw in crosswalks.items()}, conversion=conv)
    if "bpd" in crosswalks and "aa" in crosswalks:
        result.instance = await asyncio.to_thread(instance_step, conv, crosswalks["bpd"], crosswalks["aa"],
                                                  run.settings)
    summary = run_summary(result)
    record = {**run.record, "status_counts": summary,
              "review": {"decisions_applied": applied, "applied_at": time.time()}}
    record.pop("failed_reports", None)
    # force: OUT is a crosswalk output (checked above); foreign files beside ours are left as they are
    with OutputFolder(out, [store.path], force=True) as folder, folder.write() as tmp:
        failed = await asyncio.to_thread(_write, tmp, result, record, run.documents, run.out)
    return summary, failed


def _write(tmp: Path, result: ConversionResult, record: dict, documents: dict[str, Document],
           out: Path) -> dict[str, str]:
    if (out / "metrics.json").exists():  # the run's timings and costs stand: nothing was recomputed
        shutil.copyfile(out / "metrics.json", tmp / "metrics.json")
    for match in result.results.values():
        write_crosswalk(tmp, match.crosswalk)
    if result.instance is not None:
        write_instance(tmp, result.instance)
    (tmp / "documents").mkdir()
    for name, doc in documents.items():
        save_document(doc, tmp / "documents" / f"{name}.json")
    write_json(tmp / "run.json", record)
    failed = write_reports(tmp)
    if failed:
        write_json(tmp / "run.json", {**record, "failed_reports": failed})
    return failed

