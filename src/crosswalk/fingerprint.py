"""Semantic fingerprints: the text we embed and compare, with vendor noise removed.

Vendors number, brand and cross-reference differently, and those tokens say nothing
about meaning (the proof of concept's embeddings were polluted by question numbers).
A fingerprint therefore:
- drops section/question numbers, internal cross-references, page references,
  vendor names and watermark words;
- replaces placeholders ("as elected in the Adoption Agreement", blanks `____`) by a
  parameter token;
- keeps headings (without numbers), defined terms, Code/ERISA references and numbers
  that carry meaning (ages, hours, percentages, dollar amounts, years).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, replace

from .models import Election, Provision

FINGERPRINT_VERSION = "fp6"  # fp5: document-wide headings dropped per side; fp6: provisions embedded by sentence

VENDOR_WORDS = re.compile(
    r"\b(relius|ascensus|ft ?william|datair|corbel|wolters kluwer|sungard|empower|fis|"
    r"specimen|sample|draft|confidential|copyright|all rights reserved)\b\.?",
    re.I,
)
AA_PLACEHOLDER = re.compile(
    r"\b(?:as|unless(?: otherwise)?|except as|to the extent)\s+(?:otherwise\s+)?(?:elected|specified|provided|selected|indicated)\s+"
    r"(?:by the employer\s+)?in\s+(?:the\s+)?adoption agreement\b"
    r"|\bin\s+(?:the\s+)?adoption agreement\b",
    re.I,
)
BLANK = re.compile(r"_{3,}|\[\s*\]|\(\s*\)\s*(?=[A-Z])|☐|☒|☑|✓")
CODE_REF = re.compile(
    r"\b(?:code|irc|internal revenue code|erisa)\s*(?:section|sec\.|§+)?\s*(\d{3,4}[a-z]?(?:\([a-z0-9]+\))*)",
    re.I,
)
SECTION_REF = re.compile(
    r"\b(?:plan\s+|aa\s+|adoption agreement\s+)?(?:section|sections|article|question|questions|part|item|subsection|paragraph)"
    r"\s+[0-9ivxlcdm]+(?:\.[0-9a-z]+)*(?:\([a-z0-9]+\))*(?:\s*(?:,|and|or|through|-)\s*[0-9]+(?:\.[0-9a-z]+)*(?:\([a-z0-9]+\))*)*",
    re.I,
)
PAGE_REF = re.compile(r"\b(?:page|pg\.?|p\.)\s*\d+(?:\s+of\s+\d+)?\b", re.I)
LEADING_NUMBER = re.compile(r"^\s*(?:(?:article|part|section|question|attachment|appendix)\s+(?:[0-9]+[a-z]?|[ivxlc]+|[a-z]|one|two|three|four|five|six|seven|eight|nine|ten)\b[.:]?\s*[-–—:]?|\(?[0-9]+(?:\.[0-9a-z]+)*\.?\)?|\(?[a-z]\)|\(?[ivx]+\)|[a-z]\.)\s+", re.I)
ENUMERATOR = re.compile(r"(?<![\w$%(])\(?(?:[0-9]{1,2}|[a-z]|[ivx]{1,4})\)(?=\s)", re.I)
DEFINED_TERM_QUOTED = re.compile(r"^\s*[\"'“‘]([^\"'”’]{2,80})[\"'”’]\s*(?:or\s+[\"'“‘][^\"'”’]+[\"'”’]\s*)?(?:means|shall mean|is|refers)\b", re.I)
MEANS_START = re.compile(r"^\s*(?:means|shall mean)\b", re.I)
MEANINGFUL_NUMBER = re.compile(  # the lookahead skips, at once, positions no alternative can start at
    r"(?=[$\dAa])(?:\$\s?\d{1,3}(?:,\d{3})*(?:\.\d+)?|\b\d+(?:\.\d+)?\s*(?:%|percent\b)|\b\d+(?:\s*1/2)?\s*(?:years?|months?|days?|hours?)\b|"
    r"\bage\s+\d+(?:\s*1/2)?|\b(?:19|20)\d{2}\b|\b\d{1,4}\b)",
    re.I,
)
SPACE = re.compile(r"\s+")
EMPTY_PARENS = re.compile(r"\(\s*[,;]?\s*\)")
WORD = re.compile(r"[a-z][a-z0-9']+")
SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[A-Z(\[])")
MIN_PASSAGE_CHARS = 16  # shorter pieces are list markers and stubs ("(a) Plan.") that match everything
MAX_PASSAGES = 16       # a provision's first sixteen sentences say what it is about

STOPWORDS = frozenset(
    "a an the of to in on for by with and or as at be is are was were will shall may any such that this these those "
    "which who whom whose under from into if than then its it their there than other not no all each every plan "
    "employer participant participants employee employees section means".split()
)


@dataclass(frozen=True)
class Fingerprint:
    """What a record means, separated from how its vendor printed it."""

    heading: str          # title/question without numbers
    body: str             # normalized text for embedding
    defined_term: str     # lowercased defined term, "" when not a definition
    code_refs: frozenset[str]
    numbers: frozenset[str]
    placeholders: int     # how many AA placeholders/blanks were replaced
    core: str = ""        # the short core: heading (BPD) or context and question (AA), embedded apart
    by_sentence: bool = False  # embedded sentence by sentence (long provisions), not whole

    @property
    def text(self) -> str:
        """Heading and body as one string: for lexical scoring and, unsplit, for the embedder."""
        return f"{self.heading}. {self.body}" if self.heading else self.body

    @property
    def passages(self) -> tuple[str, ...]:
        """What the embedder sees: the body's sentences for a provision, else the whole text.

        A provision often matches its counterpart in one sentence (a definition against the
        operative rule that repeats it), and the model reads at most 256 tokens of a text:
        sentences are embedded one by one, and the record's vector is their mean."""
        if not self.by_sentence:
            return (self.text,)
        pieces = [p for p in map(str.strip, SENTENCE_END.split(self.body)) if len(p) >= MIN_PASSAGE_CHARS]
        return tuple(pieces[:MAX_PASSAGES]) or (self.text,)


def _strip_numbering(text: str) -> str:
    text = LEADING_NUMBER.sub("", text)
    return text.strip(" .:-–")


def normalize_text(text: str) -> tuple[str, int]:
    """Apply the fingerprint rules to free text; returns the text and the placeholder count."""
    text = text.replace("\u00a0", " ")
    text = VENDOR_WORDS.sub(" ", text)
    text, n_aa = AA_PLACEHOLDER.subn(" [ELECTION] ", text)
    text, n_blank = BLANK.subn(" [VALUE] ", text)
    text = CODE_REF.sub(lambda m: f" Code {m.group(1).split('(')[0]} ", text)
    text = SECTION_REF.sub(" ", text)
    text = PAGE_REF.sub(" ", text)
    text = ENUMERATOR.sub(" ", text)
    text = EMPTY_PARENS.sub(" ", text)
    text = SPACE.sub(" ", text).strip()
    return text, n_aa + n_blank


def defined_term(title: str, text: str) -> str:
    """The term a definition defines ("'Compensation' means" and "COMPENSATION: Means" both give 'compensation')."""
    m = DEFINED_TERM_QUOTED.match(text)
    if m:
        return _term_key(m.group(1))
    if MEANS_START.match(text) and title:
        return _term_key(_strip_numbering(title))
    return ""


def _term_key(term: str) -> str:
    term = re.sub(r"\(.*?\)", " ", term.lower())
    return SPACE.sub(" ", re.sub(r"[^a-z0-9 ]", " ", term)).strip()


def code_references(text: str) -> frozenset[str]:
    """Code/ERISA section numbers cited ('401', '416', '414' …), without paragraph suffixes."""
    return frozenset(re.match(r"\d+", m.group(1)).group(0) for m in CODE_REF.finditer(text))


def meaningful_numbers(text: str) -> frozenset[str]:
    """Numbers that carry plan meaning once numbering and cross-references are gone."""
    return frozenset(SPACE.sub(" ", m.group(0).lower()) for m in MEANINGFUL_NUMBER.finditer(text))


def fingerprint_provision(p: Provision) -> Fingerprint:
    """Fingerprint a BPD provision."""
    heading = _strip_numbering(SECTION_REF.sub(" ", p.title))
    body, n = normalize_text(p.text)
    return Fingerprint(
        heading=SPACE.sub(" ", heading).strip(),
        body=body,
        defined_term=defined_term(p.title, p.text),
        code_refs=code_references(p.text),
        numbers=meaningful_numbers(body),
        placeholders=n,
        core=SPACE.sub(" ", heading).strip() or body[:200],
        by_sentence=True,
    )


def fingerprint_election(e: Election) -> Fingerprint:
    """Fingerprint an AA election: section context, question and option texts, numbers removed."""
    context, _ = normalize_text(_strip_numbering(e.section_context))
    question, n = normalize_text(_strip_numbering(e.question_text))
    options = []
    for o in e.options:
        option_text, k = normalize_text(_strip_numbering(o.text))
        n += k
        options.append(option_text)
    body = " ".join([question] + options)
    return Fingerprint(
        heading=context,
        body=body,
        defined_term="",
        code_refs=code_references(e.text),
        numbers=meaningful_numbers(body),
        placeholders=n,
        core=f"{context}. {question}" if context else question,
    )


def fingerprint(item: Provision | Election) -> Fingerprint:
    """The item's fingerprint; remembered, since matching, confirmation and reports all ask for it."""
    try:
        return _remembered_fingerprint(item)
    except TypeError:  # an unhashable field (a multi-select answer held as a list): computed afresh
        return _fingerprint(item)


def _fingerprint(item: Provision | Election) -> Fingerprint:
    return fingerprint_provision(item) if isinstance(item, Provision) else fingerprint_election(item)


_remembered_fingerprint = functools.lru_cache(maxsize=16384)(_fingerprint)  # records are frozen


def forget_remembered() -> None:
    """Empty the in-process fingerprint memory (a benchmark's "new process" starts with none)."""
    _remembered_fingerprint.cache_clear()


COMMON_HEADING_SHARE = 0.2
COMMON_HEADING_MIN = 10  # in a short document a heading over a fifth of it is just a section


def without_common_headings(fps: list[Fingerprint], share: float = COMMON_HEADING_SHARE) -> list[Fingerprint]:
    """Fingerprints with any heading that more than `share` (and at least ten) of the document's
    records carry dropped.

    Such a heading is a document title read as section context ("Non-Standardized Defined
    Contribution" over 70 of the source AA's 182 records): it tells the records apart from
    nothing, and embedded into every core it pulls them all towards one another."""
    counts = Counter(fp.heading for fp in fps)
    common = {h for h, n in counts.items() if h and n > share * len(fps) and n >= COMMON_HEADING_MIN}
    return [_drop_heading(fp) if fp.heading in common else fp for fp in fps]


def _drop_heading(fp: Fingerprint) -> Fingerprint:
    prefix = f"{fp.heading}. "
    core = fp.core[len(prefix):] if fp.core.startswith(prefix) else (fp.body[:200] if fp.core == fp.heading else fp.core)
    return replace(fp, heading="", core=core)


def content_words(text: str) -> list[str]:
    """Lowercased content words (stopwords and placeholders dropped) for lexical scoring."""
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in ("election", "value")]
