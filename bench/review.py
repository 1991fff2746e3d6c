"""Analyst effort: how many items must be reviewed before the crosswalk is right.

    python bench/review.py [--shared ../shared] [--gold FILE ...] [--json]

A simulated analyst answers from gold labels: the policy offers an item, the analyst gives the
gold answer (keeps the tool's when it is one of the gold targets), the tool updates, and so on
until every labelled item is reviewed. The verifier's probabilities are out of block (5
contiguous blocks in document order: the model, its calibration and threshold are fitted on the
other four), so the matcher was never fitted on the items being reviewed.

Policies, side by side: `document_order` (no learning), `queue` (most-likely-wrong first, no
learning), `queue_learning` (the queue, updated by every decision: one-to-one, neighbours,
recalibration; `crosswalk.review.queue`). Per kind and policy it prints the share of labelled
items reviewed before at least 98% of them are right (unreviewed items counted with the tool's
current answer; 1.0 if never) and the error rate among unreviewed items after 10%, 25% and 50%
reviewed. `--gold` may be given once per kind; the kind follows from the ids.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from common import corpus_missing, gold_by_kind, parse_args  # noqa: E402  (sets up the path and offline mode)

from crosswalk.evaluate import GoldItem  # noqa: E402
from crosswalk.review.queue import Candidate, ReviewItem, ReviewState  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402
from crosswalk.store import Store  # noqa: E402
from crosswalk.verify import train  # noqa: E402
from crosswalk.verify.local import decide, load_model  # noqa: E402

from quality import FILES, candidate_sets  # noqa: E402

POLICIES = ("document_order", "queue", "queue_learning")
TARGET_CORRECT = 0.98
CHECKPOINTS = (0.10, 0.25, 0.50)


def out_of_block_items(sets: list, gold: dict[str, GoldItem], kind: str) -> list[ReviewItem]:
    """Every labelled source item with candidates scored by a model fitted on the other blocks."""
    position = {cs.source_id: n for n, cs in enumerate(sets)}
    features = train.FEATURE_SETS[load_model(kind).meta.get("feature_set", "all")]
    labelled = train.labelled_sets(sets, gold)
    items = []
    for training, test in train.blocked_folds(labelled, with_half=False):
        predict = train.verifier_fitter(features)(training, gold)
        for cs in test:
            p, threshold = predict(cs)
            candidates = tuple(Candidate(t, float(q)) for t, q in zip(cs.target_ids, p))
            proposed = decide(cs, p, train.threshold_rule(threshold)).target_id
            items.append(ReviewItem(cs.source_id, position[cs.source_id], candidates, threshold, proposed))
    return items


def gold_answer(item: GoldItem, tool: str | None) -> str | None:
    if not item.targets:
        return None
    return tool if tool in item.targets else item.targets[0]


def correct(answer: str | None, item: GoldItem) -> bool:
    return answer in item.targets if item.targets else answer is None


def simulate(items: list[ReviewItem], target_positions: dict[str, int], gold: dict[str, GoldItem],
             policy: str) -> dict:
    state = ReviewState(items, target_positions, learning=policy == "queue_learning")
    n = len(items)
    order_in_document = [i.source_id for i in sorted(items, key=lambda i: i.position)]
    errors_after: list[tuple[int, int]] = []  # (wrong among unreviewed, unreviewed) after each review count
    share_98 = None
    for reviewed in range(n + 1):
        wrong = sum(not correct(state.answer(i.source_id).target_id, gold[i.source_id])
                    for i in items if i.source_id not in state.decisions)
        errors_after.append((wrong, n - reviewed))
        if share_98 is None and (n - wrong) / n >= TARGET_CORRECT:
            share_98 = reviewed / n
        if reviewed == n:
            break
        if policy == "document_order":
            sid = next(s for s in order_in_document if s not in state.decisions)
        else:
            sid = state.queue()[0]
        state.decide(sid, gold_answer(gold[sid], state.answer(sid).target_id))
    row = {"items": n, "review_share_98": round(share_98 if share_98 is not None else 1.0, 3),
           "initial_error": round(errors_after[0][0] / n, 3)}
    for share in CHECKPOINTS:
        wrong, left = errors_after[round(share * n)]
        row[f"unreviewed_error_{round(share * 100)}"] = round(wrong / left, 3) if left else 0.0
    return row


def main() -> None:
    args = parse_args(__doc__, ("--gold", {"type": Path, "action": "append", "help": "gold JSONL (repeatable)"}))
    if corpus_missing(args.shared):
        return
    from crosswalk.extract import load_document

    corpus = args.shared / "corpus" / "relius-to-ascensus"
    docs = {kind: (load_document(corpus / s), load_document(corpus / t)) for kind, (s, t, _) in FILES.items()}
    paths = args.gold or [args.shared / "gold" / FILES[k][2] for k in FILES]
    golds = gold_by_kind(paths, {k: {i.id for i in s.items} for k, (s, _) in docs.items()})  # bad labels fail first
    settings = load_settings({}, env={})
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        sets_by_kind, _ = asyncio.run(candidate_sets(args.shared, store, settings))
    report = {}
    for kind, (_, gold) in golds.items():
        items = out_of_block_items(sets_by_kind[kind], gold, kind)
        positions = {item.id: n for n, item in enumerate(docs[kind][1].items)}
        report[kind] = {policy: simulate(items, positions, gold, policy) for policy in POLICIES}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for kind, rows in report.items():
        first = next(iter(rows.values()))
        print(f"\n{kind.upper()}: {first['items']} labelled items, {first['initial_error']:.1%} wrong before review "
              "(out-of-block verifier)")
        print(f"  {'policy':16s} reviewed for 98% right   unreviewed error after 10% / 25% / 50% reviewed")
        for policy, r in rows.items():
            print(f"  {policy:16s} {r['review_share_98']:>10.1%}              "
                  f"{r['unreviewed_error_10']:.1%} / {r['unreviewed_error_25']:.1%} / {r['unreviewed_error_50']:.1%}")


if __name__ == "__main__":
    main()
