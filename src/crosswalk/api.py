"""The Python API: one façade, `Crosswalker`, for notebooks and other programs.

    from crosswalk import ConversionInputs, Crosswalker

    with Crosswalker(store_path="store.sqlite") as cw:
        result = cw.convert(ConversionInputs(source_bpd="old_bpd.pdf", target_bpd="new_bpd.pdf"))
        rows = result.records("bpd")            # list of dicts: pandas.DataFrame(rows)
        cw.convert(inputs, out="crosswalk-out")  # also writes the outputs, as `crosswalk run -o` does

Sync methods for scripts and notebooks, `a`-prefixed coroutines underneath for async callers
(the CLI drives those: every command is a call on this object and a view of what it returns);
the same settings, store and exception tree everywhere (`crosswalk.errors`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

from .candidates import check_fits_in_memory, plan_counts
from .decisions import load_decisions
from .errors import ConfigError, CrosswalkError, InputError
from .evaluate import Scores, load_gold, score
from .extract import load_document
from .models import Document
from .pipeline import ConversionResult, run_conversion
from .runner import BatchItem, batch_settings, convert, load_conversion, open_conversion, read_manifest, run_batch
from .settings import Settings, load_settings
from .store import Store


@dataclass(frozen=True)
class ConversionInputs:
    """The files of one conversion: a BPD pair, an AA pair, or both; optionally a reviewer's decisions."""

    source_bpd: Path | str | None = None
    target_bpd: Path | str | None = None
    source_aa: Path | str | None = None
    target_aa: Path | str | None = None
    decisions: Path | str | None = None
    password: str | None = None  # the user password of encrypted PDFs

    def paths(self) -> dict[str, Path | None]:
        return {f.name: Path(getattr(self, f.name)) if getattr(self, f.name) else None
                for f in fields(self) if f.name != "password"}


class Crosswalker:
    """Settings and a store for a series of conversions. Use as a context manager (closes the store)."""

    def __init__(self, settings: Settings | None = None, **overrides: Any):
        self.settings = settings if settings is not None else load_settings(overrides)
        self._overrides = {k: v for k, v in overrides.items() if v is not None}  # a manifest's settings yield to these
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.store_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> "Crosswalker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversions ------------------------------------------------------------------------------
    def convert(self, inputs: ConversionInputs, out: Path | str | None = None, force: bool = False) -> ConversionResult:
        """Run a conversion; with `out`, also write its outputs there (the rules of README "Safety")."""
        return asyncio.run(self.aconvert(inputs, out, force))

    async def aconvert(self, inputs: ConversionInputs, out: Path | str | None = None, force: bool = False,
                       on_stage: Callable[[str, dict], None] | None = None) -> ConversionResult:
        """`result.run_id` names the run when `out` is given (`status`); `on_stage(stage, info)` hears progress."""
        client = self._client()
        try:
            if out is not None:
                run_id, result = await convert(inputs.paths(), self.settings, Path(out), self.store, client,
                                               on_stage=on_stage, password=inputs.password, force=force)
                result.run_id = run_id
                return result
            paths = inputs.paths()
            decisions = load_decisions(paths["decisions"]) if paths.get("decisions") else None
            conversion = open_conversion(paths, inputs.password, self.store)
            return await run_conversion(conversion, self.settings, self.store, client, on_stage=on_stage,
                                        decisions=decisions)
        finally:
            if client is not None:
                await client.aclose()

    def plan(self, inputs: ConversionInputs) -> dict[str, dict]:
        """Per crosswalk: pairs in, pairs kept, verifier calls, memory and cold time, before any work;
        `too_large` says why a pair will not fit in memory (None when it fits)."""
        conversion = load_conversion(inputs.paths(), inputs.password, self.store)
        out = {}
        for kind, (s, t) in conversion.pairs().items():
            out[kind] = plan_counts(len(s.items), len(t.items), self.settings.candidates_k)
            try:
                check_fits_in_memory(len(s.items), len(t.items), s.source_path)
                out[kind]["too_large"] = None
            except InputError as exc:
                out[kind]["too_large"] = str(exc)
        return out

    def inspect(self, path: Path | str, password: str | None = None, cached: bool = True) -> Document:
        """The document crosswalk imports from `path` (PDFs: from the store when read before, unless not `cached`)."""
        return load_document(path, password, self.store if cached else None)

    def extract(self, path: Path | str, password: str | None = None, vision: bool = False) -> Document:
        """Like `inspect`; with `vision`, a PDF's pages without a text layer go to the vision model."""
        return asyncio.run(self.aextract(path, password, vision))

    async def aextract(self, path: Path | str, password: str | None = None, vision: bool = False) -> Document:
        path = Path(path)
        if not (vision and path.suffix.lower() == ".pdf"):
            return await asyncio.to_thread(load_document, path, password, self.store)
        from .extract.vision import read_pdf_with_vision
        from .llm.provider import make_client

        async with make_client(self.settings) as client:
            return await read_pdf_with_vision(path, client, [self.settings.vision_model,
                                                             self.settings.vision_fallback_model], self.store, password)

    # -- runs, batches and fleets ------------------------------------------------------------------
    def status(self, run: str) -> dict:
        """A run's record (by id, the start of one, or its output folder): state, finished stages, and
        what the store holds (`cached`: embeddings and LLM verdicts)."""
        key = run
        if Path(run).is_dir() and (Path(run) / "run.json").is_file():
            key = json.loads((Path(run) / "run.json").read_text())["run_id"]
        runs = self.store.find_runs(key) or self.store.find_runs(str(Path(run).resolve()))
        if not runs:
            raise CrosswalkError(f"no run {run!r} in {self.settings.store_path}")
        record = dict(runs[0])
        record["progress"] = json.loads(record.get("progress") or "{}")
        record["cached"] = {kind: self.store.count(kind) for kind in ("embedding", "verdict")}
        return record

    async def abatch(self, manifest: Path | str, on_stage: Callable[[str, dict], None] | None = None) -> list[BatchItem]:
        """Every `[[conversion]]` of a batch manifest, under one rate-limit budget; each item says how it ended."""
        manifest_settings, items = read_manifest(Path(manifest))
        return await run_batch(items, batch_settings(manifest_settings, self._overrides), on_stage=on_stage)

    async def afleet(self, manifest: Path | str, out: Path | str, *, workers: int | None = None,
                     scheduler: str | None = None, vision: bool | None = None, force: bool = False,
                     on_progress: Callable[[dict], None] | None = None):
        """A fleet (README, "Fleets"): the vendor pair's crosswalks once, then every plan into OUT/<plan>/."""
        from .fleet import read_fleet_manifest, run_fleet

        if workers is not None and scheduler is not None:
            raise ConfigError("give --workers or --scheduler, not both")
        spec = read_fleet_manifest(Path(manifest))
        if vision is not None:
            spec = dataclasses.replace(spec, vision=vision)
        settings = batch_settings(spec.settings, self._overrides)
        return await run_fleet(spec, settings, Path(out), workers=workers, scheduler=scheduler, force=force,
                               on_progress=on_progress)

    # -- review ----------------------------------------------------------------------------------------
    async def arebuild(self, out: Path | str) -> tuple[dict, dict[str, str]]:
        """A finished run's outputs rewritten with the review decisions in the store (nothing re-verified):
        (status counts, reports that could not be written)."""
        from .review.apply import apply_review

        return await apply_review(Path(out), self.store)

    async def areview(self, out: Path | str, port: int = 0, ready: Callable[[str], None] | None = None) -> None:
        """Serve the review app for a finished run on 127.0.0.1 until cancelled; `ready(url)` gets its URL."""
        from .review.app import serve
        from .review.session import ReviewSession

        session = await ReviewSession.open(Path(out), self.store)
        await serve(session, port, ready or (lambda url: None))

    @staticmethod
    def evaluate(crosswalk_json: Path | str, gold: Path | str) -> tuple[Scores, dict, int]:
        """Score a written crosswalk against gold labels (the gold README's rule): (scores, the crosswalk JSON,
        how many labelled items a reviewer's decision set: those score the reviewer, not the matcher)."""
        path = Path(crosswalk_json)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            predictions = {m["source_id"]: m["target_id"] for m in data["mappings"]}
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(path, f"not a crosswalk JSON: {exc}") from None
        labels = load_gold(Path(gold))
        reviewed = sum(1 for m in data["mappings"] if m.get("reviewed") and m["source_id"] in labels)
        return score(predictions, labels), data, reviewed

    # -- helpers --------------------------------------------------------------------------------------
    def _client(self):
        if self.settings.verifier == "llm" or self.settings.embedder == "openai":
            from .llm.provider import make_client

            return make_client(self.settings)
        return None


def item_types(doc: Document) -> dict[str, int]:
    """How many items of each type a document holds: AA question kinds, or BPD provision types."""
    from .classify import classify
    from .fingerprint import fingerprint

    types: dict[str, int] = {}
    for item in doc.items:
        t = item.kind if doc.role == "aa" else classify(fingerprint(item))
        types[t] = types.get(t, 0) + 1
    return types
