"""Running conversions end to end: one (`convert`) or many under one rate-limit budget (`run_batch`).

A run's id is a hash of its inputs' contents and its settings, so the same command
started again is the same run: it resumes, paying only for what the store does not
hold yet (every extraction, embedding and verdict is stored the moment it is paid
for). Progress is written to the store as stages finish (`crosswalk status`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ._version import __version__
from .decisions import load_decisions
from .errors import ConfigError, CrosswalkError, InputError, ItemsFailedError
from .extract import check_is_file, load_document, save_document
from .llm.client import LLMClient
from .llm.provider import make_client
from .metrics import bottlenecks
from .models import Document
from .pipeline import Conversion, ConversionResult, run_conversion
from .report import count_by, status_counts, write_crosswalk, write_instance, write_json, write_reports
from .report.outdir import OutputFolder
from .settings import Settings, load_settings, settings_record
from .store import Store

DOCUMENT_ROLES = {"source_bpd": "bpd", "target_bpd": "bpd", "source_aa": "aa", "target_aa": "aa"}


def check_inputs(paths: dict[str, Path | None]) -> dict[str, Path]:
    """The given documents, checked before anything is read: pairs complete, files present."""
    given = {name: Path(paths[name]) for name in DOCUMENT_ROLES if paths.get(name)}  # BPDs first, whatever the caller's order
    for a, b, kind in (("source_bpd", "target_bpd", "BPD"), ("source_aa", "target_aa", "AA")):
        if (a in given) != (b in given):
            raise InputError(given.get(a) or given.get(b), f"a {kind} crosswalk needs both --{a.replace('_', '-')} "
                                                           f"and --{b.replace('_', '-')}")
    if not given:
        raise CrosswalkError("nothing to do: give a BPD pair (--source-bpd/--target-bpd), an AA pair, or both")
    for path in given.values():
        check_is_file(path)
    return given


def _in_role(doc: Document, name: str) -> Document:
    if doc.role != DOCUMENT_ROLES[name]:
        raise InputError(doc.source_path, f"given as --{name.replace('_', '-')} but it is an {doc.role.upper()} document")
    return doc


def load_conversion(paths: dict[str, Path | None], password: str | None = None, store: Store | None = None) -> Conversion:
    """Read the given documents now, checking pairs and roles (InputError names the file)."""
    given = check_inputs(paths)
    return Conversion(**{name: _in_role(load_document(path, password, store), name) for name, path in given.items()})


def open_conversion(paths: dict[str, Path | None], password: str | None = None, store: Store | None = None,
                    reading: asyncio.Lock | None = None) -> Conversion:
    """Start reading the given documents (checked first), for `run_conversion` to stream.

    Documents are read off the event loop one at a time (under `reading`, shared by the
    conversions of a batch), BPDs first: the BPD crosswalk, which carries most of the calls,
    starts as soon as its two documents are read, while the AA documents are still read.
    A wrong role or an unreadable file fails its task with an InputError naming the file."""
    return _start_reading(check_inputs(paths), password, store, reading)


def _start_reading(given: dict[str, Path], password: str | None, store: Store | None,
                   reading: asyncio.Lock | None) -> Conversion:
    reading = reading or asyncio.Lock()

    async def read(name: str, path: Path) -> Document:
        async with reading:
            doc = await asyncio.to_thread(load_document, path, password, store)
        return _in_role(doc, name)
    return Conversion(**{name: asyncio.ensure_future(read(name, path)) for name, path in given.items()})


def input_record(doc: Document | None, digest: str | None) -> dict | None:
    if doc is None:
        return None
    return {"id": doc.id, "role": doc.role, "vendor": doc.vendor, "path": doc.source_path, "sha256": digest,
            "items": len(doc.items)}


def run_identity(paths: dict[str, Path | None], settings: Settings) -> tuple[str, dict[str, str | None]]:
    """The run id (same input files and settings → same id, so a restart resumes) and each file's sha256."""
    digests = {name: hashlib.sha256(Path(paths[name]).read_bytes()).hexdigest() if paths.get(name) else None
               for name in DOCUMENT_ROLES}
    if paths.get("decisions"):  # only when given: runs without decisions keep their ids
        digests["decisions"] = hashlib.sha256(Path(paths["decisions"]).read_bytes()).hexdigest()
    digest = hashlib.sha256(json.dumps([digests, settings_record(settings)], sort_keys=True).encode()).hexdigest()
    return f"run-{digest[:12]}", digests


async def convert(paths: dict[str, Path | None], settings: Settings, out: Path, store: Store,
                  client: LLMClient | None = None, on_stage: Callable[[str, dict], None] | None = None,
                  password: str | None = None, reading: asyncio.Lock | None = None,
                  force: bool = False) -> tuple[str, ConversionResult]:
    """Run one conversion (documents read as it goes) and write its outputs into `out`.

    OUT is checked and locked before any work (`report.outdir`). When items end in `error`
    the outputs are still written (they say which items, and a rerun pays only for those)
    and `ItemsFailedError` (exit 5) is raised afterwards; so is a report writer's failure."""
    given = check_inputs(paths)
    # a reviewer's decisions (`--decisions`) are read and checked before anything runs
    decisions = load_decisions(Path(paths["decisions"])) if paths.get("decisions") else None
    protected = [*given.values(), paths.get("decisions"), settings.store_path]
    with OutputFolder(out, protected, force) as folder:
        run_id, result, summary = await _convert_into(folder, given, decisions, settings, store, client, on_stage,
                                                      password, reading)
    _raise_if_incomplete(summary, run_id, result)
    return run_id, result


async def _convert_into(folder: OutputFolder, given: dict[str, Path], decisions, settings: Settings, store: Store,
                        client, on_stage, password, reading) -> tuple[str, ConversionResult, dict]:
    # hashing a large PDF takes a while: off the loop, so a batch's other conversions keep going
    run_id, digests = await asyncio.to_thread(run_identity, {**given, "decisions": decisions and decisions.path},
                                              settings)
    started = time.time()
    store.start_run(run_id, settings_record(settings), str(folder.path))

    def progress(stage: str, info: dict) -> None:
        if info.get("state") == "done":
            store.update_progress(run_id, stage, info)
        if on_stage:
            on_stage(stage, info)

    try:
        conv = _start_reading(given, password, store, reading)
        result = await run_conversion(conv, settings, store, client, on_stage=progress, decisions=decisions)
        conv = result.conversion
        inputs = {name: input_record(getattr(conv, name), digests[name]) for name in DOCUMENT_ROLES}
        if decisions is not None:
            inputs["decisions"] = {"path": str(decisions.path), "sha256": digests["decisions"], "items": len(decisions)}
        summary = run_summary(result)
        # off the event loop: in a batch, the other conversions' calls keep flowing meanwhile
        failed_reports = await asyncio.to_thread(_write_outputs_into, folder, conv, settings, result, run_id, inputs,
                                                 started, summary)
        if failed_reports:
            summary["failed_reports"] = failed_reports
    except BaseException:
        store.finish_run(run_id, "failed", {})
        raise
    store.finish_run(run_id, "finished", summary)
    return run_id, result, summary


def _raise_if_incomplete(summary: dict, run_id: str, result: ConversionResult) -> None:
    errors = sum(counts.get("error", 0) for kind, counts in summary.items() if kind in ("bpd", "aa"))
    problems = []
    if errors:
        problems.append(f"{errors} item(s) ended in error (status 'error' in the outputs; the same command "
                        "retries only those)")
    for name, why in summary.get("failed_reports", {}).items():
        problems.append(f"{name} could not be written ({why}); the crosswalk JSON/CSV are complete")
    if problems:
        error = ItemsFailedError("; ".join(problems))
        error.run_id, error.result = run_id, result  # the outputs are written: callers may still show them
        raise error


def run_summary(result: ConversionResult) -> dict:
    summary: dict = {kind: status_counts(m.crosswalk) for kind, m in result.results.items()}
    if result.instance is not None:
        summary["confirmation"] = count_by(result.instance.confirmations, "status")
        summary["variance"] = count_by(result.instance.variances, "variance_type")
        summary["proposal"] = count_by(result.instance.proposals, "status")
        summary["exceptions"] = len(result.instance.exceptions)
    return summary


def _write_outputs_into(folder: OutputFolder, *args) -> dict[str, str]:
    with folder.write() as tmp:
        return write_outputs(tmp, *args)


def write_outputs(tmp: Path, conv: Conversion, settings: Settings, result: ConversionResult, run_id: str,
                   inputs: dict, started: float, summary: dict) -> dict[str, str]:
    for match in result.results.values():
        write_crosswalk(tmp, match.crosswalk)
    if result.instance is not None:
        write_instance(tmp, result.instance)
    metrics = result.metrics.as_dict()
    metrics["bottlenecks"] = bottlenecks(result.metrics)
    record = {
        "run_id": run_id, "crosswalk_version": __version__, "started": started, "finished": time.time(),
        "settings": settings_record(settings), "inputs": inputs, "status_counts": summary,
        "plans": {kind: m.plan for kind, m in result.results.items()}, "timings": metrics,
    }
    write_json(tmp / "run.json", record)
    write_json(tmp / "metrics.json", metrics)
    (tmp / "documents").mkdir()
    for name in DOCUMENT_ROLES:
        if getattr(conv, name) is not None:  # saved so `crosswalk report` never needs the inputs again
            save_document(getattr(conv, name), tmp / "documents" / f"{name}.json")
    from .report.review import review_from_result

    failed = write_reports(tmp, review_from_result(result, record, metrics))
    if failed:  # run.json says which report is missing, and why
        write_json(tmp / "run.json", {**record, "failed_reports": failed})
    return failed


@dataclass
class BatchItem:
    name: str
    out: Path
    paths: dict[str, Path | None]
    status: str = "pending"
    error: str = ""
    run_id: str = ""
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0


def read_manifest(path: Path) -> tuple[dict, list[BatchItem]]:
    """`[settings]` overrides and `[[conversion]]` entries (name, out, source_bpd, target_bpd, source_aa, target_aa,
    and optionally decisions)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(path, f"cannot read manifest: {exc}") from None
    base = path.parent
    items = []
    for n, entry in enumerate(data.get("conversion", []), 1):
        name = str(entry.get("name") or f"conversion-{n}")
        if "out" not in entry:
            raise InputError(path, "conversion has no 'out' directory", item=name)
        resolve = lambda v: (base / v) if v else None
        inputs = {role: resolve(entry.get(role)) for role in (*DOCUMENT_ROLES, "decisions")}
        items.append(BatchItem(name, resolve(entry["out"]), inputs))
    if not items:
        raise InputError(path, "no [[conversion]] entries")
    if len({i.name for i in items}) != len(items):
        raise InputError(path, "conversion names must be unique")
    return data.get("settings", {}), items


async def run_batch(items: list[BatchItem], settings: Settings, on_stage=None) -> list[BatchItem]:
    """All conversions at once, sharing one store and one provider client (one rate-limit budget per model).

    A conversion that fails is recorded with its error; the others go on.
    """
    check_batch_outputs(items, settings)
    needs_client = settings.verifier == "llm" or settings.embedder == "openai"
    client = make_client(settings) if needs_client else None
    try:
        reading = asyncio.Lock()  # PDFs are read one at a time, while the other conversions' calls fly
        with Store.open(settings.store_path) as store:
            await asyncio.gather(*(_run_item(item, settings, store, client, on_stage, reading) for item in items))
    finally:
        if client is not None:
            await client.aclose()
    return items


def check_batch_outputs(items: list[BatchItem], settings: Settings) -> None:
    """Every conversion's OUT checked before any work: distinct, and each one usable (`report.outdir`)."""
    from .report.outdir import check_output_dir

    seen: dict[Path, str] = {}
    for item in items:
        where = Path(item.out).resolve()
        if where in seen:
            raise InputError(item.out, f"conversions {seen[where]!r} and {item.name!r} write the same output folder")
        seen[where] = item.name
        inputs = [p for p in item.paths.values() if p]
        check_output_dir(item.out, [*inputs, settings.store_path])


async def _run_item(item: BatchItem, settings: Settings, store: Store, client, on_stage, reading: asyncio.Lock) -> None:
    t0 = time.perf_counter()
    try:
        item.run_id, result = await convert(item.paths, settings, item.out, store, client,
                                            on_stage=(lambda s, i: on_stage(f"{item.name}:{s}", i)) if on_stage else None,
                                            reading=reading)
        item.status, item.summary = "finished", run_summary(result)
    except ItemsFailedError as exc:  # outputs written, some items or reports not
        item.status, item.error, item.run_id = "incomplete", str(exc), exc.run_id
        item.summary = run_summary(exc.result)
    except CrosswalkError as exc:
        item.status, item.error = "failed", str(exc)
    except Exception as exc:  # one conversion's bug must not stop the batch; it is reported with its type
        item.status, item.error = "failed", f"{type(exc).__name__}: {exc}"
    item.seconds = round(time.perf_counter() - t0, 2)


def batch_settings(manifest_settings: dict, overrides: dict) -> Settings:
    try:
        return load_settings({**manifest_settings, **{k: v for k, v in overrides.items() if v is not None}})
    except ConfigError as exc:
        raise ConfigError(f"manifest settings: {exc}") from None
