"""The whole conversion on the simulated API: the earlier design against ours.

    python bench/pipeline.py [--shared ../shared] [--json]

Workload: the shared corpus's four documents (98 + 81 + 45 + 104 = 328 pages) read
page by page by the vision model (the simulator answers each page with the records
the earlier vision run extracted from it), embedded through the embeddings API,
matched, and verified by gpt-4.1 — on the `poc` profile (the design document's
latencies and a mid-tier account's limits), time-scaled. Figures are simulated
minutes; `cached_rerun` is real seconds.

- baseline: the earlier design: steps one after another (vision, embeddings, BPD
  verification, AA verification), a fixed pool of 16 workers per stage, one
  embedding call per item, top-5 candidates each verified in its own call, no cache;
- ours: the pipeline's defaults: both crosswalks at once, each starting as soon as its
  two documents are read, pages paced only by the limiter, batched embeddings,
  two-stage verification with one call per source item, everything cached;
- lower_bound: for the work ours sent, max(critical path, Σ tokens / TPM, Σ requests / RPM) per model;
- cached_rerun: ours again on the warm store;
- batch10: ten conversions at once on one client (one rate-limit budget), their own stores.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import corpus_missing, parse_args  # noqa: E402  (sets up the path and offline mode)

import numpy as np  # noqa: E402

from crosswalk.candidates import make_side, score_matrices  # noqa: E402
from crosswalk.embed import CachedEmbedder  # noqa: E402
from crosswalk.extract.vision import PageImage, assemble_document, read_document, read_page  # noqa: E402
from crosswalk.fingerprint import fingerprint  # noqa: E402
from crosswalk.llm.fake_api import PROFILES, FakeAPIProcess  # noqa: E402
from crosswalk.llm.provider import OpenAIEmbedder, make_client  # noqa: E402
from crosswalk.metrics import RunMetrics  # noqa: E402
from crosswalk.pipeline import candidate_sets_for, make_verifier  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402
from crosswalk.store import Store  # noqa: E402
from crosswalk.verify.features import build_candidate_sets  # noqa: E402

TIME_SCALE = 30.0
PROFILE = PROFILES["poc"]
VISION, EMBED, VERIFY = "gpt-5-nano", "text-embedding-3-small", "gpt-4.1"
OPERATION_MODEL = {"vision": VISION, "embeddings": EMBED, "bpd:verification": VERIFY, "aa:verification": VERIFY}
DOCS = {"source_bpd": "bpd", "target_bpd": "bpd", "source_aa": "aa", "target_aa": "aa"}


def page_workload(shared: Path, tag: str = "") -> tuple[dict[str, list[PageImage]], dict[str, dict]]:
    """Page images per document and the simulator's fixture for each (records of that page)."""
    corpus = shared / "corpus" / "relius-to-ascensus"
    pages: dict[str, list[PageImage]] = {}
    fixtures: dict[str, dict] = {}
    for name in DOCS:
        data = json.loads((corpus / f"{name}.json").read_text())
        by_page: dict[int, list] = defaultdict(list)
        for r in data["records"]:
            by_page[int(r.get("pdf_page") or (r.get("provenance") or {}).get("page") or 1)].append(r)
        total = max(int(data["source_extraction"].get("total_pages") or 0), max(by_page))
        pages[name] = []
        for n in range(1, total + 1):
            image = f"{tag}{name}:page:{n}".encode()
            pages[name].append(PageImage(name, n, image))
            fixtures[base64.b64encode(image).decode()] = {"records": by_page.get(n, [])}
    return pages, fixtures


def settings_for(url: str, store: Path, **extra):
    base = {"llm_base_url": url, "store_path": store, "verifier": "llm", "embedder": "openai",
            "llm_model": VERIFY, "rate_limit_period_s": 60.0 / TIME_SCALE}
    return load_settings({**base, **extra}, env={})


def totals(client) -> dict:
    usage = client.usage
    per_model: dict[str, dict] = defaultdict(lambda: {"calls": 0, "tokens": 0})
    for op, u in usage.items():
        model = OPERATION_MODEL.get(op, op)
        per_model[model]["calls"] += u.calls
        per_model[model]["tokens"] += u.tokens
    return {"calls": sum(u.calls for u in usage.values()), "tokens": sum(u.tokens for u in usage.values()),
            "cost_usd": round(sum(u.cost_usd for u in usage.values()), 2),
            "rate_limited": sum(u.rate_limited for u in usage.values()), "per_model": dict(per_model)}


def lower_bound_min(per_model: dict, critical_path_min: float) -> float:
    bounds = [critical_path_min]
    for model, t in per_model.items():
        spec = PROFILE.models[model]
        bounds += [t["calls"] / spec.rpm, t["tokens"] / spec.tpm]
    return max(bounds)


CRITICAL_PATH_MIN = (PROFILE.models[VISION].latency_p95_s + PROFILE.models[EMBED].latency_p95_s
                     + PROFILE.models[VERIFY].latency_p95_s) / 60.0


async def baseline(url: str, pages: dict, tmp: Path) -> dict:
    settings = settings_for(url, tmp / "baseline.sqlite", max_concurrency=16, model_concurrency={},
                            verify_mode="per_pair")
    gate = asyncio.Semaphore(16)  # the fixed pool of 16 workers, stage by stage

    async def pooled(coro):
        async with gate:
            return await coro
    t0 = time.perf_counter()
    async with make_client(settings) as client:
        with Store.open(":memory:") as store:  # no cache
            docs = {}
            for name, role in DOCS.items():  # vision: every page, 16 at a time
                records = await asyncio.gather(*(pooled(read_page(client, VISION, None, p, role)) for p in pages[name]))
                docs[name] = assemble_document(name, role, list(records), model=VISION)
            sides = {}
            for name, doc in docs.items():  # embeddings: one call per item
                fps = [fingerprint(i) for i in doc.items]
                vecs = await asyncio.gather(*(pooled(client.embed(EMBED, [f.text])) for f in fps))
                v = np.array([x[0] for x in vecs], np.float32)
                sides[name] = make_side([i.id for i in doc.items], fps, v, v)
            failed = 0
            for kind in ("bpd", "aa"):  # BPD crosswalk, then AA crosswalk
                s, t = sides[f"source_{kind}"], sides[f"target_{kind}"]
                sets = build_candidate_sets(s, t, score_matrices(s, t), 5)
                verifier = make_verifier(kind, settings, store, client, docs[f"source_{kind}"], docs[f"target_{kind}"])
                verdicts = await verifier.verify(sets)
                failed += sum(v.status == "error" for v in verdicts)
        wall = time.perf_counter() - t0
        out = totals(client)
    return {**out, "wall_min": round(wall * TIME_SCALE / 60, 2), "failed_items": failed,
            "lower_bound_min": round(lower_bound_min(out["per_model"], CRITICAL_PATH_MIN), 2)}


async def ours_conversion(client, settings, pages: dict, store: Store) -> int:
    """One conversion with the pipeline's defaults; returns the number of failed items."""
    embedder = CachedEmbedder(OpenAIEmbedder(client, settings.embedding_model), store)
    docs = {name: asyncio.create_task(read_document(client, VISION, store, name, role, pages[name]))
            for name, role in DOCS.items()}
    metrics = RunMetrics()

    async def crosswalk(kind: str) -> int:
        source, target = await docs[f"source_{kind}"], await docs[f"target_{kind}"]
        sets = await candidate_sets_for(kind, source, target, settings, embedder, metrics)
        verifier = make_verifier(kind, settings, store, client, source, target)
        return sum(v.status == "error" for v in await verifier.verify(sets))
    return sum(await asyncio.gather(crosswalk("bpd"), crosswalk("aa")))


async def ours(url: str, pages: dict, store_path: Path) -> dict:
    settings = settings_for(url, store_path)
    t0 = time.perf_counter()
    async with make_client(settings) as client:
        with Store.open(store_path) as store:
            failed = await ours_conversion(client, settings, pages, store)
        wall = time.perf_counter() - t0
        out = totals(client)
    return {**out, "wall_min": round(wall * TIME_SCALE / 60, 2), "wall_s": round(wall, 2), "failed_items": failed,
            "lower_bound_min": round(lower_bound_min(out["per_model"], CRITICAL_PATH_MIN), 2)}


async def batch10(url: str, workloads: list[dict], tmp: Path) -> dict:
    settings = settings_for(url, tmp / "batch-0.sqlite")
    t0 = time.perf_counter()
    async with make_client(settings) as client:
        stores = [Store.open(tmp / f"batch-{i}.sqlite") for i in range(len(workloads))]
        try:
            failed = await asyncio.gather(*(ours_conversion(client, settings, w, s) for w, s in zip(workloads, stores)))
        finally:
            for s in stores:
                s.close()
        wall = time.perf_counter() - t0
        out = totals(client)
    return {**out, "wall_min": round(wall * TIME_SCALE / 60, 2), "failed_items": sum(failed),
            "lower_bound_min": round(lower_bound_min(out["per_model"], CRITICAL_PATH_MIN), 2)}


async def main_async(shared: Path) -> dict:
    pages, fixtures = page_workload(shared)
    batch_pages = [page_workload(shared, tag=f"c{i}/") for i in range(10)]
    for _, f in batch_pages:
        fixtures.update(f)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "fixtures.json").write_text(json.dumps(fixtures))
        with FakeAPIProcess("poc", time_scale=TIME_SCALE, vision_fixtures=str(tmp / "fixtures.json"), seed=5) as api:
            # the local model embeds fingerprints nowhere here: embeddings go through the API
            result = {"baseline": await baseline(api.url, pages, tmp)}
            result["ours"] = await ours(api.url, pages, tmp / "ours.sqlite")
            rerun = await ours(api.url, pages, tmp / "ours.sqlite")
            result["cached_rerun"] = {"wall_s": rerun["wall_s"], "calls": rerun["calls"]}
            result["batch10"] = await batch10(api.url, [p for p, _ in batch_pages], tmp)
    return result


def main() -> int:
    args = parse_args(__doc__)
    if corpus_missing(args.shared):
        return 0
    r = asyncio.run(main_async(args.shared))
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    b, o = r["baseline"], r["ours"]
    print(f"whole conversion, simulated API profile 'poc' (x{TIME_SCALE:g}); simulated minutes")
    print(f"{'':14} {'wall min':>8} {'bound min':>9} {'calls':>6} {'tokens':>10} {'cost $':>7} {'429s':>5} {'failed':>6}")
    for name in ("baseline", "ours", "batch10"):
        x = r[name]
        print(f"{name:14} {x['wall_min']:>8.2f} {x['lower_bound_min']:>9.2f} {x['calls']:>6} {x['tokens']:>10,} "
              f"{x['cost_usd']:>7.2f} {x['rate_limited']:>5} {x['failed_items']:>6}")
    print(f"ours: {o['wall_min'] / b['wall_min']:.0%} of the baseline's time, {o['tokens'] / b['tokens']:.0%} of its "
          f"tokens, {o['cost_usd'] / b['cost_usd']:.0%} of its cost; wall/bound {o['wall_min'] / o['lower_bound_min']:.2f}")
    print(f"cached rerun: {r['cached_rerun']['wall_s']:.2f} real seconds, {r['cached_rerun']['calls']} calls")
    print(f"batch10: wall/bound {r['batch10']['wall_min'] / r['batch10']['lower_bound_min']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
