"""Decisions remembered in the store: this conversion's, and other conversions' by content.

A decision is stored under its conversion (`scope`: the two documents' contents) and under the
content of its two items: for a provision its title and text, for an election its question and
options without the employer's answers. A TPA moving hundreds of plans between the same two
templates decides a mapping once: every later conversion whose source item and target item have
the same contents starts with it applied, marked "reviewed in another conversion".
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal

from ..decisions import Decision, Decisions
from ..models import Document, Election, Provision
from ..store import Store, canonical_json

Kind = Literal["bpd", "aa"]
REVIEW_APP = "the review app"
ELSEWHERE = "reviewed in another conversion"


def _digest(value: object) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def item_content(item: Provision | Election) -> str:
    """What an item says as a template (an election's answers and fill-in values left out)."""
    if isinstance(item, Provision):
        return _digest(["provision", item.title, item.text])
    options = [[o.label, o.text, [f.label for f in o.fill_ins]] for o in item.options]
    return _digest(["election", item.kind, item.section_context, item.question_text, options])


def template_digest(doc: Document) -> str:
    """The document as a template: its items' contents in order."""
    return _digest([item_content(item) for item in doc.items])


def conversion_scope(kind: str, source: Document, target: Document) -> str:
    """One conversion's crosswalk of `kind`: the two documents as given (a filled AA's answers
    included, so two plans on the same template are two scopes)."""
    parts = [kind] + [doc.model_dump(mode="json", exclude={"source_path"}) for doc in (source, target)]
    return f"review:{_digest(parts)[:24]}"


def decision_row(scope: str, kind: str, source_item: Provision | Election, target_item: Provision | Election | None,
                 target: Document, note: str = "") -> dict:
    return {"scope": scope, "kind": kind, "source_id": source_item.id,
            "target_id": target_item.id if target_item is not None else None, "note": note,
            "source_content": item_content(source_item),
            "target_content": item_content(target_item) if target_item is not None else None,
            "target_document": template_digest(target), "decided": time.time()}


def remembered_decisions(store: Store, kind: str, source: Document, target: Document) -> Decisions:
    """This conversion's own decisions, then (for items it has not decided) the newest decision of
    any other conversion on an item with the same content whose target is here with the same
    content ("no counterpart" only carries over to the same target template)."""
    scope = conversion_scope(kind, source, target)
    by_source: dict[str, Decision] = {}
    own = {row["source_id"]: row for row in store.decisions_in(scope) if row["kind"] == kind}
    sources = {item.id: item for item in source.items}
    for sid, row in own.items():
        if sid in sources:
            by_source[sid] = Decision(sid, row["target_id"], row["note"], 0, REVIEW_APP)
    contents = {item_content(item): item.id for item in source.items if item.id not in by_source}
    targets_by_content = {item_content(item): item.id for item in target.items}
    target_template = template_digest(target)
    for row in store.decisions_by_content(kind, contents):  # newest last: a later decision wins
        if row["scope"] == scope:
            continue
        sid = contents[row["source_content"]]
        if row["target_content"] is None:
            if row["target_document"] == target_template:
                by_source[sid] = Decision(sid, None, row["note"], 0, ELSEWHERE)
        elif row["target_content"] in targets_by_content:
            by_source[sid] = Decision(sid, targets_by_content[row["target_content"]], row["note"], 0, ELSEWHERE)
    return Decisions(None, by_source)
