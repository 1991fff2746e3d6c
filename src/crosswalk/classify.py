"""Provision type classification and the compatibility table used by candidate filtering.

Rules, not a model: each type has keywords; the heading counts three times as much
as the body, so "VESTING" in a title outweighs a passing mention of vesting in the
text. Definitions are recognised by their form ("'X' means", "X: Means").
"""

from __future__ import annotations

import functools

from .fingerprint import Fingerprint

PROVISION_TYPES = (
    "definition", "eligibility", "compensation", "contributions", "matching", "nonelective",
    "safe_harbor", "vesting", "distributions", "loans", "hardship", "top_heavy", "testing_limits",
    "administration", "trust", "other",
)

KEYWORDS: dict[str, tuple[str, ...]] = {
    "eligibility": ("eligib", "entry date", "participation", "age and service", "excluded employee", "year of service", "hours of service", "break in service"),
    "compensation": ("compensation", "wages", "w-2", "415 compensation", "bonus", "overtime"),
    "contributions": ("elective deferral", "salary deferral", "deferral", "roth", "catch-up", "rollover", "contribution", "automatic enrollment", "after-tax"),
    "matching": ("matching", "match"),
    "nonelective": ("nonelective", "non-elective", "noneligible", "profit sharing", "allocation"),
    "safe_harbor": ("safe harbor", "qaca", "eaca", "qualified automatic", "eligible automatic"),
    "vesting": ("vest", "nonforfeitable", "forfeiture"),
    "distributions": ("distribution", "retirement age", "annuity", "beneficiar", "death", "disability", "required minimum", "in-service", "payment", "spouse", "qdro", "domestic relations"),
    "loans": ("loan",),
    "hardship": ("hardship",),
    "top_heavy": ("top-heavy", "top heavy", "key employee", "determination date"),
    "testing_limits": ("adp", "acp", "415", "402(g)", "annual additions", "limitation", "nondiscrimination", "highly compensated", "testing", "coverage"),
    "administration": ("administrator", "fiduciar", "amendment", "termination of the plan", "claims", "expenses", "investment", "valuation", "records", "plan year", "effective date"),
    "trust": ("trust", "custodian", "insurance", "annuity contract"),
}

# Which types may match each other. Symmetric; every type matches itself and "other".
COMPATIBLE: dict[str, frozenset[str]] = {
    "contributions": frozenset({"matching", "nonelective", "safe_harbor", "compensation", "testing_limits"}),
    "matching": frozenset({"contributions", "safe_harbor", "testing_limits", "nonelective"}),
    "nonelective": frozenset({"contributions", "safe_harbor", "matching", "testing_limits"}),
    "safe_harbor": frozenset({"contributions", "matching", "nonelective", "testing_limits"}),
    "eligibility": frozenset({"administration"}),
    "vesting": frozenset({"distributions", "top_heavy"}),
    "distributions": frozenset({"vesting", "hardship", "loans"}),
    "hardship": frozenset({"distributions"}),
    "loans": frozenset({"distributions", "administration"}),
    "top_heavy": frozenset({"vesting", "testing_limits"}),
    "testing_limits": frozenset({"contributions", "matching", "nonelective", "safe_harbor", "top_heavy", "compensation"}),
    "compensation": frozenset({"contributions", "testing_limits"}),
    "administration": frozenset({"trust", "eligibility", "loans"}),
    "trust": frozenset({"administration"}),
}


def _score(text: str, words: tuple[str, ...]) -> int:
    # str.count: non-overlapping occurrences, as a regex search would find, ~30x faster
    return sum(text.count(w) for w in words)


@functools.lru_cache(maxsize=16384)  # fingerprints are frozen; candidates and confirmation both ask
def topic(fp: Fingerprint) -> str:
    """The subject a record is about (never 'definition'): used for compatibility and topic lookups."""
    heading, body = fp.heading.lower(), fp.body.lower()
    best, best_score = "other", 0
    for name, words in KEYWORDS.items():
        score = 3 * _score(heading, words) + _score(body, words)
        if score > best_score:
            best, best_score = name, score
    return best


def classify(fp: Fingerprint) -> str:
    """The provision type: 'definition' for definitions, otherwise the topic."""
    return "definition" if fp.defined_term else topic(fp)


def compatible(a: str, b: str) -> bool:
    """Whether two topics may be counterparts (a definition is compared by its topic)."""
    if a == b or "other" in (a, b):
        return True
    return b in COMPATIBLE.get(a, frozenset())
