"""Per-stage metrics (the original design's PerformanceMetrics) and their summary."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator


@dataclass
class StageMetrics:
    """Time, volume and API usage of one stage of one run."""

    operation: str
    start: float = 0.0
    end: float = 0.0
    items: int = 0
    api_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    cache_hits: int = 0
    errors: int = 0
    retries: int = 0
    rate_limit_hits: int = 0
    max_concurrency: int = 1
    configured_concurrency: int = 1
    avg_concurrency: float = 0.0

    @property
    def duration_s(self) -> float:
        return max(self.end - self.start, 0.0)

    @property
    def items_per_s(self) -> float:
        return self.items / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(duration_s=round(self.duration_s, 4), items_per_s=round(self.items_per_s, 2))
        return d


@dataclass
class RunMetrics:
    """All stages of a run, in the order they started.

    `on_event(operation, info)` hears of each stage starting (`info["state"] == "running"`)
    and finishing (`"done"`, or `"stopped"` when it was cancelled or failed): progress displays
    and the store's run record use it.
    """

    stages: list[StageMetrics] = field(default_factory=list)
    on_event: Callable[[str, dict], None] | None = None

    @contextmanager
    def stage(self, operation: str, items: int = 0) -> Iterator[StageMetrics]:
        m = StageMetrics(operation=operation, start=time.time(), items=items)
        self.stages.append(m)
        self._emit(m, "running")
        try:
            yield m
        except BaseException:  # cancelled (Ctrl-C) or failed: never reported, or stored, as done
            m.end = time.time()
            self._emit(m, "stopped")
            raise
        m.end = time.time()
        self._emit(m, "done")

    def _emit(self, m: StageMetrics, state: str) -> None:
        if self.on_event is not None:
            self.on_event(m.operation, {**m.as_dict(), "state": state})

    def as_dict(self) -> dict:
        wall = (max(s.end for s in self.stages) - min(s.start for s in self.stages)) if self.stages else 0.0
        return {"wall_s": round(wall, 4), "cost_usd": round(sum(s.cost_usd for s in self.stages), 6),
                "api_calls": sum(s.api_calls for s in self.stages), "stages": [s.as_dict() for s in self.stages]}


BOTTLENECK_SHARE = 0.40


def recommendation(m: StageMetrics) -> str:
    """What to change for a slow stage, from its measured signals (the original design's rules)."""
    if m.rate_limit_hits > 0:
        return (f"rate limits were hit {m.rate_limit_hits} times: the account's RPM/TPM bound this stage; "
                "raise the limits, send fewer tokens (two-stage verification, fewer candidates) or lower max_concurrency")
    if m.api_calls and m.configured_concurrency > 1 and m.avg_concurrency < 0.5 * m.configured_concurrency:
        return (f"concurrency under-used (average {m.avg_concurrency:.1f} of {m.configured_concurrency}): "
                "batch more work per call or start more items at once")
    if m.items and m.items_per_s < 1.0:
        return "low throughput (under 1 item/s): cache results or pre-filter candidates"
    return "performance is acceptable"


def bottlenecks(run: RunMetrics) -> list[dict]:
    """Stages taking more than 40% of the run's wall time, each with a recommendation."""
    if not run.stages:
        return []
    wall = max(s.end for s in run.stages) - min(s.start for s in run.stages)
    if wall <= 0:
        return []
    out = []
    for m in run.stages:
        share = m.duration_s / wall
        if share > BOTTLENECK_SHARE:
            out.append({"operation": m.operation, "time_share": round(share, 3), "recommendation": recommendation(m)})
    return out
