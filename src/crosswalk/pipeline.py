"""The async pipeline: both crosswalks run concurrently, each stage is measured.

    source/target documents ─► fingerprints ─► embeddings (cached) ─► candidates ─► verifier ─► crosswalk
    (BPD pair and AA pair run side by side; `asyncio.run` is only ever called by the CLI)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from dataclasses import dataclass, field, fields
from typing import Awaitable, Union

import numpy as np

from ._version import __version__
from .candidates import Side, check_fits_in_memory, make_side, plan_counts, score_matrices
from .confirm import Confirmation, ElectionLink, confirm, election_links
from .decisions import REVIEWER, Decisions, apply_decisions, check_decided_sources
from .embed import CachedEmbedder, make_embedder
from .fingerprint import FINGERPRINT_VERSION, fingerprint, without_common_headings
from .llm.client import LLMClient
from .llm.limiter import CALL_PRIORITY
from .llm.provider import make_client
from .merge import Proposal, Variance, classify_variances, elected_value, exception_log, merged_text, propose_target_aa
from .metrics import RunMetrics
from .models import Crosswalk, Document, Election, Mapping, Verdict
from .review.memory import remembered_decisions
from .settings import Settings
from .store import Store
from .verify.features import CandidateSet, Ranking, build_candidate_sets
from .verify.llm import LLMVerifier, item_payloads
from .verify.local import DecisionRule, LocalVerifier, VerifierModel, load_model
from .verify.options import map_options, option_text


# A document in hand, or one still being read (a task): a crosswalk starts when its two are read.
DocumentSource = Union[Document, "asyncio.Future[Document]"]


async def ready(doc: DocumentSource) -> Document:
    """The document, once it has been read."""
    return doc if isinstance(doc, Document) else await doc


@dataclass
class Conversion:
    """The documents of one conversion (read, or being read); either pair may be absent."""

    source_bpd: DocumentSource | None = None
    target_bpd: DocumentSource | None = None
    source_aa: DocumentSource | None = None
    target_aa: DocumentSource | None = None

    def pairs(self) -> dict[str, tuple[DocumentSource, DocumentSource]]:
        out = {}
        if self.source_bpd and self.target_bpd:
            out["bpd"] = (self.source_bpd, self.target_bpd)
        if self.source_aa and self.target_aa:
            out["aa"] = (self.source_aa, self.target_aa)
        return out

    async def read(self) -> "Conversion":
        """The same conversion with every document read."""
        return Conversion(**{f.name: await ready(getattr(self, f.name)) if getattr(self, f.name) else None
                             for f in fields(self)})

    def cancel_reading(self) -> None:
        for f in fields(self):
            doc = getattr(self, f.name)
            if isinstance(doc, asyncio.Future):
                doc.cancel()


@dataclass
class MatchResult:
    crosswalk: Crosswalk
    candidate_sets: list[CandidateSet]
    plan: dict


@dataclass
class InstanceResult:
    """Steps 3 and 4: confirmations, proposed target AA, variances, exceptions."""

    source_links: dict[str, list[ElectionLink]]
    target_links: dict[str, list[ElectionLink]]
    confirmations: list[Confirmation]
    proposals: list[Proposal]
    variances: list[Variance]
    exceptions: list[dict]


@dataclass
class ConversionResult:
    results: dict[str, MatchResult] = field(default_factory=dict)
    metrics: RunMetrics = field(default_factory=RunMetrics)
    instance: InstanceResult | None = None
    conversion: Conversion | None = None  # the documents as read
    run_id: str = ""  # set when the outputs were written (`crosswalk status RUN`)

    def records(self, kind: str) -> list[dict]:
        """One dict per source item of the `kind` ('bpd' or 'aa') crosswalk: a DataFrame's rows."""
        return [m.model_dump(mode="json") for m in self.results[kind].crosswalk.mappings]


CONVERSION_ORDER = itertools.count(1)  # the call priority of each conversion started in this process
STREAM_CHUNK = 48  # source items whose features are built, then sent to the verifier, together


async def prepare_side(doc: DocumentSource, embedder: CachedEmbedder, metrics: RunMetrics,
                       label: str) -> tuple[Document, Side]:
    """Fingerprint and embed one document as soon as it is read."""
    doc = await ready(doc)
    with metrics.stage(f"{label}:fingerprint", items=len(doc.items)):
        fps = without_common_headings([fingerprint(item) for item in doc.items])
    passages = [f.passages for f in fps]
    flat = [p for ps in passages for p in ps]
    with metrics.stage(f"{label}:embed", items=len(fps)) as m:
        before = embedder.hits
        vectors = await embedder.embed(flat + [f.core for f in fps])
        m.cache_hits = embedder.hits - before
    n = len(flat)
    return doc, make_side([item.id for item in doc.items], fps, vectors[:n], vectors[n:], [len(ps) for ps in passages])


async def prepare_sides(kind: str, source: DocumentSource, target: DocumentSource, embedder: CachedEmbedder,
                        metrics: RunMetrics) -> tuple[tuple[Document, Side], tuple[Document, Side]]:
    """Both documents of a pair fingerprinted and embedded, each as soon as it is read."""
    return tuple(await gather_or_cancel(prepare_side(source, embedder, metrics, f"{kind}:source"),
                                        prepare_side(target, embedder, metrics, f"{kind}:target")))


async def gather_or_cancel(*aws: Awaitable) -> list:
    """Like `asyncio.gather`, but the first failure cancels the others (no orphan keeps paying)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        await cancel_all(tasks)
        raise


async def cancel_all(tasks: list[asyncio.Future]) -> None:
    """Cancel the tasks and wait until they have stopped."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def decision_rule(settings: Settings, trained_threshold: float) -> DecisionRule:
    threshold = settings.match_threshold if settings.match_threshold is not None else trained_threshold
    return DecisionRule(match_threshold=threshold, partial_threshold=max(settings.partial_threshold, threshold),
                        alternate_ratio=settings.alternate_ratio, abstain_floor=max(threshold - settings.abstain_band, 0.0))


async def candidate_sets_for(kind: str, source: Document, target: Document, settings: Settings,
                             embedder: CachedEmbedder, metrics: RunMetrics) -> list[CandidateSet]:
    """Fingerprint, embed and score both sides; the top-k candidates of every source item."""
    (_, src_side), (_, tgt_side) = await prepare_sides(kind, source, target, embedder, metrics)
    with metrics.stage(f"{kind}:candidates", items=len(source.items)):
        matrices = await asyncio.to_thread(score_matrices, src_side, tgt_side)
        return await asyncio.to_thread(build_candidate_sets, src_side, tgt_side, matrices, settings.candidates_k)


def make_verifier(kind: str, settings: Settings, store: Store, client: LLMClient | None,
                  source: Document, target: Document, model: VerifierModel | None = None):
    """The local verifier, or the LLM verifier (which uses the local one as its first stage); `model`
    (its threshold, bands and strong-evidence floor in `meta`) in place of the shipped one."""
    model = model or load_model(kind)
    local = LocalVerifier(model, decision_rule(settings, model.meta.get("threshold", 0.5)))
    if settings.verifier == "local":
        return local
    return LLMVerifier(client, settings.llm_model, store, local, kind, item_payloads([source, target]),
                       mode=settings.verify_mode, **two_stage_bands(settings, model),
                       max_candidates=settings.llm_max_candidates, max_tokens=settings.llm_max_output_tokens,
                       operation=f"{kind}:verification")


def two_stage_bands(settings: Settings, model) -> dict:
    """The two-stage bands: the settings' when given, else the model's (from its blocked calibration)."""
    low, high = model.meta.get("bands", (0.0, 1.01))
    return {"low": settings.llm_band_low if settings.llm_band_low is not None else low,
            "high": settings.llm_band_high if settings.llm_band_high is not None else high,
            "strong_floor": model.meta.get("strong_fused", 1.01)}


async def match_documents(kind: str, source: DocumentSource, target: DocumentSource, settings: Settings,
                          embedder: CachedEmbedder, metrics: RunMetrics, store: Store | None = None,
                          client: LLMClient | None = None, decisions: Decisions | None = None) -> MatchResult:
    """Crosswalk one source document to one target document.

    Each document is fingerprinted and embedded as soon as it is read; source items then
    stream to the verifier in chunks: while one chunk's calls are in flight, the next
    chunk's candidate features are computed (off the event loop). A reviewer's decisions
    then replace the verdicts of the items they settle."""
    (source, src_side), (target, tgt_side) = await prepare_sides(kind, source, target, embedder, metrics)
    n, k = len(source.items), settings.candidates_k
    chunks = [range(i, min(i + STREAM_CHUNK, n)) for i in range(0, n, STREAM_CHUNK)]
    check_fits_in_memory(len(source.items), len(target.items), source.source_path or source.id)
    with metrics.stage(f"{kind}:candidates", items=n):  # all-pairs scores, the ranking, the first chunk's features
        matrices = await asyncio.to_thread(score_matrices, src_side, tgt_side)
        ranking = await asyncio.to_thread(Ranking.of, tgt_side, matrices, k)
        features_of = lambda rows: asyncio.to_thread(build_candidate_sets, src_side, tgt_side, matrices, k, rows, ranking)
        first = await features_of(chunks[0]) if n else []
    verifier = make_verifier(kind, settings, store, client, source, target)
    with metrics.stage(f"{kind}:verify", items=n) as stage:
        sets, calls = list(first), [asyncio.ensure_future(verifier.verify(first))]
        try:
            for rows in chunks[1:]:
                more = await features_of(rows)
                sets += more
                calls.append(asyncio.ensure_future(verifier.verify(more)))
        except BaseException:
            await cancel_all(calls)
            raise
        verdicts = [v for chunk in await gather_or_cancel(*calls) for v in chunk]
        if client is not None and isinstance(verifier, LLMVerifier):
            record_usage(stage, client, f"{kind}:verification", settings.llm_model)
            stage.cache_hits = verifier.stats.cache_hits
            stage.errors = verifier.stats.errors
    sources = {item.id: item for item in source.items}
    targets = {item.id: item for item in target.items}
    if store is not None and settings.reuse_decisions:  # the review app's, this conversion's and others'
        remembered = await asyncio.to_thread(remembered_decisions, store, kind, source, target)
        decisions = decisions.over(remembered) if decisions else remembered
    verdicts = apply_decisions(verdicts, decisions, targets, target.source_path or target.id)
    vectors = await option_vectors(verdicts, sources, targets, embedder) if kind == "aa" else {}
    mappings = [to_mapping(v, sources, targets, vectors) for v in verdicts]
    crosswalk = Crosswalk(kind=kind, source_document=source.id, target_document=target.id, mappings=tuple(mappings),
                          run={"verifier": verifier.name, "embedder": embedder.model_id,
                               "fingerprint": FINGERPRINT_VERSION, "crosswalk_version": __version__})
    return MatchResult(crosswalk, sets, plan_counts(len(source.items), len(target.items), settings.candidates_k))


async def option_vectors(verdicts: list[Verdict], sources: dict, targets: dict,
                         embedder: CachedEmbedder) -> dict[str, np.ndarray]:
    """Embeddings of the options of every matched AA pair (one cached batch)."""
    texts = sorted({option_text(o) for v in verdicts if v.target_id
                    for item in (sources[v.source_id], targets[v.target_id])
                    if isinstance(item, Election) for o in item.options})
    if not texts:
        return {}
    return dict(zip(texts, await embedder.embed(texts)))


def to_mapping(v: Verdict, sources: dict, targets: dict, vectors: dict[str, np.ndarray]) -> Mapping:
    """The stable output record for a verdict; AA matches also get their option-level mapping."""
    options = ()
    s, t = sources[v.source_id], targets.get(v.target_id)
    if isinstance(s, Election) and isinstance(t, Election):
        options = map_options(s, t, vectors)
    return Mapping(source_id=v.source_id, target_id=v.target_id, alternates=v.alternates, status=v.status,
                   confidence=v.confidence, scores=v.scores, reasoning=v.reasoning, option_mapping=options,
                   variance_type=v.variance_type, impact=v.impact, reviewed=v.verifier == REVIEWER)


def record_usage(stage, client: LLMClient, operation: str, model: str) -> None:
    """Copy a client operation's counters into a stage's metrics."""
    usage = client.usage.get(operation)
    if usage is None:
        return
    stage.api_calls, stage.tokens, stage.cost_usd = usage.calls, usage.tokens, round(usage.cost_usd, 6)
    stage.retries, stage.rate_limit_hits = usage.retries, usage.rate_limited
    limiter = client.limiter(model)
    stage.max_concurrency = limiter.stats.max_in_flight
    stage.configured_concurrency = limiter.concurrency.maximum
    history = limiter.stats.in_flight_samples
    stage.avg_concurrency = round(sum(history) / len(history), 2) if history else 0.0


async def run_conversion(conversion: Conversion, settings: Settings, store: Store,
                         client: LLMClient | None = None, on_stage=None,
                         decisions: Decisions | None = None) -> ConversionResult:
    """Run every crosswalk the conversion has documents for, concurrently.

    Documents may still be being read (tasks): each crosswalk starts when its two are.
    A provider client is made from the settings when they ask for the LLM verifier or
    the API embedder (or passed in, so several conversions share one rate-limit budget).
    `decisions` (a reviewer's) override the matcher's verdicts for the items they settle.
    """
    async with contextlib.AsyncExitStack() as owned:
        if client is None and (settings.verifier == "llm" or settings.embedder == "openai"):
            client = await owned.enter_async_context(make_client(settings))
        CALL_PRIORITY.set(next(CONVERSION_ORDER))  # in a batch, earlier conversions' calls go first
        embedder = make_embedder(settings, store, client)
        result = ConversionResult(metrics=RunMetrics(on_event=on_stage))
        pairs = conversion.pairs()
        try:
            outcomes = await gather_or_cancel(*(
                match_documents(kind, src, tgt, settings, embedder, result.metrics, store, client, decisions)
                for kind, (src, tgt) in pairs.items()
            ))
            conversion = result.conversion = await conversion.read()
            sources = (item.id for source, _ in conversion.pairs().values() for item in source.items)
            check_decided_sources(decisions, sources)
        except BaseException:
            conversion.cancel_reading()  # a bad document stops the run; what was paid for is stored
            raise
        result.results = dict(zip(pairs, outcomes))
        if "bpd" in result.results and "aa" in result.results:
            with result.metrics.stage("confirm+merge", items=len(conversion.source_bpd.items)):
                # off the event loop: in a batch, the other conversions' calls keep flowing meanwhile
                result.instance = await asyncio.to_thread(instance_step, conversion, result.results["bpd"].crosswalk,
                                                          result.results["aa"].crosswalk, settings)
        return result


def instance_step(conv: Conversion, bpd_cw: Crosswalk, aa_cw: Crosswalk, settings: Settings) -> InstanceResult:
    """Confirm BPD matches against the AA crosswalk, merge elected values, classify variances."""
    source_links = election_links(conv.source_bpd, conv.source_aa)
    target_links = election_links(conv.target_bpd, conv.target_aa)
    confirmations = confirm(bpd_cw, aa_cw, source_links, target_links, conv.target_aa)
    proposals = propose_target_aa(conv.source_aa, conv.target_aa, aa_cw)
    source_elections = {e.id: e for e in conv.source_aa.elections}
    target_elections = {e.id: e for e in conv.target_aa.elections}
    # the target AA is blank: its merged instance uses the proposed values
    proposed = _proposed_elections(conv.target_aa, proposals)
    merged_source = {p.id: merged_text(p.text, source_links[p.id], source_elections) for p in conv.source_bpd.provisions}
    merged_target = {p.id: merged_text(p.text, target_links[p.id], {**target_elections, **proposed})
                     for p in conv.target_bpd.provisions}
    answered = {e.id for e in conv.source_aa.elections if elected_value(e) is not None}
    variances = classify_variances(bpd_cw, conv.source_bpd, conv.target_bpd, confirmations,
                                   merged_source, merged_target, proposals, answered)
    return InstanceResult(source_links, target_links, confirmations, proposals, variances,
                          exception_log(variances, dt.date.today(), settings.exception_due_days))


def _proposed_elections(target_aa: Document, proposals: list[Proposal]) -> dict[str, Election]:
    """Target elections with the proposed answers filled in, for merging target templates."""
    by_id = {p.target_id: p for p in proposals}
    out = {}
    for e in target_aa.elections:
        p = by_id.get(e.id)
        if p is None or p.proposed_value is None:
            continue
        labels = p.proposed_value if isinstance(p.proposed_value, list) else [p.proposed_value]
        options = tuple(o.model_copy(update={"is_selected": o.label in labels}) for o in e.options)
        out[e.id] = e.model_copy(update={"options": options, "selected_value": p.proposed_value})
    return out
