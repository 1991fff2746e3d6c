"""A fleet of generated plans: what the first plan costs, what each further plan costs, and what binds.

    python bench/fleet.py [--plans 50] [--scanned-share 0.1] [--json]     (crosswalk bench fleet --plans 50)

From the corpus source AA (the Relius template, rendered blank as the fleet's source AA) it
generates N filled AAs for fictional employers (random valid answers, rendered as PDFs; every
1/share-th one scanned: no text layer) and runs `crosswalk.fleet.run_fleet` on the corpus
vendor pair (Relius -> Ascensus) five ways, every figure measured in this run:

1. first plan: a fresh store, the embedded default, one text plan in this process: the shared
   work cold (both crosswalks) plus one plan;
2. one Dask worker, the text plans, the store now warm: marginal time per plan;
3. two Dask workers, the same plans: the speed-up (the 2-core machine's whole CPU);
4. two Dask workers, a worker killed (SIGKILL) after the first plan is written: plans lost;
5. the LLM verifier on the simulator (`poc` profile, time-scaled 60x; a fresh copy of the warm
   store, so the verdicts are paid for): the first plan's cost (the shared work) and the
   marginal cost per plan;
6. the scanned plans with `vision = true` on the simulator in real time (time scale 1: the
   vision model's ~53 s replies, 5,000 RPM and 2,000,000 TPM), two workers: the fleet's wall
   time against the rate-limit bound for its pages (the window bound with the mean reply, and
   with the longest reply this run drew, as in bench/client.py), and the 429s it drew;
7. one scanned plan on the embedded default (Tesseract OCR, no API), in this process.
For 2, 6 and 7 it also prints the share of the generated answers that reached the plans' outputs
(`answers_landed_*`: read from the plan, then put on a template question).
Figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import corpus_missing, parse_args  # noqa: E402  (sets up the path and offline mode)

from crosswalk.examples.make_pdfs import aa_pdf  # noqa: E402
from crosswalk.examples.make_plans import answers_given, blank_template, make_plans, vision_fixtures  # noqa: E402
from crosswalk.extract import load_document  # noqa: E402
from crosswalk.fleet import run_fleet  # noqa: E402
from crosswalk.fleet.manifest import FleetManifest, list_plans  # noqa: E402
from crosswalk.testing.fake_api import PROFILES, FakeAPIProcess  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402

VISION = PROFILES["poc"].models["gpt-5-nano"]
VISION_TOKENS_PER_PAGE = 1200 + 4000  # what the simulator counts per page: the image, plus max_tokens


def window_bound_s(amount: float, per_minute: float, latency_s: float) -> float:
    windows = max(1, -(-int(amount) // int(per_minute)))
    return (windows - 1) * 60.0 + latency_s


def manifest(corpus: Path, blank: Path, plans: list[Path], where: Path, vision: bool = False,
             settings: dict | None = None) -> FleetManifest:
    documents = {"source_bpd": corpus / "source_bpd.json", "target_bpd": corpus / "target_bpd.json",
                 "source_aa": blank, "target_aa": corpus / "target_aa.json"}
    return FleetManifest(documents, list_plans(plans, where), settings or {}, vision)


def fleet(spec: FleetManifest, settings: dict, out: Path, **kw):
    return asyncio.run(run_fleet(spec, load_settings(settings), out, **kw))


def killed_fleet(spec: FleetManifest, settings: dict, out: Path) -> tuple[int, int]:
    """(plans lost, plans finished) with two workers, one killed after the first plan is written."""
    import distributed

    async def go():
        async with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, asynchronous=True,
                                            host="127.0.0.1", dashboard_address=None, silence_logs=40) as cluster:
            async with distributed.Client(cluster, asynchronous=True) as client:
                pids = list((await client.run(os.getpid)).values())
            killed = []

            def on_progress(event):
                if event["event"] == "plan" and not killed:
                    victim = next(p for p in pids if f"pid {p}" != event.get("worker"))
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
            return await run_fleet(spec, load_settings(settings), out, scheduler=cluster.scheduler_address,
                                   on_progress=on_progress)
    result = asyncio.run(go())
    finished = sum(r["status"] == "finished" for r in result.rows)
    return len(spec.plans) - finished, finished


def landed_share(rows: list[dict], work: Path) -> float | None:
    """Answers that reached the plans' outputs (read from the plan and put on a template question),
    over the answers the generator filled in: what an analyst gets without retyping."""
    given = sum(answers_given(json.loads((work / f".{r['plan']}.answers.json").read_text())) for r in rows)
    landed = sum(int(r["answered"]) - int(r["unlinked_answers"]) for r in rows if r["status"] != "failed")
    return round(landed / given, 3) if given else None


def main() -> int:
    args = parse_args(__doc__, ("--plans", {"type": int, "default": 50}),
                      ("--scanned-share", {"type": float, "default": 0.1}))
    if corpus_missing(args.shared):
        return 0
    corpus = args.shared / "corpus" / "relius-to-ascensus"
    work = Path(tempfile.mkdtemp(prefix="crosswalk-bench-fleet-"))
    os.environ["CW_BENCH_FLEET_KEY"] = "simulated"
    try:
        return run(args, corpus, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, corpus: Path, work: Path) -> int:
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    template = load_document(corpus / "source_aa.json")
    blank = work / "relius_aa_blank.pdf"
    aa_pdf(blank_template(template), blank)
    t0 = time.perf_counter()
    paths = make_plans(template, args.plans, work / "plans", scanned_share=args.scanned_share, seed=0)
    text_plans = [p for p in paths if not (work / f".{p.stem}.text.pdf").exists()]
    scanned = [p for p in paths if p not in text_plans]
    log(f"generated {len(paths)} plans ({len(scanned)} scanned) in {time.perf_counter() - t0:.1f} s")
    store = work / "store.sqlite"
    base = {"store_path": store}
    figures: dict = {"plans": len(paths), "text_plans": len(text_plans), "scanned_plans": len(scanned)}

    first = fleet(manifest(corpus, blank, text_plans[:1], work), base, work / "out-first")
    figures["first_plan_s"] = round(first.shared_s + first.plans_s, 2)
    figures["first_plan_shared_s"] = round(first.shared_s, 2)
    log(f"1. first plan: {figures['first_plan_s']} s (shared work {first.shared_s:.1f} s)")

    spec = manifest(corpus, blank, text_plans, work)
    one = fleet(spec, base, work / "out-1", workers=1)
    two = fleet(spec, base, work / "out-2", workers=2)
    failed = one.failed + two.failed
    per_plan = [r["seconds"] for r in one.rows if r["status"] == "finished"]
    figures.update(
        marginal_plan_s=round(one.plans_s / len(text_plans), 3),
        plan_work_median_s=round(statistics.median(per_plan), 3) if per_plan else None,
        plan_work_max_s=round(max(per_plan), 3) if per_plan else None,
        warm_shared_s=round(one.shared_s, 2),
        plans_per_hour_1_worker=round(len(text_plans) / one.plans_s * 3600),
        plans_per_hour_2_workers=round(len(text_plans) / two.plans_s * 3600),
        speedup_2_workers=round(one.plans_s / two.plans_s, 2),
        marginal_plan_cost_usd_embedded=round(one.cost_usd, 4),
        answers_landed_text=landed_share(one.rows, work),
        plan_output_mb=round(sum(f.stat().st_size for f in (work / "out-1").rglob("*") if f.is_file())
                             / len(text_plans) / 1e6, 2),
    )
    log(f"2-3. {len(text_plans)} text plans: 1 worker {one.plans_s:.1f} s, 2 workers {two.plans_s:.1f} s "
        f"(x{figures['speedup_2_workers']}); per plan median {figures['plan_work_median_s']} s")

    lost, _ = killed_fleet(manifest(corpus, blank, text_plans[:10], work), base, work / "out-kill")
    figures["lost_plans_after_worker_kill"] = lost
    log(f"4. worker killed mid-fleet: {lost} plans lost")

    llm_store = work / "store-llm.sqlite"
    shutil.copy(store, llm_store)
    sample = text_plans[:10]
    with FakeAPIProcess("poc") as api:
        llm = fleet(manifest(corpus, blank, sample, work), {"store_path": llm_store, "verifier": "llm",
                                                            "llm_base_url": api.url,
                                                            "api_key_env": "CW_BENCH_FLEET_KEY"}, work / "out-llm")
    figures.update(first_plan_cost_usd=round(llm.shared_cost_usd, 4),
                   marginal_plan_cost_usd=round((llm.cost_usd - llm.shared_cost_usd) / len(sample), 5),
                   marginal_plan_api_calls=round((llm.api_calls - llm.shared_api_calls) / len(sample), 2),
                   marginal_plan_tokens=round((llm.tokens - llm.shared_tokens) / len(sample), 1),
                   first_plan_api_calls=llm.shared_api_calls)
    failed += llm.failed
    log(f"5. LLM verifier: shared work ${llm.shared_cost_usd:.2f}, marginal ${figures['marginal_plan_cost_usd']}/plan")

    if scanned:
        fixtures = {}
        for p in scanned:
            fixtures.update(vision_fixtures(p, work / f".{p.stem}.text.pdf"))
        (work / "fixtures.json").write_text(json.dumps(fixtures))
        with FakeAPIProcess("poc", time_scale=1.0, vision_fixtures=str(work / "fixtures.json")) as api:
            vision = fleet(manifest(corpus, blank, scanned, work, vision=True),
                           {**base, "llm_base_url": api.url, "api_key_env": "CW_BENCH_FLEET_KEY"},
                           work / "out-scanned", workers=2)
        failed += vision.failed
        pages_tokens = vision.vision_pages * VISION_TOKENS_PER_PAGE
        bound = max(window_bound_s(vision.vision_pages, VISION.rpm, VISION.latency_mean_s),
                    window_bound_s(pages_tokens, VISION.tpm, VISION.latency_mean_s))
        longest = max(window_bound_s(vision.vision_pages, VISION.rpm, vision.vision_longest_s),
                      window_bound_s(pages_tokens, VISION.tpm, vision.vision_longest_s))
        figures.update(scanned_pages=vision.vision_pages, scanned_rate_limited=vision.rate_limited,
                       scanned_wall_s=round(vision.plans_s, 1),
                       scanned_bound_mean_s=round(bound, 1), scanned_bound_longest_s=round(longest, 1),
                       scanned_wall_over_bound=round(vision.plans_s / longest, 3),
                       scanned_wall_over_mean_bound=round(vision.plans_s / bound, 3),
                       pages_per_scanned_plan=round(vision.vision_pages / len(scanned), 1),
                       answers_landed_vision=landed_share(vision.rows, work),
                       vision_cost_per_scanned_plan_usd=round(vision.cost_usd / len(scanned), 4))
        log(f"6. {len(scanned)} scanned plans, {vision.vision_pages} pages: {vision.plans_s:.1f} s, bound "
            f"{bound:.1f} s (mean reply) / {longest:.1f} s (longest reply)")
        ocr = fleet(manifest(corpus, blank, scanned[:1], work), base, work / "out-ocr")
        failed += ocr.failed
        figures["ocr_plan_s"] = round(ocr.plans_s, 1)
        figures["answers_landed_ocr"] = landed_share(ocr.rows, work)
        log(f"7. one scanned plan on the embedded default (Tesseract OCR, no API): {ocr.plans_s:.1f} s")
    figures["failed"] = len(failed)
    figures["failures"] = [f"{r['plan']}: {r['reason']}" for r in failed][:5]
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:34} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
