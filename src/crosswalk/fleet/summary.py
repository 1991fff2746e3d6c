"""The fleet summary: one row per plan, as JSON, CSV, a workbook and an HTML page in OUT.

Plan names and failure reasons come from file names and documents: they are data (CSV cells
made formula-safe, workbook cells stored as strings, HTML escaped)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from jinja2 import Environment, select_autoescape

from ..report import write_json
from ..text import csv_cell
from .manifest import Plan

COLUMNS = ("plan", "status", "reason", "answered", "unlinked_answers", "exceptions", "design_variances",
           "regulatory_variances", "administrative_variances", "seconds", "worker", "file")


def summary_row(plan: Plan, outcome) -> dict:
    s = outcome.summary or {}
    variances = s.get("variance", {})
    fleet = s.get("fleet", {})
    return {"plan": plan.name, "status": outcome.status, "reason": outcome.error,
            "answered": fleet.get("answered", ""), "unlinked_answers": len(fleet.get("unlinked_answers", [])) if fleet else "",
            "exceptions": s.get("exceptions", ""), "design_variances": variances.get("design", 0 if s else ""),
            "regulatory_variances": variances.get("regulatory", 0 if s else ""),
            "administrative_variances": variances.get("administrative", 0 if s else ""),
            "seconds": round(outcome.seconds, 2), "worker": outcome.worker, "file": str(plan.path)}


def counts(rows: list[dict]) -> dict[str, int]:
    out = {"plans": len(rows)}
    for status in ("finished", "skipped", "failed"):
        out[status] = sum(r["status"] == status for r in rows)
    return out


def write_summary(out: Path, rows: list[dict]) -> None:
    """Each file written beside its name and renamed: a summary is never half-written."""
    for name, writer in (("fleet_summary.json", _json), ("fleet_summary.csv", _csv),
                         ("fleet_summary.xlsx", _workbook), ("fleet.html", _html)):
        tmp = out / f".{name}.tmp"
        writer(tmp, rows)
        os.replace(tmp, out / name)


def _json(path: Path, rows: list[dict]) -> None:
    write_json(path, {"counts": counts(rows), "plans": rows})


def _csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(row[k]) for k in COLUMNS})


def _workbook(path: Path, rows: list[dict]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..report.workbook import put_cell

    wb = Workbook()
    ws = wb.active
    ws.title = "Fleet"
    for col, name in enumerate(COLUMNS, 1):
        put_cell(ws, 1, col, name).font = Font(bold=True)
    for r, row in enumerate(rows, 2):
        for col, name in enumerate(COLUMNS, 1):
            put_cell(ws, r, col, row[name])
    ws.freeze_panes = "A2"
    wb.save(path)


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>crosswalk fleet</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;
padding:3px 8px;text-align:left}.failed{background:#f4cccc}.skipped{color:#666}</style></head><body>
<h1>Fleet: {{ counts.plans }} plans</h1>
<p>{{ counts.finished }} finished, {{ counts.skipped }} finished earlier (skipped), {{ counts.failed }} failed.</p>
<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for r in rows %}<tr class="{{ r.status }}">{% for c in columns %}<td>{% if c == 'plan' and r.status != 'failed' %}<a
href="{{ r.plan }}/report.html">{{ r.plan }}</a>{% else %}{{ r[c] }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>
"""


def _html(path: Path, rows: list[dict]) -> None:
    env = Environment(autoescape=select_autoescape(default_for_string=True, default=True))
    html = env.from_string(PAGE).render(rows=rows, columns=COLUMNS, counts=counts(rows))
    path.write_text(html, encoding="utf-8", errors="backslashreplace")
