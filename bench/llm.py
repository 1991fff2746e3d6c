"""The verification stage alone on the simulated API (`poc` profile): per pair vs per source vs two-stage.

    python bench/llm.py [--shared ../shared] [--json]

Runs the BPD crosswalk's verification of the shared corpus (565 source provisions;
without ../shared, the bundled examples repeated to a similar size) against the
simulated API with the design document's latencies and a mid-tier account's limits,
time-scaled. For each mode it prints calls, tokens and cost at the default price
table, simulated wall time, the lower bound set by RPM/TPM for the work actually
sent (and the longest single call), and — where gold labels exist — dev F1.

- per_pair: the earlier design: top-5 candidates, each pair in its own call, 16 workers;
- per_source: one call per source item with its top 8 candidates (instructions first);
- two_stage: the local verifier settles clear cases, only the uncertain band is sent.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, parse_args, window_bound_min  # noqa: E402  (sets up the path and offline mode)

from crosswalk.embed import make_embedder  # noqa: E402
from crosswalk.evaluate import load_gold, score  # noqa: E402
from crosswalk.extract import load_document  # noqa: E402
from crosswalk.llm.fake_api import PROFILES, FakeAPIProcess  # noqa: E402
from crosswalk.llm.provider import make_client  # noqa: E402
from crosswalk.metrics import RunMetrics  # noqa: E402
from crosswalk.pipeline import candidate_sets_for, make_verifier  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402
from crosswalk.store import Store  # noqa: E402

PROFILE = PROFILES["poc"]
TIME_SCALE = 30.0  # one simulated minute per 2 real seconds: CPU noise stays small against the window
MODEL = "gpt-4.1"


def documents(shared: Path):
    corpus = shared / "corpus" / "relius-to-ascensus"
    if (corpus / "source_bpd.json").exists():
        gold_path = shared / "gold" / "bpd_dev.jsonl"
        return (load_document(corpus / "source_bpd.json"), load_document(corpus / "target_bpd.json"),
                gold_path, load_gold(gold_path))
    # no shared corpus: the bundled examples, repeated 12 times with fresh ids
    src, tgt = load_document(ROOT / "examples" / "source_bpd.json"), load_document(ROOT / "examples" / "target_bpd.json")
    def repeat(doc):
        items = [p.model_copy(update={"id": f"{p.id}~{n}"}) for n in range(12) for p in doc.provisions]
        return doc.model_copy(update={"provisions": tuple(items)})
    return repeat(src), repeat(tgt), None, None


async def run_mode(mode: str, source, target, gold_path: Path | None, gold, store_path: Path, sets) -> dict:
    overrides = {"verifier": "llm", "verify_mode": mode, "llm_model": MODEL, "store_path": store_path,
                 "rate_limit_period_s": 60.0 / TIME_SCALE, "max_concurrency": 16 if mode == "per_pair" else None}
    settings = load_settings(overrides, env={})
    with FakeAPIProcess("poc", time_scale=TIME_SCALE, oracle=str(gold_path) if gold_path else None,
                        oracle_error_rate=0.05, seed=11) as api:
        settings = settings.model_copy(update={"llm_base_url": api.url})
        with Store.open(store_path) as store:
            async with make_client(settings) as client:
                verifier = make_verifier("bpd", settings, store, client, source, target)
                t0 = time.perf_counter()
                verdicts = await verifier.verify(sets)
                wall = time.perf_counter() - t0
                usage = client.usage.get("bpd:verification")
        spec = PROFILE.models[MODEL]
        sim_min = lambda real_s: real_s * TIME_SCALE / 60.0
        bound_min = max(window_bound_min(usage.calls, spec.rpm, spec.latency_mean_s),
                        window_bound_min(usage.tokens, spec.tpm, spec.latency_mean_s), spec.latency_p95_s / 60.0)
        row = {"mode": mode, "calls": usage.calls, "tokens": usage.tokens, "cost_usd": round(usage.cost_usd, 3),
               "rate_limited": usage.rate_limited, "wall_min": round(sim_min(wall), 2),
               "lower_bound_min": round(bound_min, 2), "ratio": round(sim_min(wall) / bound_min, 2),
               "sources_sent": getattr(verifier.stats, "sent_to_llm", 0),
               "settled_locally": getattr(verifier.stats, "settled_locally", 0),
               "errors": sum(v.status == "error" for v in verdicts)}
        if gold:
            row["dev_f1"] = round(score({v.source_id: v.target_id for v in verdicts}, gold).f1, 3)
        return row


async def main_async(shared: Path) -> list[dict]:
    source, target, gold_path, gold = documents(shared)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"store_path": Path(tmp) / "embed.sqlite"}, env={})
        with Store.open(settings.store_path) as store:
            sets = await candidate_sets_for("bpd", source, target, settings, make_embedder(settings, store), RunMetrics())
        rows = []
        for mode in ("per_pair", "per_source", "two_stage"):
            rows.append(await run_mode(mode, source, target, gold_path, gold, Path(tmp) / f"{mode}.sqlite", sets))
    return rows


def main() -> int:
    args = parse_args(__doc__)  # without the corpus it runs on the bundled examples
    rows = asyncio.run(main_async(args.shared))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    base = rows[0]
    print(f"verification stage, BPD, simulated API profile 'poc' (time scale x{TIME_SCALE:g}), model {MODEL}")
    head = f"{'mode':11} {'calls':>6} {'tokens':>10} {'cost $':>7} {'429s':>5} {'wall min':>8} {'bound min':>9} {'wall/bound':>10} {'sent':>5} {'local':>5} {'dev F1':>6}"
    print(head)
    for r in rows:
        print(f"{r['mode']:11} {r['calls']:>6} {r['tokens']:>10,} {r['cost_usd']:>7.2f} {r['rate_limited']:>5} "
              f"{r['wall_min']:>8.2f} {r['lower_bound_min']:>9.2f} {r['ratio']:>10.2f} {r['sources_sent']:>5} "
              f"{r['settled_locally']:>5} {r.get('dev_f1', float('nan')):>6.3f}")
    for r in rows[1:]:
        print(f"{r['mode']}: {r['calls'] / base['calls']:.0%} of the calls, {r['tokens'] / base['tokens']:.0%} of the tokens, "
              f"{r['cost_usd'] / max(base['cost_usd'], 1e-9):.0%} of the cost of per_pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
