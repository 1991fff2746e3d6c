"""The local verifier: a logistic model over pair features, then a decision rule.

The model is tiny (one weight per feature) and trained only on the dev labels by
`python bench/quality.py --retrain` (see `train.py`); its weights ship as JSON in `crosswalk/data/`.

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
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

import numpy as np

from ..models import Verdict
from .features import FEATURES, CandidateSet


@dataclass(frozen=True)
class LogisticModel:
    """Standardise, dot, sigmoid."""

    features: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.std) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.tolist(), "std": self.std.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> "LogisticModel":
        if tuple(data["features"]) != FEATURES:
            raise ValueError("model was trained on a different feature set; retrain with `python bench/quality.py --retrain`")
        return cls(tuple(data["features"]), np.array(data["mean"], np.float32), np.array(data["std"], np.float32),
                   np.array(data["coef"], np.float32), float(data["intercept"]), data.get("meta", {}))


def load_model(kind: str) -> LogisticModel:
    """The shipped model for 'bpd' or 'aa'."""
    text = resources.files("crosswalk.data").joinpath(f"verifier_{kind}.json").read_text(encoding="utf-8")
    return LogisticModel.from_json(json.loads(text))


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
               else f"no candidate is likely (best p={p:.2f})")
        return Verdict(source_id=cs.source_id, target_id=None, status=status, confidence=round(1 - p, 4),
                       reasoning=why, scores=scores_of(best), verifier=verifier)
    alternates = tuple(cs.target_ids[int(j)] for j in order[1:]
                       if probs[j] >= rule.alternate_ratio * p and probs[j] >= rule.match_threshold / 2)
    status = "match" if p >= rule.partial_threshold else "partial"
    why = f"p={p:.2f}, runner-up p={runner:.2f}; {_evidence(cs.features[best])}"
    return Verdict(source_id=cs.source_id, target_id=cs.target_ids[best], alternates=alternates, status=status,
                   confidence=round(p, 4), reasoning=why, scores=scores_of(best), verifier=verifier)


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

    def __init__(self, model: LogisticModel, rule: DecisionRule):
        self.model = model
        self.rule = rule
        self.name = "local-logistic"

    def decide(self, cs: CandidateSet, probs: np.ndarray) -> Verdict:
        return decide(cs, probs, self.rule, self.name)

    async def verify(self, candidate_sets: Sequence[CandidateSet]) -> list[Verdict]:
        return [self.decide(cs, self.model.probability(cs.features)) for cs in candidate_sets]
