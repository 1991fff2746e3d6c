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


def gold_by_kind(paths, source_ids: dict[str, set[str]]) -> dict[str, tuple[Path, dict]]:
    """Labels given on the command line, split by the source document whose items they are (a file
    may hold one kind or both): kind → (file, {source id: gold item}). A bad row, a file with no id of
    either document, or a kind given twice stops the benchmark with one line (exit 2)."""
    from crosswalk.errors import CrosswalkError
    from crosswalk.evaluate import load_gold

    out: dict[str, tuple[Path, dict]] = {}
    for path in paths:
        try:
            gold = load_gold(path)
        except CrosswalkError as exc:
            _fail(str(exc))
        kinds = {kind: {sid: item for sid, item in gold.items() if sid in ids} for kind, ids in source_ids.items()}
        kinds = {kind: part for kind, part in kinds.items() if part}
        if not kinds:
            _fail(f"{path}: no id is a source item of the corpus documents")
        for kind, part in kinds.items():
            if kind in out:
                _fail(f"{path}: {kind} labels were already given in {out[kind][0]}")
            out[kind] = (Path(path), part)
        unknown = len(gold) - sum(len(part) for part in kinds.values())
        if unknown:
            print(f"note: {path}: {unknown} labelled ids are items of neither source document; left out",
                  file=sys.stderr)
    return out


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
