"""The comparison workbook (`workbook.xlsx`, openpyxl): what analysts work in.

A sheet per crosswalk with the analyst's columns plus status, confidence and
reasoning; frozen header, filters, wrapped text, column widths, colours by status
and impact, a Disposition drop-down; then Exceptions, Proposed Target AA, Summary
and Run sheets.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..text import xlsx_text
from .columns import PROPOSAL_COLUMNS
from .review import ReviewData, ReviewRow

CROSSWALK_COLUMNS = (
    ("Section", 10), ("Provision Type", 16), ("Source Text/Selection", 60), ("Target Text/Selection", 60),
    ("Variance Type", 14), ("Impact", 10), ("Owner", 14), ("Due Date", 12), ("Notes/Recommended Action", 40),
    ("Disposition", 14), ("Evidence Link", 26), ("Status", 11), ("Confidence", 11), ("Reasoning", 50),
    ("Source ID", 18), ("Target ID", 18), ("Target Section", 12), ("Alternates", 20), ("Confirmation", 14),
    ("Matcher Target ID", 18),
)
DISPOSITIONS = ("Accept", "Accept with note", "Reject", "Needs review", "Escalate")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
STATUS_COLOURS = {"match": "D9F2D9", "partial": "FFF2CC", "abstain": "FCE4D6", "no_match": "F4CCCC", "error": "E06666"}
IMPACT_COLOURS = {"high": "F4CCCC", "medium": "FCE4D6", "low": "FFF2CC", "none": "D9F2D9"}
MAX_CELL = 32000  # Excel's cell limit is 32,767 characters


def _cell_text(value: str) -> str:
    return value if len(value) <= MAX_CELL else value[:MAX_CELL] + " …"


def put_cell(ws: Worksheet, row: int, column: int, value: object):
    """Write one cell. Document text is data: a string is always stored as a string (openpyxl would
    store "=HYPERLINK(…)" as a live formula) and loses the characters Excel cannot hold."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = xlsx_text(_cell_text(value))
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def _header(ws: Worksheet, columns) -> None:
    for col, (name, width) in enumerate(columns, 1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"


def _colour_by(ws: Worksheet, column: str, colours: dict[str, str], last_row: int) -> None:
    """Conditional fill of a whole row by the text in one column (so sorting keeps colours right)."""
    area = f"A2:{get_column_letter(ws.max_column)}{max(last_row, 2)}"
    for value, colour in colours.items():
        ws.conditional_formatting.add(area, FormulaRule(formula=[f'${column}2="{value}"'],
                                                        fill=PatternFill("solid", bgColor=colour)))


def _crosswalk_sheet(wb: Workbook, title: str, rows: list[ReviewRow], due: str) -> None:
    ws = wb.create_sheet(title)
    _header(ws, CROSSWALK_COLUMNS)
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, 2):
        disposition = "Accept" if row.reviewed else ""  # a reviewer's decision is already a disposition
        values = (row.section, row.provision_type, _cell_text(f"{row.source_title}\n{row.source_text}".strip()),
                  _cell_text(f"{row.target_title}\n{row.target_text}".strip()), row.variance_type, row.impact,
                  "Unassigned", due, row.recommended_action, disposition, row.evidence_link, row.status,
                  round(row.confidence, 3), row.reasoning, row.source_id, row.target_id or "", row.target_section,
                  "; ".join(row.alternates), row.confirmation, row.matcher_target_id)
        for c, value in enumerate(values, 1):
            put_cell(ws, r, c, value).alignment = wrap
    last = len(rows) + 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(CROSSWALK_COLUMNS))}{last}"
    validation = DataValidation(type="list", formula1='"' + ",".join(DISPOSITIONS) + '"', allow_blank=True)
    validation.add(f"J2:J{max(last, 2)}")
    ws.add_data_validation(validation)
    _colour_by(ws, "L", STATUS_COLOURS, last)   # Status column colours the row
    for value, colour in IMPACT_COLOURS.items():  # Impact cell itself by impact
        ws.conditional_formatting.add(f"F2:F{max(last, 2)}", FormulaRule(formula=[f'$F2="{value}"'],
                                                                         fill=PatternFill("solid", bgColor=colour)))


def _table_sheet(wb: Workbook, title: str, rows: list[dict], columns: list[str], widths: dict[str, int]) -> None:
    ws = wb.create_sheet(title)
    _header(ws, [(c, widths.get(c, 16)) for c in columns])
    for r, row in enumerate(rows, 2):
        for c, name in enumerate(columns, 1):
            value = row.get(name)
            if isinstance(value, (list, dict)):
                value = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else "; ".join(map(str, value))
            put_cell(ws, r, c, str(value) if value is not None else "").alignment = Alignment(wrap_text=True, vertical="top")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _summary_sheet(wb: Workbook, data: ReviewData) -> None:
    ws = wb.create_sheet("Summary", 0)
    _header(ws, [("Measure", 34), ("Value", 16)])
    lines: list[tuple[str, object]] = []
    for kind, rows in data.rows.items():
        lines.append((f"{kind.upper()} source items", len(rows)))
        for status in ("match", "partial", "abstain", "no_match", "error"):
            lines.append((f"{kind.upper()} {status}", sum(r.status == status for r in rows)))
    for status, n in sorted(data.confirmation_counts.items()):
        lines.append((f"Confirmation {status}", n))
    bpd = data.rows.get("bpd", [])
    for vt in ("administrative", "design", "regulatory"):
        lines.append((f"Variance {vt}", sum(r.variance_type == vt for r in bpd)))
    for impact in ("high", "medium", "low", "none"):
        lines.append((f"Impact {impact}", sum(r.impact == impact for r in bpd)))
    lines.append(("Open exceptions", len(data.exceptions)))
    lines.append(("API cost (USD)", data.metrics.get("cost_usd", 0.0)))
    lines.append(("Wall time (s)", data.metrics.get("wall_s", 0.0)))
    for r, (name, value) in enumerate(lines, 2):
        put_cell(ws, r, 1, name)
        put_cell(ws, r, 2, value)


def _run_sheet(wb: Workbook, data: ReviewData) -> None:
    ws = wb.create_sheet("Run")
    _header(ws, [("Key", 30), ("Value", 80)])
    run = data.run
    pairs: list[tuple[str, object]] = [("run_id", run.get("run_id")), ("crosswalk_version", run.get("crosswalk_version"))]
    pairs += [(f"setting: {k}", json.dumps(v) if isinstance(v, (dict, list)) else v)
              for k, v in run.get("settings", {}).items()]
    pairs += [(f"input: {k}", f"{v['path']} ({v['items']} items, sha256 {v['sha256'][:12]}…)")
              for k, v in run.get("inputs", {}).items() if v]
    for stage in data.metrics.get("stages", []):
        pairs.append((f"stage: {stage['operation']}",
                      f"{stage['duration_s']:.2f} s, {stage['items']} items, {stage['api_calls']} calls, "
                      f"{stage['tokens']} tokens, ${stage['cost_usd']:.4f}, cache hits {stage['cache_hits']}"))
    for r, (k, v) in enumerate(pairs, 2):
        put_cell(ws, r, 1, k)
        put_cell(ws, r, 2, str(v))


def write_workbook(data: ReviewData, path: Path) -> None:
    """Write `workbook.xlsx` for a finished run."""
    wb = Workbook()
    wb.remove(wb.active)
    due = (dt.date.today() + dt.timedelta(days=int(data.run.get("settings", {}).get("exception_due_days", 14)))).isoformat()
    for kind, rows in data.rows.items():
        _crosswalk_sheet(wb, f"{kind.upper()} Crosswalk", rows, due)
    from .columns import EXCEPTION_COLUMNS

    _table_sheet(wb, "Exceptions", data.exceptions, list(EXCEPTION_COLUMNS), {"Description": 60, "Evidence Link": 26})
    if data.proposals:
        _table_sheet(wb, "Proposed Target AA", data.proposals, list(PROPOSAL_COLUMNS),
                     {"question_text": 50, "proposed_text": 40, "source_value": 40, "flags": 50})
    _summary_sheet(wb, data)
    _run_sheet(wb, data)
    wb.save(path)
