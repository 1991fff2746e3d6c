"""Training and validating the local verifier on labelled candidate sets.

Validation is **blocked**: the labelled source items are taken in document order and cut into
contiguous blocks; each block is predicted by a model fitted on the others, and one more fold
fits on the first half and predicts the second. Random folds put neighbouring items of one
article on both sides of a split and overstated F1 by about 0.27 on the next region (the
matching issue's measurement); blocks ask what the next region will see. Every figure has
the untrained baseline (the fused candidate score, top-1, one threshold) beside it, on the same
blocks.

The shipped model is fitted on all dev labels; its calibration map, match threshold and
two-stage bands come from its blocked out-of-fold predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..evaluate import GoldItem, Scores, score
from .features import FEATURES, CandidateSet, first_print
from .local import DIRECTION, DecisionRule, VerifierModel, decide, settled_locally, strong_evidence

L2 = 10.0       # blocked CV: 1, 10 and 50 within 0.01 on BPD; 10 is the middle
BLOCKS = 5
F1_TOLERANCE = 0.01  # thresholds within this of the best F1 count as equally good
# Two-stage: at most 3% of items may be settled wrong before any LLM call. The bands are chosen
# for half that on the dev labels' out-of-block predictions, leaving room for the next region.
MAX_SETTLED_WRONG = 0.015
# ... and each side's settled items must be right more often than a strong model would make them:
# an item settled locally is an item the LLM cannot repair. Measured by `bench/llm.py` on blocked
# folds with the oracle at 5% error: the share-of-items rule alone let the folds settle 37 BPD items
# of which 3 were wrong (8%), and two-stage scored 0.915 F1 against 0.927 asking every item.
MAX_SETTLED_ERROR = 0.03
# "No counterpart" is settled locally too (`settle_none`). Never settling it was tried: out of block it
# saved 1 wrong item of 120 (BPD two-stage 0.935 against 0.927 F1 with the oracle at 5% error), but on
# the whole conversion from PDFs it sent 106 more calls ($1.51 -> $1.74, over the $1.50 budget): the
# extracted fragments without a counterpart are many and mostly right when settled.
SETTLE_NONE = True

Probabilities = dict[str, np.ndarray]

# The feature sets `bench/quality.py --retrain` chooses among by blocked CV (declared here, not
# searched): every direction-fixed feature; the same without the within-set standings; a compact
# core of similarity, rank and one-to-one signals.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "all": tuple(DIRECTION),
    "absolute": tuple(n for n in DIRECTION if not n.endswith(("_z", "_rank_inverse"))),
    "compact": ("fused", "cosine", "lexical", "stem_lexical", "char_lexical", "heading", "core_cosine", "term_equal",
                "rank_inverse", "reverse_rank_inverse", "fused_gap", "claim_margin"),
}
Fitter = Callable[[Sequence[CandidateSet], dict[str, GoldItem]], Callable[[CandidateSet], np.ndarray]]


# -- folds ---------------------------------------------------------------------------------------

def blocked_folds(labelled: Sequence[CandidateSet], blocks: int = BLOCKS,
                  with_half: bool = True) -> list[tuple[list[CandidateSet], list[CandidateSet]]]:
    """(train, test) pairs over contiguous blocks of `labelled` (kept in document order), then, with
    `with_half`, "fit on the first half, predict the second" as a last fold."""
    n = len(labelled)
    folds = []
    for b in range(blocks):
        lo, hi = b * n // blocks, (b + 1) * n // blocks
        folds.append(([cs for k, cs in enumerate(labelled) if not lo <= k < hi], list(labelled[lo:hi])))
    if with_half:
        folds.append((list(labelled[:n // 2]), list(labelled[n // 2:])))
    return folds


def labelled_sets(sets: Sequence[CandidateSet], gold: dict[str, GoldItem]) -> list[CandidateSet]:
    return [cs for cs in sets if cs.source_id in gold]


def subset(gold: dict[str, GoldItem], sets: Sequence[CandidateSet]) -> dict[str, GoldItem]:
    return {cs.source_id: gold[cs.source_id] for cs in sets}


# -- the model ------------------------------------------------------------------------------------

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


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2, meta: dict | None = None,
        features: Sequence[str] | None = None) -> VerifierModel:
    """Logistic regression whose weights are all ≥ 0 on direction-oriented, standardised features:
    projected Newton steps with backtracking (a few dozen iterations on ~2,400 rows)."""
    names = tuple(features or DIRECTION)
    shell = VerifierModel(names, np.zeros(len(names), np.float32), np.ones(len(names), np.float32),
                          np.zeros(len(names), np.float32), 0.0)
    d = shell.design(x).astype(np.float64)
    mean = d.mean(axis=0)
    std = np.where(d.std(axis=0) > 1e-6, d.std(axis=0), 1.0)
    z = np.hstack([(d - mean) / std, np.ones((len(d), 1))])
    w = _nonnegative_logistic(z, y.astype(np.float64), l2)
    return VerifierModel(names, mean.astype(np.float32), std.astype(np.float32), w[:-1].astype(np.float32),
                         float(w[-1]), meta=meta or {})


def _nonnegative_logistic(z: np.ndarray, y: np.ndarray, l2: float, iterations: int = 200) -> np.ndarray:
    """argmin of the L2-penalised log loss with every weight but the last (the intercept) ≥ 0."""
    dim = z.shape[1]
    reg = np.eye(dim) * l2
    reg[-1, -1] = 0.0

    def loss(w: np.ndarray) -> float:
        t = z @ w
        return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * w @ reg @ w)

    def project(w: np.ndarray) -> np.ndarray:
        return np.concatenate([np.maximum(w[:-1], 0.0), w[-1:]])

    w = np.zeros(dim)
    current = loss(w)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + reg @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + reg
        held = np.zeros(dim, bool)  # at the bound and pushed outward: stays at zero this step
        held[:-1] = (w[:-1] <= 1e-12) & (grad[:-1] > 0)
        free = ~held
        step = np.zeros(dim)
        step[free] = np.linalg.solve(hess[np.ix_(free, free)] + 1e-9 * np.eye(int(free.sum())), grad[free])
        t = 1.0
        while True:
            candidate = project(w - t * step)
            new = loss(candidate)
            if new <= current - 1e-4 * grad @ (w - candidate) or t < 1e-8:
                break
            t *= 0.5
        done = abs(current - new) < 1e-9
        w, current = candidate, new
        if done:
            break
    return w


def top_outcomes(sets: Sequence[CandidateSet], probs: Probabilities,
                 gold: dict[str, GoldItem]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per labelled item: its best candidate's p, whether that candidate is right, whether it has one."""
    p, right, has = [], [], []
    for cs in sets:
        item = gold[cs.source_id]
        pr = probs[cs.source_id]
        best = int(np.argmax(pr)) if len(pr) else -1
        p.append(float(pr[best]) if best >= 0 else 0.0)
        right.append(best >= 0 and cs.target_ids[first_print(cs, best)] in item.targets)
        has.append(bool(item.targets))
    return np.array(p), np.array(right), np.array(has)


CALIBRATION_POINTS = np.concatenate([[0.0], np.linspace(0.005, 0.995, 41), [1.0]])


def calibrated(model: VerifierModel, sets: Sequence[CandidateSet], raw: Probabilities,
               gold: dict[str, GoldItem]) -> VerifierModel:
    """`model` with a map from its blocked out-of-fold top-candidate p to how often that candidate was
    right, so the p a user sees is an observed frequency on unseen regions. Platt scaling (two
    parameters, slope ≥ 0) rather than isotonic: with 61-120 labelled items isotonic steps followed
    the noise of single items (blocked CV: reliability bands off by up to 0.35)."""
    p, right, _ = top_outcomes(sets, raw, gold)
    a, b = platt(p, right.astype(float))
    xs = CALIBRATION_POINTS
    return model.with_calibration(xs, 1.0 / (1.0 + np.exp(-(a * _logit(xs) + b))))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of a logistic fit of y on logit(p), slope ≥ 0 (order is never reversed)."""
    logit = _logit(p)
    z = np.stack([logit, np.ones_like(logit)], axis=1)
    w = _nonnegative_logistic(z, y, l2=1e-3)
    return float(w[0]), float(w[1])


# -- fitting with validation -------------------------------------------------------------------------

def oof_raw(labelled: Sequence[CandidateSet], gold: dict[str, GoldItem], blocks: int = BLOCKS,
            features: Sequence[str] | None = None) -> Probabilities:
    """Each labelled item's uncalibrated candidate probabilities from a model fitted on the other blocks."""
    probs: Probabilities = {}
    for train, test in blocked_folds(labelled, blocks, with_half=False):
        model = fit(*training_rows(train, gold), features=features)
        probs.update({cs.source_id: model.raw_probability(cs.features) for cs in test})
    return probs


def fit_calibrated(labelled: Sequence[CandidateSet], gold: dict[str, GoldItem],
                   features: Sequence[str] | None = None) -> tuple[VerifierModel, Probabilities]:
    """A model fitted on all of `labelled`, calibrated on its blocked out-of-fold predictions; also
    those predictions, calibrated (for thresholds, bands and tables)."""
    model = fit(*training_rows(labelled, gold), features=features)
    raw = oof_raw(labelled, gold, features=features)
    model = calibrated(model, labelled, raw, gold)
    xs, ys = model.calibration
    return model, {sid: np.interp(p, xs, ys) for sid, p in raw.items()}


def scores_at(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem],
              threshold: float) -> Scores:
    """The scores of deciding every set at `threshold` (match at or above it, null below)."""
    rule = threshold_rule(threshold)
    return score({cs.source_id: decide(cs, probs[cs.source_id], rule).target_id for cs in sets}, gold)


def threshold_rule(threshold: float) -> DecisionRule:
    """The decision rule the thresholds are chosen and scored with: a target at or above it, null below."""
    return DecisionRule(match_threshold=threshold, abstain_floor=threshold)


def best_threshold(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem]) -> float:
    """The highest threshold whose F1 is within `F1_TOLERANCE` of the best: F1 is flat over a range,
    and within it a higher threshold answers more no-counterpart items null."""
    thresholds = [round(float(t), 3) for t in np.arange(0.05, 0.95, 0.025)]
    f1s = [scores_at(sets, probs, gold, t).f1 for t in thresholds]
    best = max(f1s, default=0.0)
    return max((t for t, f1 in zip(thresholds, f1s) if f1 >= best - F1_TOLERANCE), default=0.5)


def verifier_fitter(features: Sequence[str] | None = None) -> Fitter:
    """Fit on a training part: model, calibration and threshold all from that part alone."""
    def fitter(train: Sequence[CandidateSet], gold: dict[str, GoldItem]):
        model, oof = fit_calibrated(train, gold, features)
        threshold = best_threshold(train, oof, gold)
        return lambda cs: (model.probability(cs.features), threshold)
    return fitter


def baseline_fitter(train: Sequence[CandidateSet], gold: dict[str, GoldItem]):
    """The untrained baseline: the fused candidate score as it is, top-1, one threshold chosen on `train`."""
    fused = {cs.source_id: cs.fused.astype(float) for cs in train}
    threshold = best_threshold(train, fused, gold)
    return lambda cs: (cs.fused.astype(float), threshold)


@dataclass
class BlockedReport:
    """Blocked cross-validation of one fitter: pooled over the blocks, per block, and the half fold."""

    pooled: Scores
    per_block: list[Scores]
    half: Scores
    probabilities: Probabilities  # pooled out-of-block probabilities (as the fitted model gives them)

    def as_dict(self) -> dict:
        f1s = [s.f1 for s in self.per_block]
        return {**self.pooled.as_dict(), "block_f1": [round(f, 3) for f in f1s], "worst_block_f1": round(min(f1s), 3),
                "median_block_f1": round(float(np.median(f1s)), 3), "half": self.half.as_dict()}


def blocked_cross_validate(sets: Sequence[CandidateSet], gold: dict[str, GoldItem], fitter: Fitter,
                           blocks: int = BLOCKS) -> BlockedReport:
    """Every labelled item predicted by `fitter` trained on the other blocks (nested: whatever the
    fitter chooses, it chooses from its training part), then the half fold."""
    labelled = labelled_sets(sets, gold)
    folds = blocked_folds(labelled, blocks)
    pooled: dict[str, str | None] = {}
    probs: Probabilities = {}
    per_block: list[Scores] = []
    half = None
    for n, (train, test) in enumerate(folds):
        predict = fitter(train, gold)
        predicted = {}
        for cs in test:
            p, threshold = predict(cs)
            predicted[cs.source_id] = decide(cs, p, threshold_rule(threshold)).target_id
            if n < blocks:
                probs[cs.source_id] = p
        fold_scores = score(predicted, subset(gold, test))
        if n < blocks:
            pooled.update(predicted)
            per_block.append(fold_scores)
        else:
            half = fold_scores
    return BlockedReport(score(pooled, subset(gold, labelled)), per_block, half, probs)


# -- what the numbers mean: reliability, thresholds, two-stage bands ------------------------------------

def reliability_table(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem],
                      edges: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0001)) -> list[dict]:
    """Predicted band of the best candidate's p → how often that candidate was right (out of block)."""
    p, right, _ = top_outcomes(sets, probs, gold)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (p >= lo) & (p < hi)
        rows.append({"band": f"{lo:.1f}-{min(hi, 1.0):.1f}", "items": int(inside.sum()),
                     "mean_p": round(float(p[inside].mean()), 3) if inside.any() else None,
                     "observed": round(float(right[inside].mean()), 3) if inside.any() else None})
    return rows


def threshold_curve(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem],
                    thresholds: Sequence[float]) -> list[dict]:
    """Precision, recall, F1 and none-accuracy at each threshold, on out-of-block probabilities:
    what an analyst trades by passing `--match-threshold`."""
    labelled = [cs for cs in sets if cs.source_id in probs]
    rows = []
    for t in thresholds:
        s = scores_at(labelled, probs, subset(gold, labelled), t)
        rows.append({"threshold": round(float(t), 3), "precision": round(s.precision, 3), "recall": round(s.recall, 3),
                     "f1": round(s.f1, 3), "none_accuracy": round(s.none_accuracy, 3)})
    return rows


def _settle_inputs(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem],
                   strong_floor: float) -> tuple[np.ndarray, ...]:
    labelled = [cs for cs in sets if cs.source_id in probs]
    p, right, has = top_outcomes(labelled, probs, gold)
    strong = np.array([strong_evidence(cs, strong_floor) for cs in labelled], dtype=bool)
    return p, right, has, strong


def _settle_row(p: np.ndarray, right: np.ndarray, has: np.ndarray, strong: np.ndarray, low: float,
                high: float) -> dict:
    as_match, as_none = settled_locally(p, strong, low, high)
    matches, nones = int(as_match.sum()), int(as_none.sum())
    match_wrong, none_wrong = int((as_match & ~right).sum()), int((as_none & has).sum())
    wrong, settled = match_wrong + none_wrong, matches + nones
    return {"low": low, "high": high, "items": len(p), "settled": settled, "settled_wrong": wrong,
            "wrong_share_of_items": round(wrong / max(len(p), 1), 3), "to_llm": len(p) - settled,
            "as_match": matches, "as_match_wrong": match_wrong, "as_none": nones, "as_none_wrong": none_wrong}


def settle_table(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem], strong_floor: float,
                 bands: Sequence[tuple[float, float]]) -> list[dict]:
    """Per (low, high) band: items settled locally, how many of those are wrong (out of block), and
    the items left for the LLM (its calls)."""
    outcomes = _settle_inputs(sets, probs, gold, strong_floor)
    return [_settle_row(*outcomes, low, high) for low, high in bands]


def choose_bands(sets: Sequence[CandidateSet], probs: Probabilities, gold: dict[str, GoldItem], strong_floor: float,
                 max_wrong: float = MAX_SETTLED_WRONG, max_error: float = MAX_SETTLED_ERROR,
                 settle_none: bool = SETTLE_NONE) -> tuple[float, float]:
    """The widest two-stage bands (most items settled locally) whose settled items are wrong for at
    most `max_wrong` of all items and, on each side (match, no counterpart), for at most `max_error`
    of the items that side settles, on out-of-block probabilities. Settling nothing always qualifies.
    Without `settle_none` the low band stays 0: "no counterpart" is always asked."""
    outcomes = _settle_inputs(sets, probs, gold, strong_floor)
    grid = [round(v, 2) for v in np.arange(0.0, 1.0001, 0.05)]
    best, best_settled = (0.0, 1.01), -1
    for low in grid if settle_none else [0.0]:
        for high in (h for h in grid if h > low):
            row = _settle_row(*outcomes, low, high)
            sides_ok = (row["as_match_wrong"] <= max_error * row["as_match"]
                        and row["as_none_wrong"] <= max_error * row["as_none"])
            if row["wrong_share_of_items"] <= max_wrong and sides_ok and row["settled"] > best_settled:
                best, best_settled = (low, high), row["settled"]
    return best


def strong_fused_floor(sets: Sequence[CandidateSet], gold: dict[str, GoldItem], quantile: float = 0.25) -> float:
    """The fused score that three in four right counterparts reach in the labels: at or above it a
    candidate is strong evidence, and "no counterpart" is not settled without a look."""
    values = [float(cs.fused[k]) for cs in sets if cs.source_id in gold
              for k, t in enumerate(cs.target_ids) if t in gold[cs.source_id].targets]
    return round(float(np.quantile(values, quantile)), 3) if values else 1.0
