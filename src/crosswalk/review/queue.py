"""The review queue and what it learns from each decision (pure: no I/O, tested directly).

A `ReviewState` holds, for one crosswalk (BPD or AA) of one document pair, every source item's
candidates with the verifier's calibrated probability, the analyst's decisions so far and, from
them, each undecided item's current answer and how likely that answer is wrong. `queue()` puts
first what is most likely wrong and matters most.

With `learning`, each decision updates the rest at once:
- one-to-one: a target decided for one source is a weak candidate for every other source;
- neighbours: items next to a decided pair tend to map next to its target (documents are
  reordered by article, rarely within one), so candidates near the expected position gain;
- recalibration: a two-parameter map of the verifier's logit, fitted on this pair's decisions
  with a prior at "no change", so a verifier that is over- or under-confident on this vendor
  pair is corrected after a few dozen decisions (no retrain).
The effect sizes are set once and measured out of block with `crosswalk bench review`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Literal

Kind = Literal["bpd", "aa"]

# Measured with `crosswalk bench review` (blocked, dev labels). Crosswalks here are far from one-to-
# one: 38 of the 95 BPD sources with a counterpart share their first target with another source,
# mostly a neighbour (of consecutive labelled pairs, 17 of 56 map to the same target and 11 more
# within two). So a decided target weakens only the claims of sources far from it, and only a
# little (3.0 logits everywhere cost 10 points of review share on the BPD), while a decided
# neighbour's target (or one within two of it) gains.
CLAIMED_PENALTY = 0.5     # logit taken from a candidate a source far away was decided onto
NEIGHBOUR_BONUS = 1.5     # logit added to a candidate where a decided neighbour points
NEIGHBOUR_WINDOW = 2      # source items either side whose decision counts as a neighbour's
TARGET_SLACK = 2          # how far from a decided neighbour's target a candidate still gains
PRIOR_WEIGHT = 8.0        # pseudo-decisions holding the recalibration at "no change"
CONFLICT_BONUS = 0.05     # added to the priority of an answer another undecided source also claims


@dataclass(frozen=True)
class Candidate:
    target_id: str
    p: float  # the verifier's calibrated probability that this is the counterpart


@dataclass(frozen=True)
class ReviewItem:
    """One source item as the queue sees it."""

    source_id: str
    position: int                       # in the source document's order
    candidates: tuple[Candidate, ...]
    threshold: float                    # the verifier's match threshold for this item
    proposed: str | None                # the run's answer (in LLM mode it may differ from the local rule)
    impact: float = 0.0                 # 0-1: what depends on the item (variance, BLOCKED, value change)


@dataclass(frozen=True)
class Answer:
    target_id: str | None
    p_wrong: float
    decided: bool = False
    changed: bool = False  # learning moved it away from the run's answer


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -50 else 0.0


@dataclass
class ReviewState:
    items: list[ReviewItem]
    target_positions: dict[str, int]
    learning: bool = True
    decisions: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {item.source_id: item for item in self.items}
        self._by_position = sorted(self.items, key=lambda i: i.position)
        self._calibration = (1.0, 0.0)
        self._answers: dict[str, Answer] = {}
        self._static_order: list[str] | None = None
        self._refresh()

    # -- decisions ---------------------------------------------------------------------------
    def decide(self, source_id: str, target_id: str | None) -> None:
        if source_id not in self._by_id:
            raise KeyError(source_id)
        self.decisions[source_id] = target_id
        self._refresh()

    def undo(self, source_id: str) -> None:
        self.decisions.pop(source_id, None)
        self._refresh()

    def refresh(self) -> None:
        """Recompute every answer (after `decisions` was filled directly)."""
        self._refresh()

    def item(self, source_id: str) -> ReviewItem:
        return self._by_id[source_id]

    # -- what the analyst sees ------------------------------------------------------------------
    def answer(self, source_id: str) -> Answer:
        return self._answers[source_id]

    def probabilities(self, source_id: str) -> dict[str, float]:
        """Each candidate's probability after learning (what the app shows)."""
        item = self._by_id[source_id]
        return {c.target_id: self._adjusted(item, c) for c in item.candidates}

    def queue(self, among: Iterable[str] | None = None) -> list[str]:
        """Undecided source ids, most in need of a look first. Without learning the order is fixed
        when the state is made (the first pass's priorities); with it, it follows every decision."""
        allowed = set(among) if among is not None else None
        if self.learning:
            order = sorted(self._answers, key=lambda s: (-self.priority(s), self._by_id[s].position))
        else:
            order = self._static_order or []
        return [s for s in order if s not in self.decisions and (allowed is None or s in allowed)]

    def priority(self, source_id: str) -> float:
        answer = self._answers[source_id]
        shared = CONFLICT_BONUS if answer.target_id and self._claims.get(answer.target_id, 0) > 1 else 0.0
        return (answer.p_wrong + shared) * (1.0 + self._by_id[source_id].impact)

    # -- learning ------------------------------------------------------------------------------
    def _refresh(self) -> None:
        # decisions indexed by source position and by target, so a refresh stays linear in the items
        # (565 BPD items × 20 candidates on the corpus, after every decision)
        self._decided_at = {self._by_id[s].position: t for s, t in self.decisions.items()}
        self._claimed_from: dict[str, list[int]] = {}
        for sid, target in self.decisions.items():
            if target is not None:
                self._claimed_from.setdefault(target, []).append(self._by_id[sid].position)
        if self.learning:
            self._calibration = self._recalibrate()
        answers = {item.source_id: self._answer(item) for item in self.items}
        self._answers = answers
        self._claims = {}
        for a in answers.values():
            if a.target_id and not a.decided:
                self._claims[a.target_id] = self._claims.get(a.target_id, 0) + 1
        if self._static_order is None:
            self._static_order = sorted(answers, key=lambda s: (-self.priority(s), self._by_id[s].position))

    def _answer(self, item: ReviewItem) -> Answer:
        if item.source_id in self.decisions:
            return Answer(self.decisions[item.source_id], 0.0, decided=True)
        adjusted = {c.target_id: self._adjusted(item, c) for c in item.candidates}
        moved = any(abs(adjusted[c.target_id] - c.p) > 1e-9 for c in item.candidates)
        best = max(adjusted, key=adjusted.get, default=None)
        if not moved:  # nothing learnt about this item: the run's answer stands
            target = item.proposed
        else:
            target = best if best is not None and adjusted[best] >= item.threshold else None
        if target is not None:
            p_wrong = 1.0 - adjusted.get(target, 0.0)
        else:
            p_wrong = adjusted[best] if best is not None else 0.0
        return Answer(target, p_wrong, changed=target != item.proposed)

    def _adjusted(self, item: ReviewItem, c: Candidate) -> float:
        if not self.learning or not self.decisions:
            return c.p
        a, b = self._calibration
        z = a * _logit(c.p) + b
        near, far = self._decided_onto(c.target_id, item)
        if far and not near:
            z -= CLAIMED_PENALTY
        z += NEIGHBOUR_BONUS * self._neighbour_support(item, c.target_id)
        return _sigmoid(z)

    def _decided_onto(self, target_id: str, item: ReviewItem) -> tuple[bool, bool]:
        """Whether a decided source near `item` (within the neighbour window) and one far from it
        were decided onto `target_id`."""
        steps = [abs(pos - item.position) for pos in self._claimed_from.get(target_id, ()) if pos != item.position]
        return any(s <= NEIGHBOUR_WINDOW for s in steps), any(s > NEIGHBOUR_WINDOW for s in steps)

    def _neighbour_support(self, item: ReviewItem, target_id: str) -> float:
        """1 when a decided neighbour's target is this candidate, less the further it lies from it."""
        where = self.target_positions.get(target_id)
        if where is None:
            return 0.0
        best = 0.0
        for step in range(-NEIGHBOUR_WINDOW, NEIGHBOUR_WINDOW + 1):
            decided = self._decided_at.get(item.position + step)
            if step == 0 or decided is None or decided not in self.target_positions:
                continue
            distance = abs(where - self.target_positions[decided])
            if distance <= TARGET_SLACK:
                best = max(best, 1.0 - distance / (TARGET_SLACK + 1))
        return best

    def _recalibrate(self) -> tuple[float, float]:
        """Slope and intercept on the verifier's logit, from whether each decided item's best
        candidate was the one decided; a Gaussian prior at (1, 0) worth PRIOR_WEIGHT decisions."""
        rows = []
        for sid, decided in self.decisions.items():
            item = self._by_id[sid]
            if item.candidates:
                best = max(item.candidates, key=lambda c: c.p)
                rows.append((_logit(best.p), 1.0 if best.target_id == decided else 0.0))
        a, b = 1.0, 0.0
        if not rows:
            return a, b
        for _ in range(20):  # Newton steps on the penalised log-likelihood (2 parameters)
            ga, gb = -PRIOR_WEIGHT * (a - 1.0), -PRIOR_WEIGHT * b
            haa, hab, hbb = PRIOR_WEIGHT, 0.0, PRIOR_WEIGHT
            for x, y in rows:
                p = _sigmoid(a * x + b)
                w = p * (1 - p)
                ga += (y - p) * x
                gb += y - p
                haa += w * x * x
                hab += w * x
                hbb += w
            det = haa * hbb - hab * hab
            da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
            a, b = max(a + da, 0.05), b + db
            if abs(da) + abs(db) < 1e-6:
                break
        return a, b
