"""What every benchmark script shares: its command line and where the shared corpus is."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def parse_args(doc: str, *extra: tuple[str, dict]) -> argparse.Namespace:
    """`--shared DIR` (default ../shared beside the checkout), `--json`, and any extra flags."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    for flag, options in extra:
        ap.add_argument(flag, **options)
    return ap.parse_args()


def corpus_missing(shared: Path) -> bool:
    """True (and says so) when the shared corpus is not there: a fresh clone has none."""
    if (shared / "corpus").is_dir():
        return False
    print(f"skipped: no shared corpus at {shared}")
    return True


def window_bound_min(amount: float, per_minute: float, latency_s: float) -> float:
    """Least time to send `amount` (tokens or requests) under a one-minute sliding window of
    `per_minute` that starts empty: the first minute's worth goes at once, each further
    minute's worth a minute later, and the last call still takes its latency.

    (amount / per_minute overstates it by up to a minute: a run whose tokens fit in one
    window is bound by latencies and local work, not by the limit.)"""
    if amount <= per_minute:
        return 0.0
    return math.ceil(amount / per_minute) - 1 + latency_s / 60.0
