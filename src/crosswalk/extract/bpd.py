"""BPD segmentation: paragraphs to provisions.

A provision starts at a paragraph that opens with a numbered heading ("1.04 Compensation",
"Section 1.04 COMPENSATION."), a numbered or bare quoted definition ("1.78 'Taxable Wage Base'
means"), a capitalised definition ("COMPENSATION: Means"), a subsection caption ("(a) Eligible
Employees."), a captioned paragraph, or a heading line on its own (bold, or all capitals). No single
cue is relied on: after a sentence end these open a provision with no gap or bold before them,
definitions are cut out of the middle of lines, list items after a colon stay put, labels nest and
reset per section (see docs/pdf-import.md). Article headings give context, not provisions; text
continues across pages; table-of-contents pages are skipped.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import InputError
from ..fingerprint import AA_PLACEHOLDER
from ..models import Document, Provision
from .layout import Line, PdfText, page_summary
from .paragraphs import ends_sentence, is_title, join_lines, paragraph_starts

ARTICLE = re.compile(r"^ARTICLE\s+([IVXLC]+|\d+)\b\.?\s*(.*)$", re.I)
SECTION = re.compile(r"^(?:Section\s+)?(\d{1,2}\.\d{1,3}[a-z]?(?:\([a-zA-Z0-9]{1,4}\))*)\.?\s+(\S.*)$")
# a quoted term, another after "or", an abbreviation: '"Eligible Automatic Contribution Arrangement" (EACA)'
# a term's words may hold an apostrophe between letters ('"Participant's account balance" means': the
# definition ran into the one before on every layout); any other quote mark closes it
TERM_CHAR = r"(?:[^\"”'’]|(?<=[A-Za-z])['’](?=[A-Za-z]))"
QUOTED_TERM = rf"[\"“'‘]({TERM_CHAR}{{2,80}})[\"”'’](?:\s+or\s+[\"“'‘]{TERM_CHAR}{{2,80}}[\"”'’])?\s*(?:\([^)]{{1,40}}\)\s*)?"
QUOTED_DEFINITION = re.compile(rf"^{QUOTED_TERM}(?:means|shall mean|is defined)\b", re.I)
# a provision that opens with its defined term: '"Term" means', '"Top-Paid Group" shall be determined'
DEFINED_TERM_OPENING = re.compile(rf"^{QUOTED_TERM}(?:means|shall|is|has|refers)\b", re.I)
# a term in capitals may hold a lowercase letter in brackets: "SIMPLE 401(k) YEAR Means" (fuzzed target
# layouts with run-in capitalised terms lost three such definitions each, run into the one before)
CAPS_CHAR = r"(?:[A-Z0-9\-/()’',&]|(?<=\()[a-z](?=\)))"
CAPS_DEFINITION = re.compile(rf"^([A-Z](?:{CAPS_CHAR}| ){{2,70}}?)(?::\s*|\.\s+|\s+)(Means\b.*)$")
SUBSECTION = re.compile(r"^((?:\((?:[a-z]{1,4}|[A-Z]|\d{1,2})\))+|(?:[ivx]{1,5}|[a-zA-Z]|\d{1,2})[.)])\s+(\S.*)$")
# A caption's first word may be a number with a letter in it: "414(s) Compensation.", "1-Year Break in
# Service." (a bare number is not: "2 Years of Service." is a sentence)
NUMBERED_WORD = r"\d{1,4}(?:\([a-z0-9]{1,3}\)|-[A-Z][a-z]+)[\w'’\-/()]*"
NUMBERED_START = re.compile(NUMBERED_WORD + r"\s+[A-Z]")
# A run-in heading before its quoted definition, whatever its words: '1.40. 415 Compensation. "415
# Compensation" means ...' (the title is the heading; the text starts at the quote)
RUNIN_DEFINITION = re.compile(r"^(\S.{0,60}?)\.\s+(?=[\"“'‘][^\"”'’]{2,80}[\"”'’]\s+(?:means|shall mean)\b)")
CAPTION = re.compile(r"^((?:[A-Z][\w'’\-/]*|" + NUMBERED_WORD + r"|of|and|or|the|to|for|in|on|a|an|by|with)(?:\s+(?:[A-Z][\w'’\-/]*|of|and|or|the|to|for|in|on|a|an|by|with|\(\w+\))){0,9})\.\s+(.*)$")
# A caption in sentence case, as Relius sets them: "(b) Funding policy. The Employer shall ..."
# (at most five words, and a capitalised sentence after it; a word may cite the Code: "(h) Required
# minimum distributions (Code §401(a)(9)). Notwithstanding ..."). The first word may be an acronym:
# "(k) TEFRA 242(b)(2) election. The provisions ..." stayed in its short text (relius-bpd-0294 and
# 0308 missed on 10 of 30 fuzzed seeds).
SENTENCE_CAPTION = re.compile(r"^([A-Z][A-Za-z'’\-/]*(?:\s+[a-z0-9(§][\w'’\-/()§]*){0,4})\.\s+([A-Z0-9\"“(].*)$")
# A quoted caption after a section number: '1.28(c) "Code §410(b)(6)(C) transactions." Employees who ...'
QUOTED_CAPTION = re.compile(r"^[\"“]([^\"”]{2,80}?)(?:\.[\"”]|[\"”]\.)\s+(\S.*)$")
# A caption closed by a dash, as Ascensus sets them: "A. Plan Investments – Except as provided ..."
# (only after a subsection label or at a paragraph's start: inside a sentence a dash is punctuation)
DASH_CAPTION = re.compile(r"^([A-Z][\w'’\-/]*(?:\s+(?:[A-Z][\w'’\-/]*|of|and|or|the|to|for|in|on|a|an|by|with|\(\w+\))){0,7})"
                          r"\s+[–—-]\s+([A-Z0-9\"“(].*)$")
# A heading in capitals run into its text, with or without a stop: "3.3 DETERMINATION OF ELIGIBILITY The
# Administrator ...", "3.11 OTHER LIMITATIONS ON SIMPLE 401(K) CONTRIBUTIONS. If the Employer ..."
CAPS_LEAD = re.compile(r"^([A-Z][A-Z0-9,'’\-/&()]*(?:\s+[A-Z0-9][A-Z0-9,'’\-/&()]*)+)\.?\s+([A-Z][a-z].*)$")
# A caption in capitals closed by a period, with no label: "PRE-AGE 35 WAIVER. A Participant who ...". Its
# words may be bare numbers, which a title-case caption's may not ("2 Years of Service." is a sentence). No
# record of either corpus BPD opens its text so, where a sentence-case caption often does ("Salary deferral
# elections. Each Participant ..."): this one is a heading, and leaves the text.
# After a section number it may follow a letter label, as Ascensus numbers its parts: "3.01 B. CEASING
# ELECTIVE DEFERRALS. Unless ..." (the label was read as the caption, and the caption stayed in the text).
# The label stays in the title, as the corpus titles them ("B. Determination of Income or Loss").
CAPS_CAPTION = re.compile(r"^((?:[A-Z]\.\s+)?[A-Z][A-Z0-9'’\-/&()]*(?:\s+[A-Z0-9][A-Z0-9'’\-/&()]*){0,9})\.\s+([A-Z0-9\"“(].*)$")


# Where a defined term starts inside a line ("...Section 12.6(d). 1.3 "Act" means ...", "...402(a).
# ADOPTION AGREEMENT: Means ..."): the text layer of a justified page, or one that lost its line
# breaks, runs definitions together.
TERM = r"[\"“][^\"”]{2,80}[\"”]"
CAPS_TERM = rf"[A-Z]{CAPS_CHAR}+(?: {CAPS_CHAR}+){{0,9}}"
NUMBER = r"\d{1,2}\.\d{1,3}\.?\s+"
# Only numbered terms and capitalised ones with a colon are cut inside a line: a bare quoted term
# with "means" also occurs inside a provision ("(a) Employee. "Employee" means ...").
ABBREVIATION = r"(?:\([^)]{1,40}\)\s*)?"  # '"Eligible Automatic Contribution Arrangement" (EACA) means'
# (a term in capitals before "Means" also after a comma: OCR reads a sentence's last period as one,
# "...Plan Section Five, BREAK IN ELIGIBILITY SERVICE: Means ...", and no text puts a capitalised
# "Means" after a comma otherwise)
DEFINITION_INSIDE = re.compile(rf"(?<=[.;:] )(?={NUMBER}{TERM}\s+{ABBREVIATION}(?:means|shall mean)\b)"
                               rf"|(?<=[.,;:] )(?={CAPS_TERM}[.:]?\s+Means\b)")
# A quoted term cut by the line end ('1.10 "Anniversary' / 'Date" means ...') and a capitalised term
# printed at the end of the line before its "Means" ('...402(a). ADOPTION AGREEMENT' / 'Means the ...').
# Single quotes too, as Relius sets its terms ("1.1. 'Qualified Automatic Contribution Safe" / "Harbor
# Account' means": the definition ran into the one before wherever its term wrapped).
OPEN_TERM_TAIL = re.compile(rf"(?:^((?:{NUMBER})?[\"“'‘]{TERM_CHAR}{{1,80}})|(?<=[.;:] )({NUMBER}[\"“'‘]{TERM_CHAR}{{1,80}}))$")
TERM_CLOSE_HEAD = re.compile(rf"^{TERM_CHAR}{{0,80}}[\"”'’]\s+{ABBREVIATION}(?:means|shall mean)\b")
# A whole quoted term at the end of a line whose "means" opens the next ('1.27 "Eligible Automatic
# Contribution Arrangement"' / '(EACA) means an ...')
CLOSED_TERM_TAIL = re.compile(rf"(?:^|(?<=[.;:] ))((?:{NUMBER})?{TERM})$")
MEANS_NEXT = re.compile(rf"^{ABBREVIATION}(?:means|shall mean)\b")
CAPS_TAIL = re.compile(rf"(?:^|(?<=[.,;:] ))({CAPS_TERM}[.:]?)$")
MEANS_HEAD = re.compile(rf"^(?:{CAPS_TERM}[.:]?\s+)?Means\b")  # "Means ..." or the rest of a wrapped term, then Means


def split_definitions(lines: list[Line], starts: list[bool]) -> tuple[list[Line], list[bool]]:
    """Lines cut so that every defined term opens a line that opens a paragraph, wherever the
    page put it: inside a line, wrapped over a line end, or on the line before its "Means"."""
    out: list[Line] = []
    out_starts: list[bool] = []
    carry = ""  # the start of a term moved onto the next line
    for n, (line, para) in enumerate(zip(lines, starts)):
        text = f"{carry} {line.text.strip()}".strip() if carry else line.text.strip()
        # a line opening with a term in capitals and "Means" opens a definition whatever ended the line
        # before (OCR reads that sentence's last period as a comma)
        para = para or bool(carry) or bool(CAPS_DEFINITION.match(text))
        carry = ""
        following = lines[n + 1].text.strip() if n + 1 < len(lines) else ""
        tail = OPEN_TERM_TAIL.search(text) if TERM_CLOSE_HEAD.match(following) else None
        if tail is None and MEANS_HEAD.match(following):
            tail = CAPS_TAIL.search(text)
        if tail is None and MEANS_NEXT.match(following):
            tail = CLOSED_TERM_TAIL.search(text)
        if tail:  # (the group that matched: OPEN_TERM_TAIL has one per alternative)
            carry, text = tail.group(tail.lastindex), text[: tail.start(tail.lastindex)].rstrip()
        pieces = [p for p in DEFINITION_INSIDE.split(text) if p.strip()]
        for k, piece in enumerate(pieces):
            out.append(replace(line, text=piece.strip(), left=line.left + 0.001 * k))
            out_starts.append(para or k > 0)
    return out, out_starts


LIST_LEAD_IN = (":", ";", "; and", "; or", ", and", ", or", " and", " or")


def _leads_into_list(text: str) -> bool:
    """Text a list continues: "...the following:", "...; and", or a sentence left unfinished
    ("...the excess of" / "a. the aggregate ...")."""
    text = text.rstrip()
    if text.endswith(LIST_LEAD_IN):
        return True
    # a line in capitals is a heading (its second line: "THAN OR EQUAL TO CASHOUT LEVEL"), not a sentence left open
    return not (ends_sentence(text) or text.endswith(")") or _in_capitals(text))


def _in_capitals(text: str) -> bool:
    """Capitals only, and enough letters to be words (not a label such as "B." or "IRS")."""
    return text.isupper() and sum(c.isalpha() for c in text) >= 4


SEMICOLON_END = (";", "; and", "; or")


def _sentence_after_semicolon(current: dict, s: str) -> bool:
    """A full sentence after "...;" that opens a provision of its own: the provision it follows is not
    a list (no "...the following:" before), and the new text starts with a capital ("(3) Notice of
    the rights ..." after "(2) The Participant must be informed ...;"). Items of a list opened by a
    colon ("a. Employer Contributions;" / "b. Matching ...") and lower-case items ("(ii) the
    Participant is permitted ...") stay together."""
    m = SUBSECTION.match(s)
    text = m.group(2) if m else s
    return (not current.get("list") and current["parts"][-1].rstrip().endswith(SEMICOLON_END)
            and text[:1].isupper())


SECTION_PAIR = re.compile(r"(\d{1,2})\.(\d{1,3})")  # "3.15" of "3.15", "3.15a", "3.15(b)(1)"


def _next_section(current: dict | None, s: str) -> bool:
    """Whether `s` opens with the section number that comes next after the current provision's
    ("3.15" after "3.14(b)", "4.1" after "3.9"): the next section's heading, which opens a provision
    even where the line before ends a list item ("...410(a)(1)(A); or" / "3.15 General Rules")."""
    m = SECTION.match(s)
    new = SECTION_PAIR.match(m.group(1)) if m else None
    here = SECTION_PAIR.match(current["number"]) if current else None
    if not new or not here:
        return False
    (major, minor), (now_major, now_minor) = map(int, new.groups()), map(int, here.groups())
    return (major, minor) == (now_major, now_minor + 1) or (major == now_major + 1 and minor in (0, 1))


def _strong_start(s: str) -> bool:
    """A line that opens a provision even with no gap, short line or bold before it, once the line
    before ended a sentence: a numbered heading or definition, a quoted or capitalised definition."""
    m = SECTION.match(s)
    if m:
        rest = m.group(2)
        return bool(QUOTED_DEFINITION.match(rest) or QUOTED_CAPTION.match(rest) or CAPTION.match(rest)
                    or RUNIN_DEFINITION.match(rest) or _run_in_title(rest)
                    or _labelled_caption(m.group(1), rest)
                    or (is_title(rest) and rest[:1].isupper()))
    return bool(QUOTED_DEFINITION.match(s) or QUOTED_CAPTION.match(s) or CAPS_DEFINITION.match(s)
                or SUBSECTION.match(s) or _run_in_caption(s) or DASH_CAPTION.match(s))


TITLE_LEAD = re.compile(r"^([A-Z][^.]{2,90}?)\.\s+([A-Z\"“(].*)$")


def _run_in_title(rest: str) -> re.Match | None:
    """After a section number, a heading in title case run into its text, closed by a period: most
    of its words capitalised, two words or more ("IRA Rules Under Code Section 408. Provisions ...")."""
    t = TITLE_LEAD.match(rest)
    return t if t and len(t.group(1).split()) >= 2 and is_title(t.group(1)) else None


def _labelled_caption(number: str, rest: str) -> re.Match | None:
    """After a section number that carries a subsection label, a caption in sentence case, read as
    it is after the label alone: "2.10(b) Claims review. Any Employee ..."."""
    return SENTENCE_CAPTION.match(rest) if "(" in number else None


def _run_in_caption(s: str) -> re.Match | None:
    """A paragraph opening with a short caption: "Allocation of gains or losses. As of each ..." (the
    label before it, if any, dropped by the vendor or the text layer)."""
    c = CAPTION.match(s) or SENTENCE_CAPTION.match(s)
    return c if c and len(c.group(1).split()) <= 6 and not c.group(1).isdigit() else None


def _caps_caption(s: str) -> tuple[str, str] | None:
    c = CAPS_CAPTION.match(s)
    return (c.group(1), c.group(2)) if c and _in_capitals(c.group(1)) else None


def _bold_caption(line: Line) -> tuple[str, str] | None:
    """A caption set in bold before plain text, with no label: "**Top-heavy vesting schedule.** For any
    ...". A sentence-case caption in the text's own type may be the text's first words (above); one in
    bold is a heading."""
    lead, s = line.bold_lead.strip(), line.text.strip()
    rest = s[len(lead):].strip()
    if not lead or not s.startswith(lead) or not rest or not lead.endswith((".", ":")) or len(lead.split()) > 12:
        return None
    return lead.rstrip(".:"), rest


def _bpd_start(line: Line, para: bool, section: str) -> dict | None:
    """The provision a line opens, or None when it continues the current one."""
    s = line.text.strip()
    m = SECTION.match(s)
    r = RUNIN_DEFINITION.match(m.group(2)) if m else None
    # a bold heading whose first word is a bare number: "1.40 415 Compensation" (it was taken for a
    # heading with no number, and 1.40's subsections were numbered and titled as 1.39's)
    if m and (m.group(2)[:1].isupper() or m.group(2)[:1] in "\"“'‘" or NUMBERED_START.match(m.group(2)) or r
              or (line.bold and m.group(2)[:1].isdigit())):
        return _section_start(m.group(1), m.group(2), r, line.bold)
    d = QUOTED_DEFINITION.match(s)
    if d:  # a bare definition under a section's text: its further paragraphs are not its own (below)
        return {"number": section, "title": d.group(1), "parts": [s], "bare_definition": True}
    q = QUOTED_CAPTION.match(s)
    if q and not line.bold:  # '"Annual overall permitted disparity limit." Notwithstanding ...'
        return {"number": section, "title": q.group(1), "parts": [s], "caption": True}
    d = CAPS_DEFINITION.match(s)
    if d:
        return {"number": "", "title": d.group(1).strip(), "parts": [d.group(2)]}
    m = SUBSECTION.match(s)
    if m and para:  # a subsection paragraph: "(a) Caption. Text", "(f)(1) Text"
        return _subsection_start(m.group(1), m.group(2), line)
    if para and not line.bold:
        heading = _caps_caption(s) or _bold_caption(line)
        if heading:  # a heading run into its text: the text starts after it
            return {"number": section, "title": heading[0], "parts": [heading[1]], "caption": True}
        c = _run_in_caption(s) or DASH_CAPTION.match(s)
        if c:  # a caption that may be the text's own first words: it stays in the text
            return {"number": section, "title": c.group(1), "parts": [s], "caption": True}
    if para and line.bold and len(s) < 100 and not s.endswith((",", ";")) and not ARTICLE.match(s):
        return {"number": "", "title": s.rstrip(".:"), "parts": [], "heading": True}
    if para and s.isupper() and is_title(s) and not ARTICLE.match(s):
        return {"number": "", "title": s.rstrip(".:"), "parts": [], "heading": True}
    return None


def _section_start(number: str, rest: str, runin: re.Match | None, bold: bool) -> dict:
    """A numbered section: a definition, a run-in or quoted caption, a heading on its own line, or text."""
    d = QUOTED_DEFINITION.match(rest)
    if d:
        return {"number": number, "title": d.group(1), "parts": [rest]}
    if runin:
        return {"number": number, "title": runin.group(1), "parts": [rest[runin.end():]]}
    q = QUOTED_CAPTION.match(rest)
    if q:
        return {"number": number, "title": q.group(1), "parts": [rest]}
    caps = _caps_caption(rest)
    if caps:
        return {"number": number, "title": caps[0], "parts": [caps[1]]}
    c = CAPTION.match(rest)
    if c and len(c.group(1)) <= 2:  # "5.13 B. DETERMINATION OF ..." : a label, not a caption
        c = None
    if bold or (is_title(rest) and not c):
        return {"number": number, "title": rest.rstrip("."), "parts": [], "heading": True}
    if c:  # a run-in heading: "1.04 Compensation. The term ..."
        return {"number": number, "title": c.group(1), "parts": [c.group(2)]}
    c = _labelled_caption(number, rest)
    if c:
        return {"number": number, "title": c.group(1), "parts": [c.group(2)]}
    t = _run_in_title(rest)
    if t:  # one in title case with a dash or small words: "3.15 Death Before ... – Beneficiary Spouse. If ..."
        return {"number": number, "title": t.group(1), "parts": [t.group(2)]}
    c = CAPS_LEAD.match(rest)
    if c and sum(ch.isalpha() for ch in c.group(1)) >= 4:
        return {"number": number, "title": c.group(1), "parts": [c.group(2)]}
    return {"number": number, "title": "", "parts": [rest]}


def _subsection_start(label: str, rest: str, line: Line) -> dict:
    """A labelled paragraph ("(a)", "(f)(1)", "b."): its caption (bold, run in, sentence case or
    closed by a dash) as its title, or none (its label stays open for a caption on the next line)."""
    if line.bold:
        return {"label": label, "title": rest.rstrip("."), "parts": []}
    if line.bold_lead and len(line.bold_lead) > len(label) + 2:
        caption = line.bold_lead[len(label):].strip()
        body = rest[len(caption):].strip()
        return {"label": label, "title": caption.rstrip("."), "parts": [body] if body else []}
    c = CAPTION.match(rest)
    if c and len(c.group(1).split()) <= 8:
        return {"label": label, "title": c.group(1), "parts": [c.group(2)]}
    c = SENTENCE_CAPTION.match(rest)
    if c:
        return {"label": label, "title": c.group(1), "parts": [c.group(2)]}
    c = DASH_CAPTION.match(rest)
    if c:  # the caption stays in the text too: a dash caption often reads as the sentence's start
        return {"label": label, "title": c.group(1), "parts": [rest]}
    return {"label": label, "title": "", "parts": [line.text.strip()], "open_label": True}


def _defines_heading(term: str, heading: str, line_before: str) -> bool:
    """Whether a bare definition is its section's own: its term names the section's heading, or the
    line before it when that reads like one after its number (a scan's heading is no bold line and
    may not be read as one: "1.40 415 Compensation"). One text's words all among the other's will do,
    as OCR may lose one ("Section 1.1 Account" over "'Combined Account' means")."""
    words = lambda t: set(re.findall(r"[a-z0-9]+", t.lower()))
    m = SECTION.match(line_before.strip())
    before = m.group(2) if m else line_before
    names = [heading] + ([before] if len(before.split()) <= 8 else [])  # a sentence holds a term's words
    defined = words(term)
    return bool(defined) and any(w and (defined <= w or w <= defined) for w in map(words, names))


def _opens_paragraph(current: dict, s: str) -> bool:
    """A paragraph that starts a new sentence (not a list item after "...the following:") and
    is not a further paragraph of a definition: a definition runs on to the next heading or term
    (on 6 fuzzed seeds: definitions one provision each 0.889 -> 0.902 source, 0.936 -> 0.972 target;
    recall -0.002 source, +0.007 target)."""
    if not current["parts"]:
        return False
    first = join_lines(current["parts"][:3]).lstrip()
    # a definition runs on to the next heading or term, but for one set bare among a section's text
    # ('"Participant's account balance" means' in 6.8(e)): what follows it is the section's, not its
    # own (eight QLAC paragraphs ran into it on the fixed layouts)
    if (DEFINED_TERM_OPENING.match(first) or first.startswith("Means")) and not current.get("bare_definition"):
        return False
    last = current["parts"][-1].rstrip()
    if _sentence_after_semicolon(current, s):
        return True
    return not last.endswith((*LIST_LEAD_IN, ",", "-")) and (s[:1].isupper() or s[:1] in "\"“'‘(")


ROMAN = re.compile(r"^\(?[ivx]{1,5}[.)]")


class Labels:
    """Subsection labels under the current section, nested by kind ("(a)" > "(1)" > "(i)" > "(A)"):
    a label of a kind already open closes the deeper ones, so "a." then "b." gives "1.04b.", never
    "1.04a.b." (Ascensus-style lettering ran on to 40 characters before)."""

    def __init__(self):
        self.section, self.stack = "", []  # stack of (kind, label)
        self.heading_provision: dict | None = None  # the section's heading, when it is a heading line

    @property
    def heading(self) -> str:
        """The section heading's title as read so far (a heading wrapped onto a second line included)."""
        return self.heading_provision["title"] if self.heading_provision else ""

    def reset(self, section: str) -> None:
        self.section, self.stack, self.heading_provision = section, [], None

    def title(self, caption: str) -> str:
        """A subsection's title: under a heading with no text of its own, the heading and the caption
        ("POWERS OF THE EMPLOYER – Appointment of Trustee"), or the heading alone."""
        if not self.heading:
            return caption
        return f"{self.heading} – {caption}" if caption else self.heading

    def number(self, label: str) -> str:
        kind = self._kind(label)
        kinds = [k for k, _ in self.stack]
        if kind in kinds:
            del self.stack[kinds.index(kind):]
        elif label.strip("().") not in ("a", "1", "i", "A"):
            self.stack = []  # "(d)" with no "(a)" seen (a list item kept with its lead-in): a top level
        self.stack.append((kind, label))
        if not self.section:
            return "".join(l for _, l in self.stack)
        # under a section number every label is parenthesised: "3.01(6)", "5.04(A)(1)(a)", not "3.016."
        return self.section + "".join(l if l.startswith("(") else f"({l.strip('.)')})" for _, l in self.stack)

    def _kind(self, label: str) -> str:
        core = label.strip("().")
        if core.isdigit():
            return "digit"
        if ROMAN.match(label) and not (core in ("i", "v", "x") and self._follows_letter(core)):
            return "roman"
        return "upper" if core.isupper() else "lower"

    def _follows_letter(self, core: str) -> bool:
        """"i." after "h." (or "v." after "u.") is a letter, not a roman numeral."""
        previous = next((l.strip("().") for k, l in reversed(self.stack) if k == "lower"), "")
        return len(previous) == 1 and ord(core) == ord(previous) + 1


def _wrapped_caption(current: dict, s: str, labels: "Labels") -> bool:
    """Whether line `s` ends a caption that wrapped after its label ("B. Direction of Investments by" /
    "Participants – Unless otherwise ...", in a narrow column), and if so title the provision by it."""
    if not current.pop("open_label", False) or len(current["parts"]) != 1:
        return False
    m = SUBSECTION.match(current["parts"][0])
    first = m.group(2) if m else ""
    joined = f"{first} {s}"
    c = DASH_CAPTION.match(joined) or CAPTION.match(joined) or SENTENCE_CAPTION.match(joined)
    if not first or not c or len(c.group(1)) <= len(first) or len(c.group(1).split()) > 8:
        return False
    current["title"] = labels.title(c.group(1))
    current["parts"] = [joined if c.re is DASH_CAPTION else c.group(2)]
    return True


QUOTES = "\"“'‘"
MEANS_WORD = re.compile(r"\b(?:means|shall mean)\b")


def _continues_heading(current: dict, start: dict | None, s: str, para: bool) -> bool:
    """Whether line `s` is more of a heading that has no text yet (and add it): a second heading
    line, a heading wrapped onto the next line, or a run-in heading that wrapped ("1.1 Qualified
    Automatic" / "Account. 'Qualified ...")."""
    if not current.get("heading") or current["parts"]:
        return False
    if start and start.get("heading") and not start.get("number"):
        current["title"] = f"{current['title']} {s}".strip()
        return True
    if start or para:
        return False
    c = CAPTION.match(s)
    caption = c is not None and len(c.group(1).split()) <= 6
    # the caption's end comes first when a quoted term follows it ("Account. 'Qualified Voluntary"),
    # and a line with "means" in it is the definition, not more title ("Employee Contribution
    # Account' means the": three of five words capitalised)
    if is_title(s) and not s.endswith(".") and not (caption and c.group(2)[:1] in QUOTES) \
            and not MEANS_WORD.search(s):
        current["title"] = f"{current['title']} {s}"
        return True
    if caption:
        current["title"] = f"{current['title']} {c.group(1)}"
        current["parts"].append(c.group(2))
        return True
    return False


def _numbered(start: dict, labels: Labels) -> dict:
    """The start with its section number: a subsection's from the labels, nested under the section;
    a new numbered section resets the labels. Under a heading with no text of its own, subsections
    and captioned paragraphs are titled by it ("POWERS OF THE EMPLOYER – Appointment of Trustee")."""
    if "label" in start or start.get("caption"):
        if "label" in start:
            start["number"] = labels.number(start.pop("label"))
        start["title"] = labels.title(start["title"])
    elif start["number"] and (start["number"] != labels.section or start.get("heading")):
        # a second heading under the same number ("3.04 A OBLIGATION ...", then "3.04 B ALLOCATION ...")
        # titles what follows it, as the first did
        labels.reset(re.sub(r"\(.*$", "", start["number"]))
        labels.heading_provision = start if start.get("heading") else None
    return start


# An article heading run into its text: "ARTICLE XII CASH OR DEFERRED PROVISIONS. Except as ...", the
# title (at most twelve words) perhaps wrapped onto the next line ("PROVISIONS. Except as ..."). The
# text is kept as a paragraph: it was dropped with the heading, or run into the provision before it
# (fuzzed seeds with run-in headings lost relius-bpd-0431 so).
ARTICLE_BODY = re.compile(r"^(?:\S+\s+){0,11}?\S+?\.\s+([A-Z0-9(\"'“‘].*[a-z].*)$")
HEADING_END = re.compile(r"^[^a-z]{1,80}?\.\s+([A-Z0-9(\"'“‘].*)$")


def _article_heading(text: str) -> bool:
    """"ARTICLE XII CASH OR DEFERRED PROVISIONS", not a sentence that opens with an article's name
    ("Article XII of the Plan applies ...", whose text was dropped as a heading's)."""
    m = ARTICLE.match(text)
    return bool(m) and not m.group(2)[:1].islower()


def _article_body(heading: str) -> str:
    """The text after an article heading's title on its line ("" if none)."""
    m = ARTICLE_BODY.match(ARTICLE.match(heading).group(2))
    return m.group(1) if m else ""


def _after_article_heading(text: str) -> str:
    """A line right after an article heading: "" while the title goes on (no lowercase letter), the
    text after the title's end ("PROVISIONS. Except as ..."), or the whole line (the article's text)."""
    if not any(c.islower() for c in text):
        return ""
    m = HEADING_END.match(text)
    return m.group(1) if m else text


def parse_bpd(text: PdfText, doc_id: str) -> Document:
    """Segment BPD lines into provisions."""
    raw_lines = [l for page in text.pages for l in page]
    records = _provisions(_segment(*split_definitions(raw_lines, paragraph_starts(raw_lines))), doc_id)
    if not records:
        raise InputError(text.path, f"no provisions found ({page_summary(text)})")
    return Document(id=doc_id, role="bpd", title=doc_id, source_path=str(text.path), pages=len(text.pages),
                    provisions=tuple(records), page_paths=tuple(text.page_paths))


def _text_lines(lines: list[Line], starts: list[bool]):
    """Each line that carries provision text, as (line, its text, whether it opens a paragraph, the
    line printed before it, whether that one ended a sentence). Article headings group sections and
    are no provisions: they are left out, and text run into one is kept as a paragraph of its own."""
    previous = ""
    in_article_heading = False
    for line, para in zip(lines, starts):
        s = line.text.strip()
        line_before, after_sentence, previous = previous, ends_sentence(previous) or not previous, s
        if in_article_heading and not SECTION.match(s):
            rest = _after_article_heading(s)
            if not rest and not para:
                continue  # the heading's title wraps onto this line
            if rest:
                line, s, para = replace(line, text=rest), rest, True
        in_article_heading = False
        if para and _article_heading(s):
            s = _article_body(s)
            if not s:
                in_article_heading = True
                continue
            line = replace(line, text=s)
        yield line, s, para, line_before, after_sentence


def _segment(lines: list[Line], starts: list[bool]) -> list[dict]:
    """The provisions the lines hold, in order: number, title, lines of text, page."""
    provisions: list[dict] = []
    labels = Labels()
    for line, s, para, line_before, after_sentence in _text_lines(lines, starts):
        current = provisions[-1] if provisions else None
        start = _opened(line, s, para, after_sentence, current, labels)
        if current and (_continues_heading(current, start, s, para) or _wrapped_caption(current, s, labels)):
            continue
        if start:
            start["page"] = line.page
            if start.get("bare_definition") and _defines_heading(start["title"], labels.heading, line_before):
                del start["bare_definition"]  # the section's own definition: it runs on
            provisions.append(_numbered(start, labels))
        elif current and para and _opens_paragraph(current, s):
            # a further paragraph of the same section is a provision of its own, under the same heading
            provisions.append({"number": current["number"], "title": current["title"], "parts": [s], "page": line.page,
                               "inherited_title": True})
        elif current:
            if current["parts"] and current["parts"][-1].rstrip().endswith(":"):
                current["list"] = True  # what follows "...the following:" is its list
            current["parts"].append(s)
    return provisions


def _opened(line: Line, s: str, para: bool, after_sentence: bool, current: dict | None,
            labels: "Labels") -> dict | None:
    """The provision a line opens: at a paragraph or bold lead, or at a strong start after a sentence
    ends; never a list item after "...the following:", which stays with its lead-in."""
    opens = para or line.bold_lead or ((after_sentence or _next_section(current, s)) and _strong_start(s))
    start = _bpd_start(line, bool(opens), labels.section) if opens else None
    if start and current and "label" in start and not start["title"] and current["parts"] \
            and _leads_into_list(current["parts"][-1]) and not _sentence_after_semicolon(current, s):
        return None
    return start


# A caption the next sentence repeats: "3.15 Value of the Traditional IRA for purposes of this section. The
# value of the Traditional IRA for purposes of this section is ...". Too long for the caption rules above
# (sentence case, or more than six words), it stayed in the text where headings run in (fuzzed target
# seeds: 0327 missed on 9 of 30, 0439 and 0442 on 8). A caption that is the text's own first words
# ("Back pay. Back pay, within the meaning of ...", 10 Relius records) is taken out too; every such
# record is still found (the caption is a small part of its text) and the caption is its title.
REPEATED_CAPTION = re.compile(r"^([A-Z][^.:;]{8,160}?[a-z0-9)])\.\s+(?=[A-Z\"“(])")
# Function words only: `fingerprint.STOPWORDS` also drops the domain words a caption repeats ("plan",
# "employee", "section"), and with it some captions fall under three content words (measured: the
# extraction of 5 fuzzed seeds changes, e.g. "Rehired Eligible Employee who satisfied eligibility").
CAPTION_STOPWORDS = frozenset("a an the of to in on for by with and or as at be is are will shall may any such "
                              "that this these those which who its it their if than not no all each under from into".split())


def _repeated_caption(body: str) -> tuple[str, str] | None:
    """(caption, text) when the body opens with a caption of 3+ content words that the next
    sentence repeats (80% of them within its first words), else None."""
    m = REPEATED_CAPTION.match(body)
    if not m or len(m.group(1).split()) > 20:
        return None
    caption, rest = m.group(1), body[m.end():]
    words = _content_words(caption)
    opening = _content_words(" ".join(rest.split()[:len(caption.split()) + 6]))
    return (caption, rest) if len(words) >= 3 and len(words & opening) >= 0.8 * len(words) else None


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in CAPTION_STOPWORDS}


def _provisions(found: list[dict], doc_id: str) -> list[Provision]:
    """The provisions found, with text (a heading with none is context, not a provision)."""
    records = []
    for n, p in enumerate(x for x in found if x["parts"]):
        body = join_lines(p["parts"])
        heading = _repeated_caption(body) if not p["title"] or p.get("inherited_title") or p.get("caption") else None
        if heading:
            p = {**p, "title": heading[0]}
            body = heading[1]
        refs = tuple(m.group(0) for m in AA_PLACEHOLDER.finditer(body))
        records.append(Provision(id=f"{doc_id}-p{n:04d}", section_number=p["number"], title=p["title"], text=body,
                                 page=p["page"], election_refs=refs))
    return records
