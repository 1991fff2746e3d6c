"""Training the local verifier's logistic model on labelled candidate sets.

Only the dev labels are used. `cross_validate` reports out-of-fold scores (folds
by source item, so a source's candidates never sit on both sides of a split);
`fit` trains on everything for the shipped model.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..evaluate import GoldItem, Scores, score
from .features import FEATURES, CandidateSet
from .local import DecisionRule, LogisticModel, decide

L2 = 1.0


def training_rows(sets: Sequence[CandidateSet], gold: dict[str, GoldItem]) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels for the candidate pairs of labelled sources."""
    xs, ys = [], []
    for cs in sets:
        item = gold.get(cs.source_id)
        if item is None:
            continue
        xs.append(cs.features)
        ys.append(np.array([t in item.targets for t in cs.target_ids], dtype=np.float32))
    if not xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, np.float32)
    return np.vstack(xs), np.concatenate(ys)


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2, meta: dict | None = None) -> LogisticModel:
    """L2-regularised logistic regression by Newton's method (a handful of iterations)."""
    mean = x.mean(axis=0)
    std = np.where(x.std(axis=0) > 1e-6, x.std(axis=0), 1.0)
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1), np.float32)]).astype(np.float64)
    w = np.zeros(z.shape[1])
    reg = np.eye(z.shape[1]) * l2
    reg[-1, -1] = 0.0  # no penalty on the intercept
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (p - y) + reg @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return LogisticModel(FEATURES, mean.astype(np.float32), std.astype(np.float32),
                         w[:-1].astype(np.float32), float(w[-1]), meta or {})


def predictions(sets: Sequence[CandidateSet], model: LogisticModel, rule: DecisionRule) -> dict[str, str | None]:
    return {cs.source_id: decide(cs, model.probability(cs.features), rule).target_id for cs in sets}


F1_TOLERANCE = 0.01  # thresholds within this of the best F1 count as equally good


def scores_at(sets: Sequence[CandidateSet], probs: dict[str, np.ndarray], gold: dict[str, GoldItem],
              threshold: float) -> Scores:
    """The scores of deciding every set at `threshold` (match at or above it, null below)."""
    rule = threshold_rule(threshold)
    return score({cs.source_id: decide(cs, probs[cs.source_id], rule).target_id for cs in sets}, gold)


def threshold_rule(threshold: float) -> DecisionRule:
    """The decision rule the thresholds are chosen and scored with: a target at or above it, null below."""
    return DecisionRule(match_threshold=threshold, abstain_floor=threshold)


def best_threshold(sets: Sequence[CandidateSet], probs: dict[str, np.ndarray], gold: dict[str, GoldItem]) -> float:
    """The match threshold for the given (out-of-fold) probabilities: the highest one whose F1 is
    within `F1_TOLERANCE` of the best.

    F1 is flat over a range of thresholds; within it a higher one abstains on more items without
    a counterpart, and an abstention is surfaced for review where a wrong match may be trusted."""
    thresholds = [float(t) for t in np.arange(0.05, 0.95, 0.025)]
    f1s = [scores_at(sets, probs, gold, t).f1 for t in thresholds]
    best = max(f1s, default=0.0)
    return max((t for t, f1 in zip(thresholds, f1s) if f1 >= best - F1_TOLERANCE), default=0.5)


def threshold_curve(sets: Sequence[CandidateSet], probs_by_seed: Sequence[dict[str, np.ndarray]],
                    gold: dict[str, GoldItem], thresholds: Sequence[float]) -> list[dict]:
    """Precision, recall, F1 and none-accuracy at each threshold, averaged over several sets of
    (out-of-fold) probabilities: what an analyst trades by passing `--match-threshold`."""
    labelled = [cs for cs in sets if cs.source_id in gold]
    rows = []
    for t in thresholds:
        runs = [scores_at(labelled, probs, gold, t) for probs in probs_by_seed]
        rows.append({"threshold": round(float(t), 3),
                     **{name: round(float(np.mean([getattr(r, name) for r in runs])), 3)
                        for name in ("precision", "recall", "f1", "none_accuracy")}})
    return rows


def _fold_of(labelled: Sequence[CandidateSet], folds: int, seed: int) -> dict[str, int]:
    order = np.random.default_rng(seed).permutation(len(labelled))
    return {labelled[i].source_id: n % folds for n, i in enumerate(order)}


def out_of_fold_probabilities(sets: Sequence[CandidateSet], gold: dict[str, GoldItem], folds: int = 5,
                              seed: int = 7) -> dict[str, np.ndarray]:
    """Each labelled source's candidate probabilities from a model that did not see it."""
    labelled = [cs for cs in sets if cs.source_id in gold]
    fold_of = _fold_of(labelled, folds, seed)
    probs: dict[str, np.ndarray] = {}
    for f in range(folds):
        model = fit(*training_rows([cs for cs in labelled if fold_of[cs.source_id] != f], gold))
        probs.update({cs.source_id: model.probability(cs.features) for cs in labelled if fold_of[cs.source_id] == f})
    return probs


def chosen_threshold(sets: Sequence[CandidateSet], gold: dict[str, GoldItem], seeds: Sequence[int] = (0, 1, 2),
                     probs_by_seed: Sequence[dict[str, np.ndarray]] | None = None) -> float:
    """The match threshold for a model fitted on `sets`, chosen on out-of-fold probabilities
    (median over fold seeds; pass `probs_by_seed` when they are already computed): unseen items
    get probabilities like those, not like the training items' own, which are overconfident
    (in-sample the BPD threshold came out at 0.30; out of fold at 0.41, where out-of-fold F1 is
    0.72 against 0.71 and 70% of the items without a counterpart are answered null against 47%)."""
    labelled = [cs for cs in sets if cs.source_id in gold]
    if probs_by_seed is None:
        probs_by_seed = [out_of_fold_probabilities(labelled, gold, seed=s) for s in seeds]
    return float(np.median([best_threshold(labelled, probs, gold) for probs in probs_by_seed]))


def cross_validate(sets: Sequence[CandidateSet], gold: dict[str, GoldItem], folds: int = 5, seed: int = 7) -> dict:
    """Out-of-fold predictions for every labelled source, and their scores.

    Each fold's threshold is chosen as the shipped model's is, from the training part alone
    (nested), so the reported scores are honest estimates for unseen items.
    """
    labelled = [cs for cs in sets if cs.source_id in gold]
    fold_of = _fold_of(labelled, folds, seed)
    probs = out_of_fold_probabilities(labelled, gold, folds, seed)  # the same folds
    oof_pred: dict[str, str | None] = {}
    for f in range(folds):
        rule = threshold_rule(chosen_threshold([cs for cs in labelled if fold_of[cs.source_id] != f], gold))
        oof_pred.update({cs.source_id: decide(cs, probs[cs.source_id], rule).target_id
                         for cs in labelled if fold_of[cs.source_id] == f})
    return score(oof_pred, gold).as_dict()
