"""Reviewer decisions: mappings an analyst has settled, applied over the matcher's on every run.

A review ends with corrections: "this source provision is that target one", "this election has
no counterpart". Kept in a CSV (`source_id,target_id[,note]`; an empty `target_id`, or `none`,
says there is no counterpart) and passed with `--decisions`, they replace the matcher's verdict
for those items, so confirmation, the proposed target AA and the variances are built on them,
and a rerun (re-extracted documents, another threshold) keeps them. The file is an input like
the documents: its SHA-256 is part of the run id.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import InputError
from .models import Verdict
from .text import clean_id

NO_COUNTERPART = {"", "none", "no_match", "-"}
REVIEWER = "reviewer"  # the `verifier` of a decided verdict


@dataclass(frozen=True)
class Decision:
    source_id: str
    target_id: str | None  # None: the reviewer says the target has no counterpart
    note: str
    line: int              # line in the file, for error messages and the reasoning
    origin: str = ""       # where it was taken, when not a file's line: "the review app", another conversion


@dataclass(frozen=True)
class Decisions:
    """The decisions of one file, by source id."""

    path: Path | None  # None: the review app's decisions, from the store
    by_source: dict[str, Decision]

    def __len__(self) -> int:
        return len(self.by_source)

    def over(self, other: "Decisions | None") -> "Decisions":
        """These decisions, with `other`'s for the sources these do not decide."""
        if not other:
            return self
        return Decisions(self.path, {**other.by_source, **self.by_source})


def load_decisions(path: Path) -> Decisions:
    """Parse a decisions CSV, or a workbook an analyst filled in (`.xlsx`); anything malformed is an
    InputError naming the file and line (sheet and row for a workbook)."""
    if not Path(path).is_file():
        raise InputError(path, "file not found")
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        return Decisions(Path(path), read_workbook_decisions(Path(path)))
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a CSV saved by Excel starts with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read decisions: {exc}") from None
    if "\x00" in text:
        raise InputError(path, "holds a NUL byte: not a text CSV", item=f"line {text[:text.index(chr(0))].count(chr(10)) + 1}")
    reader = csv.reader(io.StringIO(text))
    try:
        return Decisions(Path(path), _read_rows(path, reader))
    except csv.Error as exc:  # e.g. a field larger than the csv module's limit (128 KB)
        raise InputError(path, f"not a readable CSV: {exc}", item=f"line {reader.line_num}") from None


def _read_rows(path: Path, reader) -> dict[str, "Decision"]:
    header = next(reader, [])
    names = [clean_id(name).lower() for name in header]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise InputError(path, f"column {twice[0]!r} appears more than once in the header", item="line 1")
    if not {"source_id", "target_id"} <= set(names):
        raise InputError(path, "a decisions file needs the columns source_id and target_id "
                               f"(found: {', '.join(n for n in names if n) or 'none'})")
    columns = {name: i for i, name in enumerate(names)}
    by_source: dict[str, Decision] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) <= columns["target_id"]:
            raise InputError(path, "the row has no target_id cell (leave it empty, or write none, for "
                                   "'no counterpart')", item=f"line {line}")
        source, target, note = (_cell(row, columns.get(name)) for name in ("source_id", "target_id", "note"))
        if not source:
            raise InputError(path, "source_id is empty", item=f"line {line}")
        if source in by_source:
            twice = f"source {source!r} is decided twice (lines {by_source[source].line} and {line})"
            raise InputError(path, twice, item=f"line {line}")
        by_source[source] = Decision(source, None if target.lower() in NO_COUNTERPART else target, note, line)
    return by_source


def _cell(row: list[str], column: int | None) -> str:
    """A cell as an id or note: cleaned and trimmed like document ids, so "A1 " is "A1"."""
    return clean_id(row[column]) if column is not None and column < len(row) else ""


def apply_decisions(verdicts: list[Verdict], decisions: Decisions | None, target_ids: Iterable[str],
                    target_name: str) -> list[Verdict]:
    """The verdicts with every decided source's replaced by the reviewer's (a decided target must
    be an item of the target document `target_name`)."""
    if not decisions:
        return verdicts
    targets = set(target_ids)
    out = []
    for verdict in verdicts:
        decision = decisions.by_source.get(verdict.source_id)
        if decision is None:
            out.append(verdict)
            continue
        if decision.target_id is not None and decision.target_id not in targets:
            raise InputError(decisions.path, f"target {decision.target_id!r} is not an item of {target_name}",
                             item=f"line {decision.line}")
        out.append(decided_verdict(decision, verdict, decisions.path.name if decisions.path else ""))
    return out


def decided_verdict(decision: Decision, proposed: Verdict, file_name: str) -> Verdict:
    """The reviewer's verdict; its reasoning keeps what the matcher had proposed, so a review can
    see where the two disagreed."""
    if proposed.target_id:
        matcher = f"the matcher proposed {proposed.target_id} ({proposed.status}, {proposed.confidence:.2f})"
    else:
        matcher = f"the matcher answered {proposed.status}"
    agrees = proposed.target_id == decision.target_id
    where = decision.origin or f"{file_name} line {decision.line}"
    reasoning = (f"Reviewer decision ({where})"
                 + (f": {decision.note}" if decision.note else "")
                 + f". {matcher[0].upper()}{matcher[1:]}" + (" too." if agrees else "."))
    return Verdict(source_id=decision.source_id, target_id=decision.target_id,
                   status="match" if decision.target_id else "no_match", confidence=1.0, reasoning=reasoning,
                   scores=proposed.scores if agrees else {}, verifier=REVIEWER)


def check_decided_sources(decisions: Decisions | None, source_ids: Iterable[str]) -> None:
    """Raise for the first decision whose source is not an item of any source document of the run."""
    if not decisions:
        return
    known = set(source_ids)
    for decision in decisions.by_source.values():
        if decision.source_id not in known:
            raise InputError(decisions.path, f"source {decision.source_id!r} is not an item of the source documents",
                             item=f"line {decision.line}")


# -- the workbook round trip -------------------------------------------------------------------------
# What each Disposition means when a filled `workbook.xlsx` is read back (README, "Review"):
ACCEPTING = {"accept", "accept with note"}   # the row's Target ID as it stands (blank or none: no counterpart)
REJECTING = {"reject"}                       # another Target ID typed in, or else "no counterpart"
UNDECIDED = {"", "needs review", "escalate"}  # no decision yet
WORKBOOK_SHEETS = ("BPD Crosswalk", "AA Crosswalk")


def read_workbook_decisions(path: Path) -> dict[str, Decision]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise InputError(path, f"not a readable workbook: {exc}") from None
    by_source: dict[str, Decision] = {}
    try:
        sheets = [name for name in WORKBOOK_SHEETS if name in wb.sheetnames]
        if not sheets:
            raise InputError(path, "no 'BPD Crosswalk' or 'AA Crosswalk' sheet (a workbook written by crosswalk)")
        for name in sheets:
            _sheet_decisions(path, name, wb[name].iter_rows(values_only=True), by_source)
    finally:
        wb.close()
    return by_source


def _sheet_decisions(path: Path, sheet: str, rows, by_source: dict[str, Decision]) -> None:
    header = [clean_id(str(c or "")).lower() for c in next(rows, ())]
    need = {"source id", "target id", "disposition"}
    if not need <= set(header):
        raise InputError(path, f"sheet {sheet!r} needs the columns Source ID, Target ID and Disposition")
    col = {name: header.index(name) for name in header if name}
    for number, row in enumerate(rows, 2):
        cell = lambda name: clean_id(str(row[col[name]])) if name in col and col[name] < len(row) and row[col[name]] is not None else ""
        disposition = cell("disposition").lower()
        where = f"sheet {sheet!r} row {number}"
        if disposition in UNDECIDED:
            continue
        if disposition not in ACCEPTING | REJECTING:
            raise InputError(path, f"unknown Disposition {cell('disposition')!r} (use Accept, Accept with note, "
                                   "Reject, Needs review or Escalate)", item=where)
        source, target = cell("source id"), cell("target id")
        if not source:
            raise InputError(path, "Source ID is empty", item=where)
        if disposition in REJECTING and target == cell("matcher target id"):
            target = ""  # rejected and no other target typed in: no counterpart
        if source in by_source:
            raise InputError(path, f"source {source!r} is decided twice", item=where)
        note = cell("notes/recommended action") if disposition == "accept with note" else ""
        by_source[source] = Decision(source, None if target.lower() in NO_COUNTERPART else target,
                                     note, number, f"{path.name} {where}")
