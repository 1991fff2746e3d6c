"""Scoring a crosswalk against gold labels (the rule in the gold README, exactly).

- true positive: the predicted `target_id` is one of the gold targets;
- false positive: a predicted `target_id` not among the gold targets (and also a
  false negative when the gold targets are not empty);
- false negative: a null prediction when the gold targets are not empty.
`partial` gold relations count as matches. Only sources present in the gold file are scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError


@dataclass(frozen=True)
class GoldItem:
    source: str
    targets: tuple[str, ...]
    relation: str


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    none_total: int = 0
    none_correct: int = 0
    misses: list[dict] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def none_accuracy(self) -> float:
        return self.none_correct / self.none_total if self.none_total else 1.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "none_accuracy": round(self.none_accuracy, 4), "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "none_items": self.none_total}


def load_gold(path: Path | str) -> dict[str, GoldItem]:
    """Read a gold JSONL file; raises InputError naming the line on bad input."""
    path = Path(path)
    gold: dict[str, GoldItem] = {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a file saved by a Windows editor starts with a BOM
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold[row["source"]] = GoldItem(row["source"], tuple(row.get("targets") or ()), row.get("relation", ""))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(path, f"bad gold row: {exc}", item=f"line {n}") from None
    return gold


def score(predictions: dict[str, str | None], gold: dict[str, GoldItem]) -> Scores:
    """Score predictions (source id → target id or None) against gold."""
    s = Scores()
    for source, item in gold.items():
        predicted = predictions.get(source)
        if not item.targets:
            s.none_total += 1
            s.none_correct += predicted is None
        if predicted is not None and predicted in item.targets:
            s.tp += 1
            continue
        if predicted is None and not item.targets:
            continue
        if predicted is not None:
            s.fp += 1
        if item.targets:
            s.fn += 1
        s.misses.append({"source": source, "predicted": predicted, "gold": list(item.targets), "relation": item.relation})
    return s


def recall_at_k(candidates: dict[str, list[str]], gold: dict[str, GoldItem], k: int) -> float:
    """Share of gold items with a counterpart that have at least one gold target among their first k candidates."""
    hits = total = 0
    for source, item in gold.items():
        if not item.targets:
            continue
        total += 1
        hits += bool(set(candidates.get(source, [])[:k]) & set(item.targets))
    return hits / total if total else 0.0
