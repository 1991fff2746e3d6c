"""Step 3: confirming BPD template matches against the AA crosswalk.

"The template is not the instance": a BPD match is provisional until the AA
elections its text depends on are mapped too. This module

1. finds, for every BPD provision, the AA elections it depends on (`election_links`):
   explicit references ("Adoption Agreement Section 4.02", "AA Question 3.01") are
   resolved by question number; placeholders ("as elected in the Adoption
   Agreement") are resolved by topic to the most similar AA questions of the same
   subject. Each link records how it was found and a confidence;
2. confirms each BPD match (`confirm`):
   - STANDALONE: the source provision depends on no election;
   - CONFIRMED: every election it depends on is mapped in the AA crosswalk, to a
     target election compatible with the target provision;
   - CONDITIONAL: some are, some are not (the missing ones are listed);
   - BLOCKED: none is;
   - UNMATCHED: the BPD crosswalk found no counterpart (nothing to confirm).

Confidence rule: the BPD match confidence, times 1.0 (STANDALONE, CONFIRMED), the
share of dependencies confirmed (CONDITIONAL) or 0.25 (BLOCKED); each factor for
CONFIRMED/CONDITIONAL is further averaged with the AA mappings' own confidence.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np

from .classify import compatible, topic
from .fingerprint import AA_PLACEHOLDER, fingerprint
from .lexical import TfidfSpace
from .models import Crosswalk, Document, Record

EXPLICIT_REF = re.compile(
    r"\b(?:adoption agreement|AA)\s*(?:,\s*)?(?:section|sections|question|questions|item|items|part)?\s*"
    r"((?:\d+(?:\.\d+)*[a-z]?)(?:\s*(?:,|and|or)\s*\d+(?:\.\d+)*[a-z]?)*)",
    re.I,
)
NUMBER = re.compile(r"\d+(?:\.\d+)*[a-z]?")
TOPIC_MIN_SIMILARITY = 0.12
TOPIC_RELATIVE = 0.7
TOPIC_MAX_LINKS = 2


ConfirmationStatus = Literal["CONFIRMED", "CONDITIONAL", "BLOCKED", "STANDALONE", "UNMATCHED"]


class ElectionLink(Record):
    """One dependency of a BPD provision on an AA election."""

    election_id: str
    method: Literal["explicit", "topic"]
    confidence: float
    evidence: str


class Confirmation(Record):
    """Step-3 result for one source BPD provision."""

    source_id: str
    target_id: str | None
    status: ConfirmationStatus
    confidence: float
    depends_on: tuple[ElectionLink, ...] = ()
    mapped: tuple[dict, ...] = ()         # {"source_election", "target_election", "confidence"}
    missing: tuple[str, ...] = ()         # source elections with no counterpart
    incompatible: tuple[str, ...] = ()    # mapped, but not to an election the target provision uses
    rule: str = ""


def _explicit_links(text: str, by_number: dict[str, list[str]]) -> list[ElectionLink]:
    links: list[ElectionLink] = []
    for m in EXPLICIT_REF.finditer(text):
        for number in NUMBER.findall(m.group(1)):
            for election_id in by_number.get(number, []):
                if all(link.election_id != election_id for link in links):
                    links.append(ElectionLink(election_id=election_id, method="explicit", confidence=0.95,
                                              evidence=m.group(0).strip()))
    return links


def election_links(bpd: Document, aa: Document) -> dict[str, list[ElectionLink]]:
    """The AA elections each provision of `bpd` depends on (same vendor's AA)."""
    by_number: dict[str, list[str]] = {}
    for e in aa.elections:
        if e.question_number:
            by_number.setdefault(e.question_number.strip().rstrip("."), []).append(e.id)
    p_fps = [fingerprint(p) for p in bpd.provisions]
    e_fps = [fingerprint(e) for e in aa.elections]
    e_topics = [topic(f) for f in e_fps]
    sim = TfidfSpace([f.text for f in p_fps], [f"{f.core} {f.text}" for f in e_fps]).similarity()
    links: dict[str, list[ElectionLink]] = {}
    for i, p in enumerate(bpd.provisions):
        found = _explicit_links(p.text, by_number)
        if not found and AA_PLACEHOLDER.search(p.text):
            found = _topic_links(sim[i], topic(p_fps[i]), e_topics, aa)
        links[p.id] = found
    return links


def _topic_links(row: np.ndarray, p_topic: str, e_topics: list[str], aa: Document) -> list[ElectionLink]:
    allowed = np.array([compatible(p_topic, t) for t in e_topics], dtype=bool)
    scores = np.where(allowed, row, 0.0)
    order = np.argsort(-scores)[:TOPIC_MAX_LINKS]
    best = float(scores[order[0]]) if len(order) else 0.0
    out = []
    for j in order:
        s = float(scores[j])
        if s >= TOPIC_MIN_SIMILARITY and s >= TOPIC_RELATIVE * best:
            e = aa.elections[int(j)]
            out.append(ElectionLink(election_id=e.id, method="topic", confidence=round(min(0.9, 0.3 + s), 3),
                                    evidence=f"placeholder resolved by topic '{p_topic}' (similarity {s:.2f})"))
    return out


def confirm(bpd_cw: Crosswalk, aa_cw: Crosswalk, source_links: dict[str, list[ElectionLink]],
            target_links: dict[str, list[ElectionLink]], target_aa: Document | None = None) -> list[Confirmation]:
    """Step 3 for every source provision of the BPD crosswalk."""
    aa_map = {m.source_id: m for m in aa_cw.mappings}
    target_topics = {e.id: topic(fingerprint(e)) for e in (target_aa.elections if target_aa else ())}
    out = []
    for m in bpd_cw.mappings:
        deps = source_links.get(m.source_id, [])
        if m.target_id is None:
            out.append(Confirmation(source_id=m.source_id, target_id=None, status="UNMATCHED", confidence=0.0,
                                    depends_on=tuple(deps), rule="no BPD counterpart"))
            continue
        if not deps:
            out.append(Confirmation(source_id=m.source_id, target_id=m.target_id, status="STANDALONE",
                                    confidence=m.confidence, depends_on=tuple(deps), rule="no election dependency"))
            continue
        uses = {link.election_id for link in target_links.get(m.target_id, [])}
        mapped, missing, incompatible = [], [], []
        for link in deps:
            am = aa_map.get(link.election_id)
            if am is None or am.target_id is None:
                missing.append(link.election_id)
                continue
            targets = [am.target_id, *am.alternates]
            if uses and not (set(targets) & uses) and not _topic_ok(targets, uses, target_topics):
                incompatible.append(link.election_id)
                continue
            mapped.append({"source_election": link.election_id, "target_election": am.target_id,
                           "confidence": am.confidence})
        out.append(_status(m.source_id, m.target_id, m.confidence, deps, mapped, missing, incompatible))
    return out


def _topic_ok(targets: list[str], uses: set[str], topics: dict[str, str]) -> bool:
    """A mapped election the target provision does not cite is still compatible when it is on the same subject."""
    if not topics:
        return True
    return any(topics.get(t, "other") == topics.get(u, "other") != "other" for t in targets for u in uses)


def _status(source_id: str, target_id: str, bpd_conf: float, deps, mapped, missing, incompatible) -> Confirmation:
    share = len(mapped) / len(deps)
    aa_conf = float(np.mean([x["confidence"] for x in mapped])) if mapped else 0.0
    if share == 1.0:
        status, conf, rule = "CONFIRMED", bpd_conf * (1 + aa_conf) / 2, "all dependencies mapped and compatible"
    elif mapped:
        status, conf = "CONDITIONAL", bpd_conf * share * (1 + aa_conf) / 2
        rule = f"{len(mapped)} of {len(deps)} dependencies mapped"
    else:
        status, conf, rule = "BLOCKED", bpd_conf * 0.25, "no dependency mapped"
    return Confirmation(source_id=source_id, target_id=target_id, status=status, confidence=round(conf, 4),
                        depends_on=tuple(deps), mapped=tuple(mapped), missing=tuple(missing),
                        incompatible=tuple(incompatible), rule=rule)
