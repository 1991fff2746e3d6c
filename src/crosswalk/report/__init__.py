"""Writing a run's outputs: crosswalk JSON and CSV, run.json, metrics.json.

Everything is written into a temporary directory next to OUT and renamed into
place at the end, so an interrupted or failed run never leaves OUT half-written.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator
from contextlib import contextmanager

from ..models import Crosswalk

CSV_COLUMNS = ("source_id", "target_id", "alternates", "status", "confidence", "reasoning", "scores", "option_mapping")


@contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a fresh temp dir beside `out`; on success it replaces `out`, on failure it is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def crosswalk_payload(cw: Crosswalk) -> dict:
    """The stable JSON shape other tools read (see README, 'Output format')."""
    return {
        "kind": cw.kind,
        "source_document": cw.source_document,
        "target_document": cw.target_document,
        "run": cw.run,
        "mappings": [m.model_dump(mode="json") for m in cw.mappings],
    }


def write_crosswalk(out: Path, cw: Crosswalk) -> None:
    """`<kind>_crosswalk.json` and `<kind>_crosswalk.csv`."""
    write_json(out / f"{cw.kind}_crosswalk.json", crosswalk_payload(cw))
    with open(out / f"{cw.kind}_crosswalk.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for m in cw.mappings:
            writer.writerow({
                "source_id": m.source_id,
                "target_id": m.target_id or "",
                "alternates": ";".join(m.alternates),
                "status": m.status,
                "confidence": f"{m.confidence:.4f}",
                "reasoning": m.reasoning,
                "scores": json.dumps(m.scores, sort_keys=True),
                "option_mapping": "; ".join(
                    f"{o.source_label or '-'}→{o.target_label or '-'} ({o.change})" for o in m.option_mapping),
            })


def status_counts(cw: Crosswalk) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in cw.mappings:
        counts[m.status] = counts.get(m.status, 0) + 1
    return counts
