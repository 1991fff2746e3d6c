"""The fleet driver: shared work once, then every plan on the executor, outputs written here.

    manifest ─► shared work (BPD crosswalk, AA template crosswalk: once, content-addressed in the store)
            ─► per plan, on a worker: read the filled AA, put its answers on the template, merge, outputs
            ─► the driver writes OUT/<plan>/ (one writer) and the fleet summary

The driver owns the store and the provider client, so the fleet has one rate-limit budget
however many workers it has: workers render a scanned plan's pages, the driver sends them to
the vision model (its limiter paces the whole fleet, replies are stored as they arrive), and
the plan task gets the replies. Workers never open the store: SQLite on a shared network
drive is unsafe, and with one writer a rerun sees exactly what was paid for.

A plan's output folder carries its run id, a hash of the shared work and the plan file: a
rerun skips plans already finished with the same inputs, and redoes them all when the shared
work changed (another setting, a reviewer's decision).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import OutputError
from ..llm.provider import make_client
from ..models import Document
from ..report import crosswalk_payload
from ..report.outdir import TMP_PREFIX, OutputFolder, is_crosswalk_output
from ..runner import input_record, load_conversion
from ..pipeline import run_conversion
from ..settings import Settings, settings_record
from ..store import Store
from .executor import Executor, make_executor
from .manifest import SUMMARY_NAMES, FleetManifest, Plan
from .plan import PlanOutcome, SharedWork, run_plan, scan_plan
from .summary import counts, summary_row, write_summary

LOCK_NAME = ".crosswalk-fleet.lock"


@dataclass
class FleetResult:
    rows: list[dict] = field(default_factory=list)
    shared_s: float = 0.0        # the shared work (cold: matching; warm: read from the store)
    plans_s: float = 0.0         # from the first plan submitted to the last one written
    shared_cost_usd: float = 0.0
    cost_usd: float = 0.0        # the whole fleet's API cost (shared work included)
    api_calls: int = 0
    tokens: int = 0
    shared_api_calls: int = 0
    shared_tokens: int = 0
    rate_limited: int = 0        # 429s the provider answered (the limiter's job is to keep this at 0)
    vision_pages: int = 0
    vision_longest_s: float = 0.0

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == "failed"]

    @property
    def counts(self) -> dict[str, int]:
        """plans, finished, skipped (finished earlier), failed."""
        return counts(self.rows)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def shared_work(manifest: FleetManifest, settings: Settings, store: Store, client) -> SharedWork:
    """The vendor pair's documents and crosswalks (every embedding and verdict is cached in the store)."""
    conv = await asyncio.to_thread(load_conversion, manifest.documents, None, store)
    result = await run_conversion(conv, settings, store, client)
    digests = {role: await asyncio.to_thread(_sha256, path) for role, path in manifest.documents.items()}
    crosswalks = {kind: crosswalk_payload(m.crosswalk) for kind, m in result.results.items()}
    key = hashlib.sha256(json.dumps([digests, settings_record(settings), crosswalks, manifest.vision],
                                    sort_keys=True, default=str).encode()).hexdigest()
    inputs = {role: input_record(getattr(conv, role), digests[role]) for role in manifest.documents}
    diffs = await asyncio.to_thread(bpd_diffs, conv.source_bpd, conv.target_bpd, result.results["bpd"].crosswalk)
    return SharedWork(key, conv.source_bpd, conv.target_bpd, conv.source_aa, conv.target_aa,
                      result.results["bpd"].crosswalk, result.results["aa"].crosswalk,
                      {kind: m.plan for kind, m in result.results.items()}, settings, inputs, diffs)


def bpd_diffs(source: Document, target: Document, crosswalk) -> dict:
    """The word differences every plan's report shows for the BPD pairs (the templates' text: the same
    in every plan). Computed once here instead of once per worker (2 s each on the corpus)."""
    from ..report.html import word_diff

    src = {p.id: p.text for p in source.provisions}
    tgt = {p.id: p.text for p in target.provisions}
    pairs = {(src[m.source_id], tgt[m.target_id]) for m in crosswalk.mappings if m.target_id in tgt}
    return {pair: word_diff(*pair) for pair in pairs}


def plan_run_id(shared_key: str, plan_digest: str) -> str:
    return "plan-" + hashlib.sha256(f"{shared_key}:{plan_digest}".encode()).hexdigest()[:12]


def finished_before(folder: Path, run_id: str) -> dict | None:
    """The plan's run.json when its folder holds a finished run with this id (a resumed fleet skips it)."""
    if not is_crosswalk_output(folder):
        return None
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return record if record.get("run_id") == run_id and not record.get("failed_reports") else None


def check_fleet_out(out: Path, manifest: FleetManifest, settings: Settings, force: bool) -> None:
    """OUT holds only plan folders and the fleet summary (else exit 2, unless --force); never an input or the store."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: the fleet output must be a folder")
    root = out.resolve()
    for p in [*manifest.documents.values(), *(plan.path for plan in manifest.plans), settings.store_path]:
        if Path(p).resolve().is_relative_to(root):
            raise OutputError(f"{out}: the output folder may not hold an input or the store ({p})")
    if not out.is_dir() or force:
        return
    names = {plan.name for plan in manifest.plans} | SUMMARY_NAMES | {LOCK_NAME}
    foreign = sorted(e.name for e in out.iterdir() if e.name not in names and not e.name.startswith(TMP_PREFIX))
    if foreign:
        raise OutputError(f"{out} holds files crosswalk did not write ({', '.join(foreign[:5])}): choose an empty "
                          "folder, or --force to write beside them (they are never touched)")


class FleetRun:
    """One fleet run: the executor, the store, the client and OUT, and the plans' progress."""

    def __init__(self, manifest: FleetManifest, settings: Settings, out: Path, store: Store, client,
                 executor: Executor, on_progress: Callable[[dict], None] | None):
        self.manifest, self.settings, self.out = manifest, settings, out
        self.store, self.client, self.executor = store, client, executor
        self.on_progress = on_progress or (lambda event: None)
        self.result = FleetResult()
        self.slots = asyncio.Semaphore(max(2 * executor.slots, 1))  # one queued behind each running plan
        # plans held in memory at once (file, page images, replies): enough for the vision model's whole
        # minute of pages (64 plans of 24 pages = 1,536 pages; a mid-tier TPM admits 384 a minute)
        self.admitted = asyncio.Semaphore(max(4 * executor.slots, 64))

    async def run(self, shared: SharedWork) -> None:
        handle = await self.executor.share(shared)
        t0 = time.perf_counter()
        plans = list(self.manifest.plans)
        self.on_progress({"event": "start", "total": len(plans), "started": t0})
        tasks = [asyncio.ensure_future(self.one(handle, shared.key, plan)) for plan in plans]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        self.result.plans_s = time.perf_counter() - t0

    async def one(self, handle, shared_key: str, plan: Plan) -> None:
        async with self.admitted:
            await self._one(handle, shared_key, plan)

    async def _one(self, handle, shared_key: str, plan: Plan) -> None:
        try:
            data = await asyncio.to_thread(plan.path.read_bytes)
        except OSError as exc:  # removed or unreadable since the manifest was read
            self._record(plan, PlanOutcome(plan.name, "failed", f"{plan.path}: cannot read: {exc.strerror or exc}"))
            return
        run_id = plan_run_id(shared_key, hashlib.sha256(data).hexdigest())
        folder = self.out / plan.name
        earlier = finished_before(folder, run_id)
        if earlier is not None:
            self._record(plan, PlanOutcome(plan.name, "skipped", summary=earlier.get("status_counts", {})))
            return
        try:
            vision = await self._vision(plan, data) if self.manifest.vision else None
        except Exception as exc:  # e.g. the provider refused every page: this plan fails, the others go on
            self._record(plan, PlanOutcome(plan.name, "failed", f"vision: {exc}"))
            return
        async with self.slots:
            try:
                outcome = await self.executor.submit(run_plan, handle, plan.name, str(plan.path), data, vision, run_id)
            except Exception as exc:  # the cluster gave up on it (e.g. Dask's KilledWorker after 3 deaths)
                outcome = PlanOutcome(plan.name, "failed", f"worker: {type(exc).__name__}: {str(exc)[:300]}")
        if outcome.status == "finished":
            try:
                await asyncio.to_thread(self._write, folder, outcome.files)
            except OutputError as exc:  # e.g. the plan's folder holds someone else's files
                outcome = PlanOutcome(plan.name, "failed", str(exc), seconds=outcome.seconds, worker=outcome.worker)
        self._record(plan, outcome)

    async def _vision(self, plan: Plan, data: bytes) -> dict[int, tuple[list[dict], str]] | None:
        from ..extract.vision import read_page_with_fallback

        async with self.slots:
            pages = await self.executor.submit(scan_plan, plan.path.name, data)
        if not pages:
            return None
        models = [self.settings.vision_model, self.settings.vision_fallback_model]
        replies = await asyncio.gather(*(read_page_with_fallback(self.client, models, self.store, p, "aa")
                                         for p in pages))
        self.result.vision_pages += len(pages)
        return {p.page: reply for p, reply in zip(pages, replies)}

    def _write(self, folder: Path, files: dict[str, bytes]) -> None:
        with OutputFolder(folder) as target, target.write() as tmp:
            for name, content in files.items():
                path = tmp / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)

    def _record(self, plan: Plan, outcome: PlanOutcome) -> None:
        self.result.rows.append(summary_row(plan, outcome))
        self.on_progress({"event": "plan", "plan": plan.name, "status": outcome.status, "error": outcome.error})


def _usage(client) -> tuple[int, int, float]:
    """(calls, tokens, USD) the client has spent so far, over every operation."""
    usage = list(client.usage.values()) if client is not None else []
    return sum(u.calls for u in usage), sum(u.tokens for u in usage), sum(u.cost_usd for u in usage)


async def run_fleet(manifest: FleetManifest, settings: Settings, out: Path, *, workers: int | None = None,
                    scheduler: str | None = None, force: bool = False,
                    on_progress: Callable[[dict], None] | None = None) -> FleetResult:
    """Every plan of the manifest into OUT/<plan>/, and the fleet summary into OUT (README, "Fleets")."""
    check_fleet_out(out, manifest, settings, force)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_NAME, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(f"{out}: another fleet is writing here") from None
        return await _run_locked(manifest, settings, out, workers, scheduler, on_progress)


async def _run_locked(manifest, settings, out, workers, scheduler, on_progress) -> FleetResult:
    needs_client = settings.verifier == "llm" or settings.embedder == "openai" or manifest.vision
    client = make_client(settings) if needs_client else None
    executor = None
    try:
        with Store.open(settings.store_path) as store:
            t0 = time.perf_counter()
            shared = await shared_work(manifest, settings, store, client)
            shared_s = time.perf_counter() - t0
            shared_usage = _usage(client)
            (on_progress or (lambda e: None))({"event": "shared", "seconds": shared_s, "cost_usd": shared_usage[2]})
            executor = await make_executor(workers, scheduler)
            fleet = FleetRun(manifest, settings, out, store, client, executor, on_progress)
            try:
                await fleet.run(shared)
            finally:  # what finished is summarised, even when the fleet was interrupted
                order = {p.name: n for n, p in enumerate(manifest.plans)}
                fleet.result.rows.sort(key=lambda r: order[r["plan"]])
                await asyncio.to_thread(write_summary, out, fleet.result.rows)
        result = fleet.result
        result.shared_s = shared_s
        # the client's own sums (the stages' figures are rounded): marginal = total - shared, exactly
        result.shared_api_calls, result.shared_tokens, result.shared_cost_usd = shared_usage
        result.api_calls, result.tokens, result.cost_usd = _usage(client)
        if client is not None:
            result.rate_limited = sum(u.rate_limited for u in client.usage.values())
            vision = client.usage.get("vision")
            result.vision_longest_s = vision.max_latency_s if vision else 0.0
        return result
    finally:
        if executor is not None:
            await executor.close()
        if client is not None:
            await client.aclose()
