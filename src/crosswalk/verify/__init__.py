"""Verification: deciding, for each source item, which candidate (if any) is its counterpart.

`Verifier` is the protocol; `LocalVerifier` (features + a small logistic model
trained on the dev labels) is the embedded default.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from ..models import Verdict
from .features import CandidateSet


class Verifier(Protocol):
    """Turns each source item's candidate set into a verdict."""

    name: str

    async def verify(self, candidate_sets: Sequence[CandidateSet]) -> list[Verdict]: ...
