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

CSV_COLUMNS = ("source_id", "target_id", "alternates", "status", "confidence", "reasoning", "scores", "option_mapping",
               "reviewed")


@contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a fresh temp dir beside `out`; on success it replaces `out`, on failure it is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; OUT is an ordinary directory
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
                "reviewed": "yes" if m.reviewed else "",
            })


def status_counts(cw: Crosswalk) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in cw.mappings:
        counts[m.status] = counts.get(m.status, 0) + 1
    return counts


def write_csv(path: Path, rows: list[dict], columns: tuple[str, ...] | list[str]) -> None:
    """Rows as CSV; lists and dicts are flattened to readable text."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _flat(row.get(k)) for k in columns})


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


CONFIRMATION_COLUMNS = ("source_id", "target_id", "status", "confidence", "rule", "depends_on", "missing", "incompatible")
PROPOSAL_COLUMNS = ("target_id", "question_number", "question_text", "status", "proposed_value", "proposed_text",
                    "fill_ins", "source_id", "source_value", "confidence", "flags")
VARIANCE_COLUMNS = ("source_id", "target_id", "confirmation", "relation", "variance_type", "impact", "rule",
                    "differences", "source_text", "target_text")


def write_instance(out: Path, instance: Any) -> None:
    """Step 3 and 4 outputs: confirmations, proposed target AA, variances, exception log."""
    from ..merge import EXCEPTION_COLUMNS

    confirmations = [c.as_dict() for c in instance.confirmations]
    write_json(out / "confirmations.json", {
        "confirmations": confirmations,
        "election_links": {"source": _links(instance.source_links), "target": _links(instance.target_links)},
    })
    flat = [{**c, "depends_on": [f"{d['election_id']} ({d['method']})" for d in c["depends_on"]]} for c in confirmations]
    write_csv(out / "confirmations.csv", flat, CONFIRMATION_COLUMNS)
    proposals = [p.as_dict() for p in instance.proposals]
    write_json(out / "proposed_target_aa.json", {"proposals": proposals})
    write_csv(out / "proposed_target_aa.csv", proposals, PROPOSAL_COLUMNS)
    variances = [v.as_dict() for v in instance.variances]
    write_json(out / "variances.json", {"variances": variances})
    write_csv(out / "variances.csv", variances, VARIANCE_COLUMNS)
    write_csv(out / "exception_log.csv", instance.exceptions, EXCEPTION_COLUMNS)


def _links(links: dict) -> dict:
    return {pid: [vars(link) for link in items] for pid, items in links.items() if items}


def count_by(items: list, attribute: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        key = getattr(item, attribute)
        counts[key] = counts.get(key, 0) + 1
    return counts


def write_reports(out: Path) -> None:
    """(Re)build workbook.xlsx and report.html from the run outputs already in `out`.

    Each file is written beside its final name and renamed, so a failure never
    leaves a half-written report.
    """
    from .html import write_html
    from .review import load_review
    from .workbook import write_workbook

    data = load_review(out)
    for name, writer in (("workbook.xlsx", write_workbook), ("report.html", write_html)):
        tmp = out / f".{name}.tmp"
        writer(data, tmp)
        os.replace(tmp, out / name)
