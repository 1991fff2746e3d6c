"""The local verifier: a logistic model over pair features, then a decision rule.

The model is tiny (one non-negative weight per feature, directions fixed by meaning) and trained
only on the dev labels by `python bench/quality.py --retrain` (see `train.py`); its weights, its
calibration map and its thresholds ship as JSON in `crosswalk/data/`.

Decision rule for one source item, with p = match probability of each candidate:
- best p ≥ `match_threshold` → the best candidate is the target; status `match`
  when p ≥ `partial_threshold`, else `partial` (a plausible but weaker counterpart);
- other candidates with p ≥ `alternate_ratio` × best p (and ≥ half the threshold)
  are listed as alternates: one-to-many is normal between vendors;
- best p in [abstain_floor, match_threshold) → `abstain` (uncertain: a reviewer,
  or the LLM stage when configured, should look);
- below that → `no_match`.
Confidence is p for a match, and 1 − p for no_match / abstain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Sequence

import numpy as np

from ..models import Verdict
from .features import FEATURES, CandidateSet, first_print


# The features the verifier reads, each with the direction its meaning fixes: +1 where more means
# a likelier counterpart, -1 where more means a less likely one. The model may weigh a feature
# zero but never against its meaning, so strong evidence can never lower a probability (the old
# free-signed model put negative weights on lexical and core cosine, which fitted the dev region
# and overruled cosine 0.76 / lexical 0.49 elsewhere). `position_gap` is left out: where an item
# sits in one vendor's document says nothing about the next region or the next vendor.
DIRECTION: dict[str, int] = {name: 1 for name in FEATURES if name != "position_gap"}
DIRECTION.update({name: -1 for name in ("fused_gap", "cosine_gap", "core_gap", "definition_mismatch", "length_ratio")})


@dataclass(frozen=True)
class VerifierModel:
    """Standardise, dot with non-negative weights (signs fixed by `DIRECTION`), sigmoid, then the
    calibration map (isotonic, fitted on blocked out-of-fold predictions) so that p means what it says."""

    features: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0, 1.0), (0.0, 1.0))
    meta: dict = field(default_factory=dict)

    @property
    def columns(self) -> np.ndarray:
        return np.array([FEATURES.index(name) for name in self.features], dtype=np.intp)

    @property
    def signs(self) -> np.ndarray:
        return np.array([DIRECTION[name] for name in self.features], dtype=np.float32)

    def design(self, x: np.ndarray) -> np.ndarray:
        """The model's inputs from full feature rows: its columns, oriented by their direction."""
        return x[:, self.columns] * self.signs

    def raw_probability(self, x: np.ndarray) -> np.ndarray:
        z = ((self.design(x) - self.mean) / self.std) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def probability(self, x: np.ndarray) -> np.ndarray:
        xs, ys = self.calibration
        return np.interp(self.raw_probability(x), xs, ys)

    def with_calibration(self, xs, ys) -> "VerifierModel":
        return replace(self, calibration=(tuple(float(v) for v in xs), tuple(float(v) for v in ys)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.tolist(), "std": self.std.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept,
                "calibration": [list(self.calibration[0]), list(self.calibration[1])], "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> "VerifierModel":
        unknown = [name for name in data["features"] if name not in DIRECTION]
        if unknown:
            raise ValueError(f"model reads features this version does not build ({', '.join(unknown)}); "
                             "retrain with `python bench/quality.py --retrain`")
        xs, ys = data.get("calibration") or ((0.0, 1.0), (0.0, 1.0))
        return cls(tuple(data["features"]), np.array(data["mean"], np.float32), np.array(data["std"], np.float32),
                   np.array(data["coef"], np.float32), float(data["intercept"]),
                   (tuple(xs), tuple(ys)), data.get("meta", {}))


def load_model(kind: str) -> VerifierModel:
    """The shipped model for 'bpd' or 'aa'."""
    text = resources.files("crosswalk.data").joinpath(f"verifier_{kind}.json").read_text(encoding="utf-8")
    return VerifierModel.from_json(json.loads(text))


@dataclass(frozen=True)
class DecisionRule:
    match_threshold: float = 0.5
    partial_threshold: float = 0.75
    alternate_ratio: float = 0.6
    abstain_floor: float = 0.3


def decide(cs: CandidateSet, probs: np.ndarray, rule: DecisionRule, verifier: str = "local") -> Verdict:
    """Apply the decision rule to one candidate set (pure: tested directly)."""
    scores_of = lambda j: {"p_match": round(float(probs[j]), 4), "fused": round(float(cs.fused[j]), 4),
                          "cosine": round(float(cs.features[j, 0]), 4), "lexical": round(float(cs.features[j, 1]), 4)}
    if len(probs) == 0:
        return Verdict(source_id=cs.source_id, target_id=None, status="no_match", confidence=1.0,
                       reasoning="no candidates", verifier=verifier)
    order = np.argsort(-probs)
    best = int(order[0])
    p = float(probs[best])
    runner = float(probs[order[1]]) if len(order) > 1 else 0.0
    if p < rule.match_threshold:
        status = "abstain" if p >= rule.abstain_floor else "no_match"
        why = (f"best candidate {cs.target_ids[best]} is uncertain (p={p:.2f})" if status == "abstain"
               else f"no candidate is likely (best p={p:.2f}){_no_counterpart_evidence(cs, best)}")
        return Verdict(source_id=cs.source_id, target_id=None, status=status, confidence=round(1 - p, 4),
                       reasoning=why, scores=scores_of(best), verifier=verifier)
    answer = first_print(cs, best)  # the same text printed again later (an attachment): its first print
    alternates = tuple(cs.target_ids[int(j)] for j in order if int(j) != answer
                       and probs[j] >= rule.alternate_ratio * p and probs[j] >= rule.match_threshold / 2)
    status = "match" if p >= rule.partial_threshold else "partial"
    why = f"p={p:.2f}, runner-up p={runner:.2f}; {_evidence(cs.features[best])}"
    if answer != best:
        why += f"; the first print of the same text as {cs.target_ids[best]}"
    return Verdict(source_id=cs.source_id, target_id=cs.target_ids[answer], alternates=alternates, status=status,
                   confidence=round(p, 4), reasoning=why, scores=scores_of(best), verifier=verifier)


def _no_counterpart_evidence(cs: CandidateSet, best: int) -> str:
    """Why "no counterpart" is more than a low score: the best candidate is claimed more strongly by
    another source item, and/or nothing reaches the similarity a counterpart usually has."""
    f = dict(zip(FEATURES, cs.features[best].tolist()))
    reasons = []
    if f["claim_margin"] < 0:
        reasons.append(f"its best candidate is claimed more strongly by another source item "
                       f"(margin {f['claim_margin']:.2f})")
    reasons.append(f"best cosine {f['cosine']:.2f}, lexical {f['lexical']:.2f}")
    return "; " + "; ".join(reasons)


def settled_locally(best_p, strong, low: float, high: float):
    """Two-stage's rule (for one item or arrays of them): settled as a match when the best p ≥ high;
    as "no counterpart" when p < low and no candidate has strong evidence. Returns (match, none)."""
    return np.greater_equal(best_p, high), np.less(best_p, low) & np.logical_not(strong)


def strong_evidence(cs: CandidateSet, floor: float) -> bool:
    """A candidate whose fused similarity reaches `floor` (the model's `strong_fused`: what most true
    counterparts reach in the dev labels) is never settled as "no counterpart" without a look."""
    return bool(len(cs.fused)) and float(cs.fused.max()) >= floor


def _evidence(row: np.ndarray) -> str:
    f = dict(zip(FEATURES, row.tolist()))
    parts = [f"cosine {f['cosine']:.2f}", f"lexical {f['lexical']:.2f}"]
    if f["term_equal"]:
        parts.append("same defined term")
    if f["heading"] > 0.5:
        parts.append("similar heading")
    if f["code_overlap"] > 0:
        parts.append("shared Code references")
    if f["reverse_rank_inverse"] == 1.0:
        parts.append("mutual best")
    return ", ".join(parts)


class LocalVerifier:
    """Embedded default verifier: no network, deterministic."""

    def __init__(self, model: VerifierModel, rule: DecisionRule):
        self.model = model
        self.rule = rule
        self.name = "local-monotone"

    def decide(self, cs: CandidateSet, probs: np.ndarray) -> Verdict:
        return decide(cs, probs, self.rule, self.name)

    async def verify(self, candidate_sets: Sequence[CandidateSet]) -> list[Verdict]:
        return [self.decide(cs, self.model.probability(cs.features)) for cs in candidate_sets]
