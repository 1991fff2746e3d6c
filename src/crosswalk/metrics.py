"""Per-stage metrics (the design document's PerformanceMetrics) and their summary."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Iterator


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
    """All stages of a run, in the order they started."""

    stages: list[StageMetrics] = field(default_factory=list)

    @contextmanager
    def stage(self, operation: str, items: int = 0) -> Iterator[StageMetrics]:
        m = StageMetrics(operation=operation, start=time.time(), items=items)
        self.stages.append(m)
        try:
            yield m
        finally:
            m.end = time.time()

    def as_dict(self) -> dict:
        wall = (max(s.end for s in self.stages) - min(s.start for s in self.stages)) if self.stages else 0.0
        return {"wall_s": round(wall, 4), "cost_usd": round(sum(s.cost_usd for s in self.stages), 6),
                "api_calls": sum(s.api_calls for s in self.stages), "stages": [s.as_dict() for s in self.stages]}
