"""Training the local verifier's logistic model on labelled candidate sets.

Only the dev labels are used. `cross_validate` reports out-of-fold scores (folds
by source item, so a source's candidates never sit on both sides of a split);
`fit` trains on everything for the shipped model.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..evaluate import GoldItem, score
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


def best_threshold(sets: Sequence[CandidateSet], probs: dict[str, np.ndarray], gold: dict[str, GoldItem]) -> float:
    """The match threshold that maximises F1 on the given (out-of-fold) probabilities."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.05, 0.95, 0.025):
        rule = DecisionRule(match_threshold=float(t), abstain_floor=float(t))
        preds = {cs.source_id: decide(cs, probs[cs.source_id], rule).target_id for cs in sets}
        f1 = score(preds, gold).f1
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    return best_t


def cross_validate(sets: Sequence[CandidateSet], gold: dict[str, GoldItem], folds: int = 5, seed: int = 7) -> dict:
    """Out-of-fold probabilities for every labelled source, the F1-best threshold on them, and the scores.

    The threshold is itself chosen inside each fold's training part (nested), so the
    reported scores are honest estimates for unseen items.
    """
    labelled = [cs for cs in sets if cs.source_id in gold]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labelled))
    fold_of = {labelled[i].source_id: n % folds for n, i in enumerate(order)}
    oof_pred: dict[str, str | None] = {}
    for f in range(folds):
        train = [cs for cs in labelled if fold_of[cs.source_id] != f]
        test = [cs for cs in labelled if fold_of[cs.source_id] == f]
        model = fit(*training_rows(train, gold))
        train_probs = {cs.source_id: model.probability(cs.features) for cs in train}
        t = best_threshold(train, train_probs, gold)
        rule = DecisionRule(match_threshold=t, abstain_floor=t)
        oof_pred.update(predictions(test, model, rule))
    return score(oof_pred, gold).as_dict()
