"""The whole conversion on the simulated API: the earlier design against ours.

    python bench/pipeline.py [--shared ../shared] [--json] [--scanned] [--only RUNS] [--ours-scale S]

Workload: the shared corpus's four documents (98 + 81 + 45 + 104 = 328 pages), embedded
through the embeddings API, matched, and verified by gpt-4.1, on the `poc` profile (the
design document's latencies and a mid-tier account's limits), time-scaled. Figures are
simulated minutes; `cached_rerun` is real seconds.

- baseline: the earlier design: every page read by the vision model (the simulator
  answers each page with the records the earlier vision run extracted from it), then
  steps one after another (vision, embeddings, BPD verification, AA verification), a
  fixed pool of 16 workers per stage, one embedding call per item, top-5 candidates
  each verified in its own call, no cache;
- ours: run_conversion with the pipeline's defaults on the same documents as PDFs (the corpus rendered by
  bench/render.py): pages read from their text layer on this machine, both crosswalks
  at once, each starting as soon as its two documents are read, batched embeddings,
  two-stage verification with one call per source item, streamed in chunks of source
  items as their candidates are ready, everything cached;
- ours_scanned (--scanned): ours with every page read by the vision model instead, as
  for scanned documents;
- lower_bound: for the work a run sent, max(critical path, the least time its tokens and
  requests take under each model's one-minute sliding TPM/RPM windows) (`window_bound_min`);
  for ours also the local critical path (the same conversion with no verification call: reading,
  embedding, scoring, features, steps 3-4) and max(API bound, local path), with the ratio to each;
- cached_rerun: ours again on the warm store;
- batch10: ten conversions at once on one client (one rate-limit budget), their own stores.

Time scales: a simulator at scale s shrinks API waits by s, but every real second of
*local* work (PDF parsing, scoring, features) still takes a real second and reads as s
simulated seconds. The baseline, which has almost no local work, runs at 30x; ours runs at
1x (real time: its local work counts at its true duration; --ours-scale changes it); batch10
runs at 6x (a quarter of an hour at 1x), which overstates its local work six times.

    python bench/pipeline.py --only ours          # just ours and its cached rerun (~2 min)
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

from common import corpus_missing, parse_args, window_bound_min  # noqa: E402  (sets up the path and offline mode)

import numpy as np  # noqa: E402

from crosswalk.candidates import make_side, score_matrices  # noqa: E402
from crosswalk.extract.vision import PageImage, assemble_document, read_document, read_page  # noqa: E402
from crosswalk.classify import topic  # noqa: E402
from crosswalk.fingerprint import fingerprint, forget_remembered  # noqa: E402
from crosswalk.testing.fake_api import PROFILES, FakeAPIProcess  # noqa: E402
from crosswalk.llm.provider import make_client  # noqa: E402
from crosswalk.pipeline import Conversion, make_verifier, run_conversion  # noqa: E402
from crosswalk.runner import open_conversion  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402
from crosswalk.store import Store  # noqa: E402
from crosswalk.verify.features import build_candidate_sets  # noqa: E402
from render import render_aa, render_bpd  # noqa: E402

TIME_SCALE = 30.0   # the baseline's simulator
OURS_SCALE = 1.0    # ours and its cached rerun: real time (local work counts at its true duration)
BATCH_SCALE = 6.0   # batch10 (fifteen simulated minutes; local work counts six times over: see above)
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
        bounds += [window_bound_min(t["calls"], spec.rpm, spec.latency_mean_s),
                   window_bound_min(t["tokens"], spec.tpm, spec.latency_mean_s)]
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


def render_pdfs(shared: Path, out: Path) -> dict[str, Path]:
    """The corpus documents as PDFs (made before the clock starts: they are the conversion's input)."""
    corpus = shared / "corpus" / "relius-to-ascensus"
    pdfs = {}
    for name, role in DOCS.items():
        data = json.loads((corpus / f"{name}.json").read_text())
        pdfs[name] = out / f"{name}.pdf"
        (render_bpd(data, pdfs[name], "single") if role == "bpd" else render_aa(data, pdfs[name], "glyphs"))
    return pdfs


def from_pdfs(pdfs: dict[str, Path], store: Store, reading: asyncio.Lock | None = None) -> Conversion:
    """The documents read from their text layer on this machine, as `crosswalk run` reads them."""
    return open_conversion(pdfs, None, store, reading)


def from_vision(client, pages: dict, store: Store) -> Conversion:
    """Every page read by the vision model (scanned documents)."""
    return Conversion(**{name: asyncio.ensure_future(read_document(client, VISION, store, name, DOCS[name], pages[name]))
                         for name in DOCS})


async def ours_conversion(client, settings, conversion: Conversion, store: Store) -> int:
    """One conversion with the pipeline's defaults (`run_conversion`); returns the number of failed items."""
    result = await run_conversion(conversion, settings, store, client)
    return sum(m.status == "error" for r in result.results.values() for m in r.crosswalk.mappings)


def finish(client, wall: float, scale: float, failed: int, critical_path_min: float) -> dict:
    out = totals(client)
    return {**out, "wall_min": round(wall * scale / 60, 2), "wall_s": round(wall, 2), "failed_items": failed,
            "lower_bound_min": round(lower_bound_min(out["per_model"], critical_path_min), 2)}


# ours from text-layer PDFs: no vision call on the critical path
OURS_CRITICAL_PATH_MIN = (PROFILE.models[EMBED].latency_p95_s + PROFILE.models[VERIFY].latency_p95_s) / 60.0


async def ours(url: str, make_conversion, store_path: Path, critical_path_min: float, scale: float,
               **extra) -> dict:
    settings = settings_for(url, store_path, rate_limit_period_s=60.0 / scale, **extra)
    t0 = time.perf_counter()
    async with make_client(settings) as client:
        with Store.open(store_path) as store:
            failed = await ours_conversion(client, settings, make_conversion(client, store), store)
        return finish(client, time.perf_counter() - t0, scale, failed, critical_path_min)


async def batch10(url: str, pdf_sets: list[dict], tmp: Path) -> dict:
    settings = settings_for(url, tmp / "batch-0.sqlite", rate_limit_period_s=60.0 / BATCH_SCALE)
    t0 = time.perf_counter()
    async with make_client(settings) as client:
        stores = [Store.open(tmp / f"batch-{i}.sqlite") for i in range(len(pdf_sets))]
        reading = asyncio.Lock()  # one reader for the batch, as `crosswalk batch` has
        try:
            failed = await asyncio.gather(*(ours_conversion(client, settings, from_pdfs(p, s, reading), s)
                                            for p, s in zip(pdf_sets, stores)))
        finally:
            for s in stores:
                s.close()
        return finish(client, time.perf_counter() - t0, BATCH_SCALE, sum(failed), OURS_CRITICAL_PATH_MIN)


async def main_async(shared: Path, scanned: bool, runs: set[str], ours_scale: float) -> dict:
    pages, fixtures = page_workload(shared)
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pdfs = render_pdfs(shared, tmp)
        (tmp / "fixtures.json").write_text(json.dumps(fixtures))
        api_at = lambda scale: FakeAPIProcess("poc", time_scale=scale, vision_fixtures=str(tmp / "fixtures.json"), seed=5)
        if "baseline" in runs:
            with api_at(TIME_SCALE) as api:
                result["baseline"] = await baseline(api.url, pages, tmp)
        if "ours" in runs:
            with api_at(ours_scale) as api:
                result["ours"] = await ours(api.url, lambda c, s: from_pdfs(pdfs, s), tmp / "ours.sqlite",
                                            OURS_CRITICAL_PATH_MIN, ours_scale)
                forget_in_process_caches()  # a rerun is a new process: only the store is warm
                rerun = await ours(api.url, lambda c, s: from_pdfs(pdfs, s), tmp / "ours.sqlite",
                                   OURS_CRITICAL_PATH_MIN, ours_scale)
                result["cached_rerun"] = {"wall_s": rerun["wall_s"], "calls": rerun["calls"]}
                # the local critical path: the same conversion with no verification call (reading,
                # embedding, scoring, features, steps 3-4), on a fresh store
                forget_in_process_caches()
                local = await ours(api.url, lambda c, s: from_pdfs(pdfs, s), tmp / "local.sqlite",
                                   OURS_CRITICAL_PATH_MIN, ours_scale, verifier="local")
                api_bound = result["ours"]["lower_bound_min"]
                result["ours"].update(local_path_min=local["wall_min"],
                                      bound_with_local_min=round(max(api_bound, local["wall_min"]), 2))
                if scanned:
                    result["ours_scanned"] = await ours(api.url, lambda c, s: from_vision(c, pages, s),
                                                        tmp / "scanned.sqlite", CRITICAL_PATH_MIN, ours_scale)
        if "batch10" in runs:
            # ten conversions of ten plans: the same documents under other names, so nothing is shared
            batch_sets = []
            for i in range(10):
                (tmp / f"c{i}").mkdir()
                batch_sets.append({n: _copy_with_marker(p, tmp / f"c{i}" / p.name, i) for n, p in pdfs.items()})
            with api_at(BATCH_SCALE) as api:
                result["batch10"] = await batch10(api.url, batch_sets, tmp)
    return result


def forget_in_process_caches() -> None:
    forget_remembered()
    topic.cache_clear()


def _copy_with_marker(src: Path, dst: Path, i: int) -> Path:
    """A copy with other bytes (a trailing comment, which PDF readers ignore), so its extraction is its own."""
    dst.write_bytes(src.read_bytes() + f"\n% plan {i}\n".encode())
    return dst


def main() -> int:
    args = parse_args(__doc__, ("--scanned", {"action": "store_true", "help": "also run ours with every page read by the vision model"}),
                      ("--only", {"default": "baseline,ours,batch10", "help": "comma-separated runs (baseline, ours, batch10)"}),
                      ("--ours-scale", {"type": float, "default": OURS_SCALE, "help": "time scale of ours and its rerun"}))
    if corpus_missing(args.shared):
        return 0
    runs = {r.strip() for r in args.only.split(",") if r.strip()}
    r = asyncio.run(main_async(args.shared, args.scanned, runs, args.ours_scale))
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"whole conversion, simulated API profile 'poc' (time scale: baseline x{TIME_SCALE:g}, ours x{args.ours_scale:g}, "
          f"batch10 x{BATCH_SCALE:g}); simulated minutes")
    print(f"{'':14} {'wall min':>8} {'bound min':>9} {'wall/bound':>10} {'calls':>6} {'tokens':>10} {'cost $':>7} {'429s':>5} {'failed':>6}")
    for name in ("baseline", "ours", "batch10", "ours_scanned"):
        if name not in r:
            continue
        x = r[name]
        print(f"{name:14} {x['wall_min']:>8.2f} {x['lower_bound_min']:>9.2f} {x['wall_min'] / x['lower_bound_min']:>10.2f} "
              f"{x['calls']:>6} {x['tokens']:>10,} {x['cost_usd']:>7.2f} {x['rate_limited']:>5} {x['failed_items']:>6}")
    if "baseline" in r and "ours" in r:
        b, o = r["baseline"], r["ours"]
        print(f"ours: {o['wall_min'] / b['wall_min']:.0%} of the baseline's time, {o['tokens'] / b['tokens']:.0%} of its "
              f"tokens, {o['cost_usd'] / b['cost_usd']:.0%} of its cost")
    if "ours" in r and "local_path_min" in r["ours"]:
        o = r["ours"]
        print(f"ours against its bounds: API windows {o['lower_bound_min']:.2f} min (x{o['wall_min'] / o['lower_bound_min']:.2f}); "
              f"local critical path {o['local_path_min']:.2f} min; max of the two {o['bound_with_local_min']:.2f} min "
              f"(x{o['wall_min'] / o['bound_with_local_min']:.2f})")
    if "cached_rerun" in r:
        print(f"cached rerun: {r['cached_rerun']['wall_s']:.2f} real seconds, {r['cached_rerun']['calls']} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
