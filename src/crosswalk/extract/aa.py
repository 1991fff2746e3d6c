"""AA parsing: paragraphs to questions, options and fill-ins.

Numbered questions ("1.01", "B.02", "17."), options lettered or numbered with a checkbox before or
after the label (glyphs, "[ ]"/"[X]", drawn boxes and form fields arrive as "[ ]"/"[X]"), nested
options ("(1)", "i.") under an option as "c.1", grids (a box under each column heading) as "e.1",
"e.2", ... under the row, fill-in blanks with typed values, section headings in capitals as context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import InputError
from ..models import Document, Election, ElectionOption, FillIn
from .layout import Line, PdfText, page_summary
from .paragraphs import ends_sentence, is_title, join_lines, paragraph_starts

QUESTION = re.compile(r"^(?:Question\s+)?((?:[A-Z]\.)?\d{1,2}(?:\.\d{1,3}[a-z]?)?(?:\.[A-Za-z]{1,3})?|[A-Z](?=\.))[.)]?\s+(\S.*)$")
BOX = r"\[\s*[xX✓✔?]?\s*\]|☐|☒|☑|✓|✔|□|■"
OPTION = re.compile(rf"^\(?([a-z]|\d{{1,2}})[.)]\s*({BOX})?\s*(.*)$")
BOX_FIRST = re.compile(rf"^({BOX})\s*(?:\(?([a-z]|\d{{1,2}})[.)]\s+)?(.*)$")
NESTED = re.compile(rf"^(?:\((\d{{1,2}}|[ivx]{{1,4}})\)|(\d{{1,2}}|[ivx]{{1,4}})\.)\s*({BOX})?\s*(.*)$")
BOX_TOKEN = re.compile(BOX)
INLINE_ANSWER_CHARS = 40  # boxes side by side on a line are answers only when each is this short
TRAILING_LABEL = re.compile(r"(?:^|\s)\(?(?:[a-z]|\d{1,2})[.)]\s*$")
SELECTED = {"[x]", "[X]", "☒", "☑", "✓", "✔", "[✓]", "[✔]", "■"}
# A blank, empty ("______") or holding a typed value set against its underscores ("__6%__"): a value
# never starts or ends with a space, so "_____ percent per payroll ... of _____" is two empty blanks
# with words between them, not one blank holding those words.
TYPED_VALUE = r"[^_\s](?:[^_\n]*?[^_\s])?"
BLANK = re.compile(rf"_{{2,}}({TYPED_VALUE})_{{2,}}|_{{3,}}")
# A row that opens with a quantity, not a question number: "2 Years of Vesting Service" (a vesting
# schedule's rows), "6 Months of Service"; the number is part of its text.
QUANTITY = re.compile(r"^\d{1,3}\s+(?:Years?|Months?|Hours?|Days?|Weeks?|Percent)\b")
ENDS_WITH_BLANK = re.compile(rf"(?:_{{3,}}|_{{2,}}{TYPED_VALUE}_{{2,}})\s*$")  # empty or holding a typed value


# A value typed after the printed blank ("is ____ __6%__"): one blank holding the value. Two valued
# blanks side by side ("__100__ __4__") stay two.
TYPED_AFTER_BLANK = re.compile(r"(?<!\S)_{2,}\s+(?=_{2,}[^_\s])")  # an empty blank, then a valued one


def _fill_ins(text: str) -> tuple[str, tuple[FillIn, ...]]:
    text = TYPED_AFTER_BLANK.sub("", text)
    fills = []
    for m in BLANK.finditer(text):
        label = re.findall(r"([A-Za-z][A-Za-z ]{0,30}):?\s*$", text[: m.start()])
        value = (m.group(1) or "").strip() or None
        fills.append(FillIn(label=(label[-1].strip() if label else ""), value=value))
    return BLANK.sub("____", text).strip(), tuple(fills)


def _option_start(s: str, question: dict) -> dict | None:
    """An option line ("a. [X] text", "[ ] b. text", "☐ text"), or None."""
    expected = len(question["options"])
    m = BOX_FIRST.match(s)
    if m:
        label = m.group(2) or chr(ord("a") + expected)
        return {"label": label, "box": m.group(1), "parts": [m.group(3)]}
    m = OPTION.match(s)
    if m and (m.group(2) or m.group(1) == chr(ord("a") + expected)):
        return {"label": m.group(1), "box": m.group(2) or "", "parts": [m.group(3)]}
    return None


def _nested_start(s: str, line: Line, question: dict) -> dict | None:
    """A sub-option under the current option: "(1) [ ] text" or "i. [X] text", set deeper than its parent."""
    parents = [o for o in question["options"] if "." not in o["label"]]
    if not parents:
        return None
    parent = parents[-1]
    m = NESTED.match(s)
    if m and m.group(3) and line.left > parent["left"] + 0.01:
        return {"label": f"{parent['label']}.{m.group(1) or m.group(2)}", "box": m.group(3), "parts": [m.group(4)],
}
    return None


def _opens_question(m: re.Match) -> bool:
    """A numbered line that is a question: its text starts a sentence ("1.01 Name of ...", "B. Vesting"),
    or a dotted number leads it ("4.01 a discretionary ..."); "12 months of ..." is not one."""
    number, rest = m.group(1), m.group(2)
    return rest[:1].isupper() or rest[:1] in "\"“([" or ("." in number and number[0].isdigit() and rest[:1].isalpha())


def _question_without_gap(m: re.Match, previous: str, current: dict | None = None) -> bool:
    """Forms often set questions line after line with no extra space: a dotted number, then a
    capital, after a line that was an option ("1.06 Is the Plan ..." after "[X] Fiscal year"), or
    that ended an option's sentence, or numbered next after the current question ("25.04" after
    "25.03"); not a wrapped reference ("... Section" / "1.06 of the Plan")."""
    number, rest = m.group(1), m.group(2)
    if not rest[:1].isupper():
        return False
    answered = _answered(current)
    if "." not in number:  # "2. Determination Period" after question 1's options
        return answered and _numbered_next(current["number"], number)
    if BOX_TOKEN.search(previous):  # an option line (a sentence end alone is too weak: wrapped text)
        return True
    if _numbered_heading(current) and rest.upper() != rest:  # "10.03 Initial Amount ..." under "10. ACA AND EACA"
        return True
    return answered and (ends_sentence(previous) or bool(ENDS_WITH_BLANK.search(previous))
                         or _numbered_next(current["number"], number))


def _answered(current: dict | None) -> bool:
    """Whether the current question already has its answer: options, or a blank to fill that ends it
    ("The effective date of the Catch-Up Contribution provisions is ______"); what follows is then
    the next question or a section heading, not more of its text."""
    if not current:
        return False
    return bool(current["options"]) or bool(ENDS_WITH_BLANK.search(current["parts"][-1] if current["parts"] else ""))


def _numbered_heading(current: dict | None) -> bool:
    """The current "question" is a numbered section heading in capitals with nothing under it yet
    ("10. ACA AND EACA - INITIAL AMOUNT OF AUTOMATIC ELECTIVE DEFERRAL"): a numbered line in mixed
    case right under it is its first question, set without a gap, not more of the heading (on 6
    fuzzed layouts with bold headings and little space, a quarter of the target AA's questions ran
    into the heading before them)."""
    if not current or current["options"] or len(current["parts"]) != 1:
        return False
    return _heading_like(current["parts"][0])


def _numbered_next(before: str, after: str) -> bool:
    """"25.04" after "25.03", "B.02" after "B.01", "E" after "D": the next question of the same section."""
    a, b = before.rsplit(".", 1) if "." in before else ("", before), after.rsplit(".", 1) if "." in after else ("", after)
    if a[0] == b[0] and len(a[1]) == len(b[1]) == 1 and a[1].isupper() and b[1].isupper():
        return ord(b[1]) == ord(a[1]) + 1
    return a[0] == b[0] and a[1].isdigit() and b[1].isdigit() and int(b[1]) == int(a[1]) + 1


def _is_context(s: str, line: Line) -> bool:
    """A section heading between questions: a short line in capitals (or bold), no blank to fill."""
    return _heading_like(s, line.bold)


def _heading_like(s: str, bold: bool = False) -> bool:
    """A short line in capitals (or, when bold, in title case) with no blank to fill."""
    return (len(s) <= 100 and sum(c.isalpha() for c in s) >= 4 and not BLANK.search(s)
            and (s.upper() == s or bold and is_title(s)))


def _inline_boxes_split(lines: list[Line], starts: list[bool], keep: set[int] = frozenset()):
    """(line, opens a paragraph) pairs, with lines holding two or more boxes ("Plan Year: ☐ Calendar
    ☐ Fiscal", "☐ Yes ☐ No") cut into the text before the first box and one line per box. Lines
    whose id is in `keep` (grid rows) are passed whole."""
    for line, para in zip(lines, starts):
        boxes = list(BOX_TOKEN.finditer(line.text))
        if id(line) in keep:
            yield line, para
            continue
        ends = [b.start() for b in boxes[1:]] + [len(line.text)]
        # short answers side by side; long sentences with boxes in them are options set out in prose
        if len(boxes) < 2 or any(end - box.end() > INLINE_ANSWER_CHARS for box, end in zip(boxes, ends)):
            yield line, para
            continue
        # a label printed before a box ("1. [ ] ...  2. [ ] ...") belongs to the box after it
        cuts = [b.start() for b in boxes]
        for n, cut in enumerate(cuts):
            label = TRAILING_LABEL.search(line.text[:cut])
            if label:
                cuts[n] = label.start()
        prefix = line.text[: cuts[0]].strip()
        if prefix:
            yield replace(line, text=prefix), para
        for n, (start, end) in enumerate(zip(cuts, cuts[1:] + [len(line.text)])):
            yield replace(line, text=line.text[start:end].strip(), left=line.left + 0.001 * n), False


# ---------------------------------------------------------------- AA grids

BOXES_ONLY = re.compile(rf"^(?:\s*(?:{BOX}))+\s*$")


@dataclass
class GridRow:
    """A row of boxes under column headings: "e. Age 20 1/2   ☐ ☐ ☒ ☐"."""

    text: str                  # what precedes the boxes ("e. Age 20 1/2")
    boxes: list[str]           # each box as printed ("☐", "[X]")
    columns: list[str]         # the heading over each box


def _box_centres(line: Line) -> list[tuple[str, float]] | None:
    """(box, x centre) of a line that ends in two or more boxes with no text between or after
    them, or None. A run holding several boxes is shared out by character position."""
    boxes = list(BOX_TOKEN.finditer(line.text))
    if len(boxes) < 2 or not line.spans or not BOXES_ONLY.match(line.text[boxes[0].start():]):
        return None
    centres = []
    for b in boxes:
        span = next((sp for sp in line.spans if sp[0] <= b.start() < sp[1]), None)
        if span is None:
            return None
        start, end, left, right, _ = span
        at = lambda i: left + (right - left) * (i - start) / max(end - start, 1)
        centres.append((b.group(0), (at(b.start()) + at(b.end())) / 2))
    return centres


def _heading_columns(lines: list[Line], row: int, xs: list[float]) -> tuple[list[str], list[int]] | None:
    """The column headings over box centres `xs` and the indices of the lines they were read from:
    the lines just above line `row` whose every run sits over a box (a heading may wrap onto two or
    three lines), or None."""
    tolerance = min(0.06, 0.45 * min(b - a for a, b in zip(xs, xs[1:])))
    names: list[list[str]] = [[] for _ in xs]
    used: list[int] = []
    for j in range(row - 1, max(row - 4, -1), -1):
        above = lines[j]
        if above.page != lines[row].page or BOX_TOKEN.search(above.text) or not above.spans:
            break
        placed = []
        for start, end, left, right, _ in above.spans:
            centre = (left + right) / 2
            nearest = min(range(len(xs)), key=lambda k: abs(xs[k] - centre))
            if abs(xs[nearest] - centre) > tolerance:
                placed = None
                break
            placed.append((nearest, above.text[start:end].strip()))
        if not placed:
            break
        for k, words in placed:
            names[k].insert(0, words)
        used.append(j)
    if not used or sum(bool(n) for n in names) < 2:
        return None
    return [" ".join(n) for n in names], used


def find_grids(lines: list[Line]) -> tuple[dict[int, GridRow], set[int]]:
    """Grid rows (by line index) and the heading lines over them. Rows further down the same grid
    (or continued on the next page) reuse the headings of the nearest grid above with its boxes
    in the same places."""
    rows: dict[int, GridRow] = {}
    headings: set[int] = set()
    last: tuple[list[float], list[str]] | None = None
    for i, line in enumerate(lines):
        centres = _box_centres(line)
        if centres is None:
            continue
        xs = [x for _, x in centres]
        found = _heading_columns(lines, i, xs)
        if found:
            columns, used = found
            headings.update(used)
            last = (xs, columns)
        elif last and len(last[0]) == len(xs) and all(abs(a - b) < 0.02 for a, b in zip(last[0], xs)):
            columns = last[1]
        else:
            continue
        first = line.text.index(centres[0][0]) if centres[0][0] in line.text else len(line.text)
        rows[i] = GridRow(line.text[:first].strip(), [box for box, _ in centres], columns)
    return rows, headings


def _grid_options(row: GridRow, question: dict, left: float) -> list[dict]:
    """A grid row as options: the row ("e", no box of its own), then one option per column under
    it ("e.1" All Contributions, "e.2" Elective Deferrals, ...), each with its box. The same AA
    drawn as nested lists gives the same options; no tick is read twice."""
    m = OPTION.match(row.text)
    label = m.group(1) if m else chr(ord("a") + sum("." not in o["label"] for o in question["options"]))
    text = m.group(3) if m else row.text
    options = [{"label": label, "box": "", "parts": [text], "left": left}]
    for k, (box, column) in enumerate(zip(row.boxes, row.columns), 1):
        options.append({"label": f"{label}.{k}", "box": box, "parts": [column], "left": left + 0.02, "column": True})
    return options


def parse_aa(text: PdfText, doc_id: str) -> Document:
    """Numbered questions with their options into elections."""
    lines = [l for page in text.pages for l in page]
    grid_rows, grid_headings = find_grids(lines)
    rows = {id(lines[i]): row for i, row in grid_rows.items()}
    skipped = {id(lines[i]) for i in grid_headings}
    questions: list[dict] = []
    context = ""
    previous = ""
    after_heading = False  # the line before was a section heading: a numbered line now opens a question
    for line, para in _inline_boxes_split(lines, paragraph_starts(lines), set(rows)):
        s = line.text.strip()
        current = questions[-1] if questions else None
        if id(line) in skipped:
            continue  # column headings over a grid: they name the grid's options
        if id(line) in rows and current:
            current["options"].extend(_grid_options(rows[id(line)], current, line.left))
            previous = s
            continue
        nested = _nested_start(s, line, current) if current else None
        option = None if nested else (_option_start(s, current) if current else None)
        question = QUESTION.match(s)
        if question and not (para or after_heading or _question_without_gap(question, previous, current)):
            question = None
        previous, after_heading = s, False
        if nested:
            current["options"].append({**nested, "left": line.left})
        elif option and not (question and not option["box"] and "." in question.group(1)):
            current["options"].append({**option, "left": line.left})
        elif question and _opens_question(question):
            number, opening = ("", s) if QUANTITY.match(s) else (question.group(1), question.group(2))
            questions.append({"number": number, "parts": [opening], "options": [], "context": context, "page": line.page})
        elif (para or _answered(current)) and _is_context(s, line):
            context = s.title()  # a section heading in capitals (after options or a blank it needs no gap)
            after_heading = True
        elif current:
            target = current["options"][-1] if current["options"] else current
            if target.get("column"):  # the row's text wrapped under it: it belongs to the row, not a column
                target = next(o for o in reversed(current["options"]) if not o.get("column"))
            target["parts"].append(s)
    elections = [_election(doc_id, n, q) for n, q in enumerate(questions)]
    if not elections:
        raise InputError(text.path, f"no Adoption Agreement questions found ({page_summary(text)})")
    return Document(id=doc_id, role="aa", title=doc_id, source_path=str(text.path), pages=len(text.pages),
                    elections=tuple(elections), page_paths=tuple(text.page_paths))


def _box_state(box: str) -> bool | None:
    """Ticked, not ticked, or None when there is no box or its state cannot be read ("[?]")."""
    box = box.replace(" ", "")
    return None if not box or box == "[?]" else box in SELECTED


def _election(doc_id: str, n: int, q: dict) -> Election:
    question, fills = _fill_ins(join_lines(q["parts"]))
    options = []
    for o in q["options"]:
        option_text, option_fills = _fill_ins(join_lines(o["parts"]))
        options.append(ElectionOption(id=f"{doc_id}-q{n:03d}-{o['label']}", label=o["label"], text=option_text,
                                      is_selected=_box_state(o["box"]),
                                      fill_ins=option_fills))
    if not options:
        value = next((f.value for f in fills if f.value), None)
        return Election(id=f"{doc_id}-q{n:03d}", question_number=q["number"], question_text=question,
                        section_context=q["context"], kind="text", selected_value=value, page=q["page"])
    lowered = question.lower()
    multi = "all that apply" in lowered or "one or more" in lowered or "check all" in lowered
    chosen = [o.label for o in options if o.is_selected]
    value = chosen if multi else (chosen[0] if chosen else None)
    return Election(id=f"{doc_id}-q{n:03d}", question_number=q["number"], question_text=question,
                    section_context=q["context"], kind="multi_select" if multi else "single_select",
                    options=tuple(options), selected_value=value or None, page=q["page"])
