"""Matching quality on the shared corpus (dev split), validated by position: blocked cross-validation.

    python bench/quality.py [--shared ../shared] [--gold F ...] [--retrain] [--json]

For the BPD and AA crosswalks it prints:
- candidate recall@{1,5,10,20};
- the local verifier under **blocked** cross-validation (5 contiguous blocks of labelled source
  items in document order, each predicted by a model fitted, calibrated and thresholded on the
  other four; then "fit on the first half, score the second half"): pooled precision, recall, F1
  and none-accuracy, F1 per block (median and worst) and the half fold;
- the untrained baseline (the fused candidate score, top-1, one threshold chosen on the training
  blocks) on the same blocks, and the difference;
- the reliability table (the best candidate's calibrated p, out of block → how often it was right);
- the threshold trade-off and the two-stage settle table (items settled locally and how many of
  them are wrong, out of block, per band; the items left are LLM calls);
- the shipped model on the given labels as `crosswalk run` decides them (threshold, two-stage bands):
  in-sample on the labels it was fitted on, the figure to expect on any others;
- cold and warm matching time for the whole corpus.
`--retrain` refits the shipped models on all the given labels (calibration, threshold, bands and the
strong-evidence floor from blocked out-of-fold predictions) and writes them to src/crosswalk/data/;
`--gold F` (once per kind, or one file with both; the kind follows from the ids, as `--gold-bpd`/
`--gold-aa` say outright) takes other labels in the shared gold's format, a user's own or held-out
ones; a kind not given is measured on the shared dev labels.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ROOT, corpus_missing, gold_by_kind, parse_args  # noqa: E402  (sets up the path and offline mode)

from crosswalk.embed import make_embedder  # noqa: E402
from crosswalk.evaluate import load_gold, recall_at_k  # noqa: E402
from crosswalk.extract import load_document  # noqa: E402
from crosswalk.metrics import RunMetrics  # noqa: E402
from crosswalk.pipeline import candidate_sets_for  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402
from crosswalk.store import Store  # noqa: E402
from crosswalk.verify import train  # noqa: E402
from crosswalk.verify.features import distinct_order  # noqa: E402
from crosswalk.verify.local import load_model  # noqa: E402

FILES = {"bpd": ("source_bpd.json", "target_bpd.json", "bpd_dev.jsonl"),
         "aa": ("source_aa.json", "target_aa.json", "aa_dev.jsonl")}
DATA = ROOT / "src" / "crosswalk" / "data"
CURVE = [round(0.2 + 0.05 * i, 2) for i in range(14)]
BANDS = [(0.0, 1.01), (0.05, 0.95), (0.1, 0.9), (0.15, 0.85), (0.2, 0.8)]  # (0.15, 0.85): the old default


async def candidate_sets(shared: Path, store: Store, settings) -> tuple[dict, float]:
    corpus = shared / "corpus" / "relius-to-ascensus"
    embedder = make_embedder(settings, store)
    metrics = RunMetrics()
    t0 = time.perf_counter()
    docs = {kind: (load_document(corpus / s), load_document(corpus / t)) for kind, (s, t, _) in FILES.items()}
    results = await asyncio.gather(*(candidate_sets_for(k, s, t, settings, embedder, metrics) for k, (s, t) in docs.items()))
    return dict(zip(docs, results)), time.perf_counter() - t0


def evaluate_kind(kind: str, sets: list, gold: dict, retrain: bool, labels: str) -> dict:
    cands = {cs.source_id: cs.target_ids for cs in sets}
    row: dict = {f"recall@{k}": round(recall_at_k(cands, gold, k), 3) for k in (1, 5, 10, 20)}
    baseline_cv = train.blocked_cross_validate(sets, gold, train.baseline_fitter)
    by_set = {name: train.blocked_cross_validate(sets, gold, train.verifier_fitter(features))
              for name, features in train.FEATURE_SETS.items()}
    row["feature_sets"] = {name: cv.as_dict() for name, cv in by_set.items()}
    labelled = train.labelled_sets(sets, gold)
    if retrain:
        # the worst case decides: the lower of the pooled and the half-fold F1 (the half fold is the
        # nearest thing here to "the next region"); ties go to the first declared set
        chosen = max(by_set, key=lambda name: round(min(by_set[name].pooled.f1, by_set[name].half.f1), 3))
        write_model(kind, labelled, gold, chosen, by_set[chosen], labels)
    model = load_model(kind)
    model_cv = by_set[model.meta.get("feature_set", "all")]
    row["verifier"], row["baseline"] = model_cv.as_dict(), baseline_cv.as_dict()
    row["gain_f1"] = round(model_cv.pooled.f1 - baseline_cv.pooled.f1, 3)
    row["blocks_at_or_above_baseline"] = sum(m.f1 >= b.f1 - 1e-9 for m, b in zip(model_cv.per_block, baseline_cv.per_block))
    strong = model.meta.get("strong_fused", train.strong_fused_floor(labelled, gold))
    probs = model_cv.probabilities  # out of block, calibrated as each fold's model gives them
    row["reliability"] = train.reliability_table(labelled, probs, gold)
    row["threshold_curve"] = train.threshold_curve(labelled, probs, gold, CURVE)
    row["shown_to_llm"] = shown_coverage(labelled, probs, gold)
    shipped = tuple(model.meta.get("bands", (0.0, 1.01)))
    row["settle"] = train.settle_table(labelled, probs, gold, strong, [shipped] + [b for b in BANDS if b != shipped])
    row["shipped_on_labels"] = shipped_on_labels(model, labelled, gold, labels)
    row["shipped"] = {"feature_set": model.meta.get("feature_set"), "threshold": model.meta.get("threshold"),
                      "bands": shipped, "strong_fused": strong,
                      "weights": {n: round(float(w), 3) for n, w in zip(model.features, model.coef) if w > 0}}
    return row


def shown_coverage(labelled: list, probs: dict, gold: dict) -> dict:
    """Of the items with a counterpart, the share whose right target is among the candidates the LLM
    is shown (out of block): the old fixed 6, the adaptive rule, and all 20; and the mean shown."""
    from crosswalk.settings import load_settings as settings_of
    from crosswalk.verify.llm import candidates_shown

    limit = settings_of({}, env={}).llm_max_candidates
    rows = {}
    for name, count in (("fixed_6", lambda p: min(6, len(p))), ("adaptive", lambda p: candidates_shown(p, limit)),
                        ("all_20", len)):
        hits, sizes = [], []
        for cs in labelled:
            if not gold[cs.source_id].targets:
                continue
            order = distinct_order(cs, np.argsort(-probs[cs.source_id]))[:count(probs[cs.source_id])]
            sizes.append(len(order))
            hits.append(any(cs.target_ids[j] in gold[cs.source_id].targets for j in order))
        rows[name] = {"coverage": round(float(np.mean(hits)), 3), "mean_shown": round(float(np.mean(sizes)), 1)}
    return rows


def shipped_on_labels(model, labelled: list, gold: dict, labels: str) -> dict:
    """The shipped model as `crosswalk run` decides with it (its threshold; its two-stage bands and
    strong-evidence floor): in-sample on the labels it was fitted on, out of sample on any others
    (held-out labels, a user's own pair)."""
    probs = {cs.source_id: model.probability(cs.features) for cs in labelled}
    s = train.scores_at(labelled, probs, gold, model.meta.get("threshold", 0.5))
    bands = tuple(model.meta.get("bands", (0.0, 1.01)))
    settle = train.settle_table(labelled, probs, gold, model.meta.get("strong_fused", 1.0), [bands])[0]
    return {"labels": labels, "in_sample": model.meta.get("trained_on") == labels, "items": len(labelled),
            **{k: round(v, 3) for k, v in s.as_dict().items() if k in ("precision", "recall", "f1", "none_accuracy")},
            "settled": settle["settled"], "settled_wrong": settle["settled_wrong"],
            "settled_wrong_share": settle["wrong_share_of_items"]}


def write_model(kind: str, labelled: list, gold: dict, feature_set: str, cv: train.BlockedReport,
                labels: str) -> None:
    """Fit on all labels with the feature set blocked CV chose; the calibration map from the model's
    blocked out-of-fold predictions; threshold and two-stage bands from the nested blocked-CV
    predictions (each fold's model calibrated on its own training part), the ones the tables show."""
    model, _ = train.fit_calibrated(labelled, gold, train.FEATURE_SETS[feature_set])
    strong = train.strong_fused_floor(labelled, gold)
    meta = {"feature_set": feature_set, "threshold": train.best_threshold(labelled, cv.probabilities, gold),
            "bands": list(train.choose_bands(labelled, cv.probabilities, gold, strong)), "strong_fused": strong,
            "trained_on": labels, "labelled_items": len(labelled),
            "blocked_cv": {k: round(v, 3) for k, v in cv.pooled.as_dict().items()
                           if k in ("precision", "recall", "f1", "none_accuracy")}}
    (DATA / f"verifier_{kind}.json").write_text(json.dumps({**model.to_json(), "meta": meta}, indent=1) + "\n")


def print_report(report: dict) -> None:
    t = report["timing"]
    print(f"matching time, shared corpus: cold {t['cold_s']} s, warm {t['warm_s']} s")
    for kind in FILES:
        r = report[kind]
        print(f"\n{kind.upper()}  candidate recall: " + "  ".join(f"{k} {v}" for k, v in r.items() if k.startswith("recall")))
        print("  blocked CV (5 contiguous blocks, pooled)      P      R     F1  none-acc  F1 per block (median / worst)  half")
        for name in ("verifier", "baseline"):
            s = r[name]
            print(f"  {name:44s} {s['precision']:.3f}  {s['recall']:.3f}  {s['f1']:.3f}  {s['none_accuracy']:.2f}     "
                  f"{' '.join(f'{f:.2f}' for f in s['block_f1'])} ({s['median_block_f1']:.2f} / {s['worst_block_f1']:.2f})"
                  f"  {s['half']['f1']:.3f}")
        o = r["shipped_on_labels"]
        print(f"  {'shipped model as run, ' + ('in-sample' if o['in_sample'] else 'out of sample') + ' on ' + o['labels']:44s} "
              f"{o['precision']:.3f}  {o['recall']:.3f}  {o['f1']:.3f}  {o['none_accuracy']:.2f}     two-stage settles "
              f"{o['settled']} of {o['items']}, {o['settled_wrong']} wrong ({o['settled_wrong_share']:.1%})")
        print(f"  learned minus baseline: F1 {r['gain_f1']:+.3f}; blocks at or above the baseline: "
              f"{r['blocks_at_or_above_baseline']} of 5")
        print("  feature sets (blocked CV, pooled F1 / worst block / half): " + "; ".join(
            f"{n} {c['f1']:.3f} / {c['worst_block_f1']:.2f} / {c['half']['f1']:.3f}" for n, c in r["feature_sets"].items()))
        print("  reliability (best candidate's p, out of block):  band  items  mean p  observed")
        for b in r["reliability"]:
            if b["items"]:
                print(f"    {b['band']:>9}  {b['items']:>5}  {b['mean_p']:.2f}    {b['observed']:.2f}")
        sh = r["shipped"]
        print(f"  shipped: threshold {sh['threshold']}, two-stage bands {sh['bands']}, strong-evidence fused ≥ {sh['strong_fused']}")
        print("  threshold trade-off (out of block):  threshold  P  R  F1  none-acc")
        for c in r["threshold_curve"]:
            print(f"    {c['threshold']:.2f}  {c['precision']:.3f}  {c['recall']:.3f}  {c['f1']:.3f}  {c['none_accuracy']:.2f}")
        print("  shown to the LLM (right target among those shown, items with one; mean shown): " + "; ".join(
            f"{n} {v['coverage']:.3f} ({v['mean_shown']})" for n, v in r["shown_to_llm"].items()))
        print("  two-stage settle table (out of block):  low  high  settled  wrong (share of items)  to LLM")
        for s in r["settle"]:
            print(f"    {s['low']:.2f} {s['high']:.2f}  {s['settled']:>4} of {s['items']}  {s['settled_wrong']:>3} "
                  f"({s['wrong_share_of_items']:.1%})  {s['to_llm']:>4}")


def main() -> int:
    args = parse_args(__doc__, ("--retrain", {"action": "store_true", "help": "refit the shipped models"}),
                      ("--gold", {"type": Path, "action": "append", "help": "labels, either kind (repeatable)"}),
                      ("--gold-bpd", {"type": Path, "help": "BPD labels (default: the shared dev labels)"}),
                      ("--gold-aa", {"type": Path, "help": "AA labels (default: the shared dev labels)"}))
    shared = args.shared
    if corpus_missing(shared):
        return 0
    corpus = shared / "corpus" / "relius-to-ascensus"
    ids = {kind: {item.id for item in load_document(corpus / source).items} for kind, (source, _, _) in FILES.items()}
    given = gold_by_kind(args.gold or [], ids)  # bad labels fail before the matching is timed
    for kind, path in (("bpd", args.gold_bpd), ("aa", args.gold_aa)):
        if path:
            given[kind] = gold_by_kind([path], {kind: ids[kind]})[kind]
    settings = load_settings({"candidates_k": 20})
    report: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.sqlite")
        sets_by_kind, cold = asyncio.run(candidate_sets(shared, store, settings))
        _, warm = asyncio.run(candidate_sets(shared, store, settings))
    report["timing"] = {"cold_s": round(cold, 2), "warm_s": round(warm, 2)}
    for kind, sets in sets_by_kind.items():
        path = shared / "gold" / FILES[kind][2]
        path, gold = given.get(kind) or (path, load_gold(path))
        report[kind] = evaluate_kind(kind, sets, gold, args.retrain, path.name)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
