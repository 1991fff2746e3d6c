"""Vector helpers every stage shares (kept at the bottom so embedders, providers and candidates
can all use them without importing one another)."""

from __future__ import annotations

import numpy as np


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (an all-zero row stays zero): cosines become dot products."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
