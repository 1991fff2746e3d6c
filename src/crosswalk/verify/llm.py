"""The LLM verifier: token-lean, cached, two-stage.

- Two-stage (the original design, section 3.2): the local verifier settles clear cases (best
  probability ≥ `high`, or < `low`); only the uncertain band goes to the LLM.
- One call per source item verifies all its candidates (`per_source`); `per_pair`
  reproduces the earlier design (one call per candidate pair) for the benchmark.
- Every answer is cached in the store under (model, prompt version, source and
  candidate texts), and written the moment it arrives: a rerun pays for nothing
  already answered.
- An invalid reply gets one repair retry; an item that still fails, or whose calls
  keep failing, becomes an `error` verdict with the reason. Nothing is dropped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import AuthenticationError, ModelNotFoundError, ProviderError, ProviderUnreachableError
from ..llm.client import LLMClient
from ..llm.prompts import (PROMPT_VERSION, RESPONSE_FORMAT, ReplyError, VerificationReply,
                           build_verification_messages, parse_verification, repair_messages, reply_token_cap)
from ..models import Verdict
from ..store import Store, cache_key
from .features import CandidateSet, distinct_order
from .local import LocalVerifier, settled_locally, strong_evidence

FATAL = (AuthenticationError, ModelNotFoundError, ProviderUnreachableError)
# A clear winner (p ≥ 0.6 and the runner-up below half of it) is shown with CLEAR_WINNER_SHOWN
# candidates in all; every other item with up to `llm_max_candidates`.
CLEAR_WINNER_P = 0.6
CLEAR_WINNER_RATIO = 0.5
CLEAR_WINNER_SHOWN = 4
# An AA item's title in the prompt is its section ("Eligibility Conditions"), clipped: the question
# is already the start of its text (as the title it was sent twice: ~13% of the AA prompt tokens).
AA_CONTEXT_CHARS = 80


@dataclass
class LLMStats:
    settled_locally: int = 0
    sent_to_llm: int = 0
    cache_hits: int = 0
    calls_answered: int = 0
    repaired: int = 0
    errors: int = 0


def candidates_shown(probs: np.ndarray, max_candidates: int) -> int:
    """How many candidates the model sees: few when the first stage has a clear winner, up to
    `max_candidates` when its list is flat (a model cannot pick what it is not shown: with 6, the
    right target was among those shown for 0.86 of BPD and 0.74 of AA items on unseen regions,
    against 0.95 / 0.91 within 20). The prompt's compact form keeps the tokens level."""
    if len(probs) < 2:
        return len(probs)
    top, runner = np.sort(probs)[::-1][:2]
    if top >= CLEAR_WINNER_P and runner < CLEAR_WINNER_RATIO * top:
        return min(len(probs), CLEAR_WINNER_SHOWN)
    return min(len(probs), max_candidates)


class LLMVerifier:
    """Verifies candidate sets with an OpenAI-compatible chat model."""

    def __init__(self, client: LLMClient, model: str, store: Store, local: LocalVerifier, kind: str,
                 items: dict[str, dict], *, mode: str = "two_stage", low: float = 0.15, high: float = 0.85,
                 max_candidates: int = 8, max_tokens: int = 300, operation: str = "verification",
                 strong_floor: float = 1.01):
        self.client, self.model, self.store, self.local, self.kind = client, model, store, local, kind
        self.items = items
        self.mode, self.low, self.high = mode, low, high
        self.strong_floor = strong_floor  # "no counterpart" is never settled locally at or above it
        self.max_candidates, self.max_tokens = max_candidates, max_tokens
        self.name = f"llm:{model}:{mode}"
        self.operation = operation
        self.stats = LLMStats()

    async def verify(self, candidate_sets: Sequence[CandidateSet]) -> list[Verdict]:
        return list(await asyncio.gather(*(self.verify_one(cs) for cs in candidate_sets)))

    async def verify_one(self, cs: CandidateSet) -> Verdict:
        probs = self.local.model.probability(cs.features) if len(cs.target_ids) else np.zeros(0)
        local_verdict = self.local.decide(cs, probs)
        if self.mode == "two_stage" and self.settles_locally(cs, probs):
            self.stats.settled_locally += 1
            return local_verdict
        order = distinct_order(cs, np.argsort(-probs)) if len(probs) else []
        try:
            if self.mode == "per_pair":
                return await self._per_pair(cs, order[:5], probs)
            return await self._per_source(cs, order[: candidates_shown(probs, self.max_candidates)], probs)
        except FATAL:
            raise  # a wrong key or model fails every item: stop the run, keep what is stored
        except (ProviderError, ReplyError) as exc:
            self.stats.errors += 1
            return Verdict(source_id=cs.source_id, target_id=None, status="error", confidence=0.0,
                           reasoning=f"verification failed: {exc}", verifier=self.name)

    def settles_locally(self, cs: CandidateSet, probs: np.ndarray) -> bool:
        """Two-stage: a clear match (p ≥ high), or a clear "no counterpart" (p < low and no candidate
        with strong evidence); the bands come from the model's blocked out-of-fold calibration."""
        if len(probs) == 0:
            return True
        as_match, as_none = settled_locally(float(probs.max()), strong_evidence(cs, self.strong_floor),
                                            self.low, self.high)
        return bool(as_match or as_none)

    async def _per_source(self, cs: CandidateSet, order: list[int], probs: np.ndarray) -> Verdict:
        self.stats.sent_to_llm += 1
        candidates = [self.items[cs.target_ids[j]] for j in order]
        reply = await self.ask(self.items[cs.source_id], candidates)
        chosen = [(m.relation, cs.target_ids[order[m.candidate - 1]]) for m in reply.matches]
        return self._verdict(cs.source_id, chosen, reply)

    async def _per_pair(self, cs: CandidateSet, order: list[int], probs: np.ndarray) -> Verdict:
        """The earlier design: every candidate pair in its own call."""
        self.stats.sent_to_llm += 1
        source = self.items[cs.source_id]
        replies = await asyncio.gather(*(self.ask(source, [self.items[cs.target_ids[j]]]) for j in order))
        chosen = [(r.matches[0].relation, cs.target_ids[j]) for r, j in zip(replies, order) if r.matches]
        best = max(replies, key=lambda r: (bool(r.matches), r.confidence))
        return self._verdict(cs.source_id, chosen, best)

    def _verdict(self, source_id: str, chosen: list[tuple[str, str]], reply: VerificationReply) -> Verdict:
        if not chosen:
            return Verdict(source_id=source_id, target_id=None, status="no_match", confidence=reply.confidence,
                           reasoning=reply.reasoning, verifier=self.name, variance_type=None, impact=None)
        chosen.sort(key=lambda rc: rc[0] != "equivalent")  # equivalent before partial, stable otherwise
        relation, target = chosen[0]
        return Verdict(source_id=source_id, target_id=target, alternates=tuple(t for _, t in chosen[1:]),
                       status="match" if relation == "equivalent" else "partial", confidence=reply.confidence,
                       reasoning=reply.reasoning, verifier=self.name, variance_type=reply.variance_type,
                       impact=reply.impact)

    async def ask(self, source: dict, candidates: list[dict]) -> VerificationReply:
        """One verification call, answered from the store when it was paid for before."""
        key = cache_key("verdict", model=self.model, prompt=PROMPT_VERSION, document_kind=self.kind,
                        source=source, candidates=candidates)
        cached = self.store.get_json(key)
        if cached is not None:
            self.stats.cache_hits += 1
            return VerificationReply.model_validate(cached)
        messages = build_verification_messages(self.kind, source, candidates)
        reply = await self._ask_with_repair(messages, len(candidates))
        self.store.put_json("verdict", key, reply.model_dump())  # kept the moment it is paid for
        return reply

    async def _ask_with_repair(self, messages: list[dict], n: int) -> VerificationReply:
        cap = reply_token_cap(n, self.max_tokens)
        result = await self.client.chat(self.model, messages, response_format=RESPONSE_FORMAT,
                                        max_tokens=cap, operation=self.operation)
        self.stats.calls_answered += 1
        try:
            if result.finish_reason == "length":
                raise ReplyError("the reply was cut off (finish_reason: length)")
            return parse_verification(result.content, n)
        except ReplyError as first:
            self.stats.repaired += 1
            again = await self.client.chat(self.model, repair_messages(messages, result.content, str(first)),
                                           response_format=RESPONSE_FORMAT, max_tokens=max(cap * 2, self.max_tokens),
                                           operation=self.operation)
            self.stats.calls_answered += 1
            if again.finish_reason == "length":
                raise ReplyError("the repaired reply was cut off too") from None
            return parse_verification(again.content, n)


def item_payloads(docs) -> dict[str, dict]:
    """{"id", "title", "text"} for every item of the given documents, as prompts carry them."""
    out = {}
    for doc in docs:
        for item in doc.items:
            if doc.role == "bpd":
                out[item.id] = {"id": item.id, "title": item.title, "text": item.text}
            else:  # the question opens the text; the title carries the section it sits in
                text = " | ".join([item.question_text] + [f"{o.label}. {o.text}" for o in item.options])
                out[item.id] = {"id": item.id, "title": item.section_context[:AA_CONTEXT_CHARS], "text": text}
    return out
