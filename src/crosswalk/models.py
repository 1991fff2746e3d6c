"""The records crosswalk passes between stages (pydantic v2, frozen).

Ids that come with the input are kept end to end: a mapping's `source_id` is the
id of the record that was imported.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .text import clean_id, clean_text

Role = Literal["bpd", "aa"]
ElectionKind = Literal["text", "single_select", "multi_select"]
MappingStatus = Literal["match", "partial", "no_match", "abstain", "error"]
# Every string that comes from a document passes `text.clean_text` (ids also `clean_id`) here,
# at the one boundary all importers (JSON, PDF, OCR, vision) go through.
Text = Annotated[str, BeforeValidator(clean_text)]
Id = Annotated[str, BeforeValidator(clean_id)]


class Record(BaseModel):
    """Base of all records: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FillIn(Record):
    """A blank inside an option ("____ Hours of Service"), with the value typed into it, if any."""

    label: Text = ""
    value: Text | None = None


class ElectionOption(Record):
    """One checkbox option of an AA question."""

    id: Id = ""
    label: Text
    text: Text
    is_selected: bool | None = None
    fill_ins: tuple[FillIn, ...] = ()


class Provision(Record):
    """A BPD provision: a definition, section or subsection of template text."""

    id: Id
    section_number: Text = ""
    title: Text = ""
    text: Text
    provision_type: Text = ""
    page: int | None = None
    election_refs: tuple[Id, ...] = ()


class Election(Record):
    """An Adoption Agreement question with its options and the employer's answer."""

    id: Id
    question_number: Text = ""
    question_text: Text
    section_context: Text = ""
    kind: ElectionKind = "text"
    options: tuple[ElectionOption, ...] = ()
    selected_value: Text | list[Text] | None = None
    page: int | None = None

    @property
    def text(self) -> str:
        """Question text followed by the option texts: what a reader sees."""
        parts = [self.question_text] + [o.text for o in self.options]
        return " ".join(p for p in parts if p)


class Document(Record):
    """An imported document: metadata plus its provisions (BPD) or elections (AA)."""

    id: Id
    role: Role
    vendor: Text = ""
    title: Text = ""
    source_path: str = ""
    pages: int | None = None
    provisions: tuple[Provision, ...] = ()
    elections: tuple[Election, ...] = ()
    page_paths: tuple[str, ...] = ()  # PDFs: how each page was read ("text", "ocr", "vision", or why it gave nothing)

    @property
    def items(self) -> tuple[Provision, ...] | tuple[Election, ...]:
        return self.provisions if self.role == "bpd" else self.elections


class Verdict(Record):
    """A verifier's judgement on one source item and its candidates."""

    source_id: str
    target_id: str | None
    alternates: tuple[str, ...] = ()
    status: MappingStatus
    confidence: float = Field(ge=0.0, le=1.0)
    reasoning: str = ""
    scores: dict[str, float] = Field(default_factory=dict)
    variance_type: str | None = None
    impact: str | None = None
    verifier: str = ""


class OptionMapping(Record):
    """Which source option corresponds to which target option (AA only)."""

    source_label: str | None
    target_label: str | None
    similarity: float = 0.0
    change: Literal["same", "reworded", "added", "removed"] = "same"


class Mapping(Record):
    """The crosswalk's answer for exactly one source item (stable output format)."""

    source_id: str
    target_id: str | None
    alternates: tuple[str, ...] = ()
    status: MappingStatus
    confidence: float = Field(ge=0.0, le=1.0)
    scores: dict[str, float] = Field(default_factory=dict)
    reasoning: str = ""
    option_mapping: tuple[OptionMapping, ...] = ()
    variance_type: str | None = None   # the LLM verifier's view, when it judged this item
    impact: str | None = None
    reviewed: bool = False             # set by a reviewer's decision (`--decisions`), not by the matcher


class Crosswalk(Record):
    """Source document → target document: one mapping per source item."""

    kind: Role
    source_document: str
    target_document: str
    mappings: tuple[Mapping, ...]
    run: dict = Field(default_factory=dict)
