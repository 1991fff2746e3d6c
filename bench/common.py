"""What every benchmark script shares: its command line and where the shared corpus is."""

from __future__ import annotations

import argparse
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
