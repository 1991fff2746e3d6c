"""Writing a run's outputs: crosswalk JSON and CSV, run.json, metrics.json, then the reports.

Everything is written into a temporary folder inside OUT and renamed into place at
the end (`outdir.OutputFolder`), so an interrupted or failed run never leaves OUT
half-written and never deletes what crosswalk did not write. JSON outputs hold the
text exactly; CSV cells that a spreadsheet would run as a formula get a leading
single quote (`text.csv_cell`). A failing workbook or HTML writer is reported and
costs nothing else: the crosswalk JSON/CSV are written first.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from ..models import Crosswalk
from ..text import csv_cell
from .columns import CONFIRMATION_COLUMNS, EXCEPTION_COLUMNS, PROPOSAL_COLUMNS, VARIANCE_COLUMNS

CSV_COLUMNS = ("source_id", "target_id", "alternates", "status", "confidence", "reasoning", "scores", "option_mapping",
               "reviewed")


def write_json(path: Path, data: Any) -> None:
    # backslashreplace: a lone surrogate that got past the import boundary is written as its
    # JSON escape (\udXXX) instead of crashing the writer
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", errors="backslashreplace")


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
    with _csv_file(out / f"{cw.kind}_crosswalk.csv") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for m in cw.mappings:
            _write_row(writer, {
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


def _csv_file(path: Path):
    return open(path, "w", newline="", encoding="utf-8", errors="backslashreplace")


def _write_row(writer: csv.DictWriter, row: dict) -> None:
    writer.writerow({k: csv_cell(v) for k, v in row.items()})


def status_counts(cw: Crosswalk) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in cw.mappings:
        counts[m.status] = counts.get(m.status, 0) + 1
    return counts


def write_csv(path: Path, rows: list[dict], columns: tuple[str, ...] | list[str]) -> None:
    """Rows as CSV; lists and dicts are flattened to readable text."""
    with _csv_file(path) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            _write_row(writer, {k: _flat(row.get(k)) for k in columns})


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value




def write_instance(out: Path, instance: Any) -> None:
    """Step 3 and 4 outputs: confirmations, proposed target AA, variances, exception log."""
    confirmations = [c.model_dump(mode="json") for c in instance.confirmations]
    write_json(out / "confirmations.json", {
        "confirmations": confirmations,
        "election_links": {"source": _links(instance.source_links), "target": _links(instance.target_links)},
    })
    flat = [{**c, "depends_on": [f"{d['election_id']} ({d['method']})" for d in c["depends_on"]]} for c in confirmations]
    write_csv(out / "confirmations.csv", flat, CONFIRMATION_COLUMNS)
    proposals = [p.model_dump(mode="json") for p in instance.proposals]
    write_json(out / "proposed_target_aa.json", {"proposals": proposals})
    write_csv(out / "proposed_target_aa.csv", proposals, PROPOSAL_COLUMNS)
    variances = [v.model_dump(mode="json") for v in instance.variances]
    write_json(out / "variances.json", {"variances": variances})
    write_csv(out / "variances.csv", variances, VARIANCE_COLUMNS)
    write_csv(out / "exception_log.csv", instance.exceptions, EXCEPTION_COLUMNS)
    # the reports read this one: the CSV's cells are made formula-safe, the JSON keeps the text exact
    write_json(out / "exception_log.json", {"exceptions": instance.exceptions})


def _links(links: dict) -> dict:
    return {pid: [link.model_dump(mode="json") for link in items] for pid, items in links.items() if items}


def count_by(items: list, attribute: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        key = getattr(item, attribute)
        counts[key] = counts.get(key, 0) + 1
    return counts


def write_reports(out: Path, data=None) -> dict[str, str]:
    """(Re)build workbook.xlsx and report.html in `out`: from `data` (a run's `ReviewData`, built in
    memory), or read back from the run outputs already in `out`.

    Each file is written beside its final name and renamed, so a failure never leaves a
    half-written report. A writer that fails is skipped, not fatal: the result maps each
    failed report's name to what went wrong (empty when both were written).
    """
    from .html import write_html
    from .review import load_review
    from .workbook import write_workbook

    data = data if data is not None else load_review(out)
    failed: dict[str, str] = {}
    for name, writer in (("workbook.xlsx", write_workbook), ("report.html", write_html)):
        tmp = out / f".{name}.tmp"
        try:
            writer(data, tmp)
            os.replace(tmp, out / name)
        except Exception as exc:  # one report's bug must not cost the crosswalk already written
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()
            failed[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return failed
