"""Rate limits and adaptive concurrency, one `ModelLimiter` per (endpoint, model).

- Requests and tokens per minute: two sliding windows. A call reserves
  its estimated tokens before it is sent and is corrected with the reply's `usage`;
  `x-ratelimit-remaining-*` headers pull the windows down to what the provider says
  is left, so several processes sharing one account stay under the limit too.
- Concurrency: AIMD. A 429 halves the number of calls allowed in flight (not below 1),
  once per congestion event: further 429s within `cooldown` seconds of a cut are the
  same event (the calls were already in flight) and do not halve again; every `limit`
  successes add one back (up to the configured maximum). A 429 whose headers show the
  request or token window used up is explained by the windows, which the headers have
  just corrected: it does not halve (recovering from a halving takes hundreds of calls,
  and fewer calls in flight would not have made the window any larger).
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field

# The priority of the calls made in this context (lower goes first; equal: first come, first
# served). Each conversion sets its start order, so in a batch the earlier conversions' calls go
# first and conversions finish one after another, each one's outputs early and its local tail
# work overlapping the others' calls, rather than all of them at the very end.
CALL_PRIORITY: contextvars.ContextVar[int] = contextvars.ContextVar("crosswalk_call_priority", default=0)


class Window:
    """At most `capacity` units in any `period` seconds (a sliding log, as providers count).

    A refilling token bucket would let a fresh client send twice its per-minute limit
    in its first minute; a sliding log cannot.
    """

    def __init__(self, capacity: float, period: float = 60.0, clock=time.monotonic):
        self.capacity = float(capacity)
        self.period = period
        self._clock = clock
        self._log: deque[list[float]] = deque()  # [time, amount]

    def _prune(self) -> float:
        now = self._clock()
        while self._log and self._log[0][0] <= now - self.period:
            self._log.popleft()
        return now

    def used(self) -> float:
        self._prune()
        return sum(a for _, a in self._log)

    def wait_time(self, amount: float) -> float:
        """Seconds until `amount` more fits (0 when it fits now)."""
        now = self._prune()
        amount = min(amount, self.capacity)  # larger than the window: wait for an empty one
        excess = sum(a for _, a in self._log) + amount - self.capacity
        if excess <= 0:
            return 0.0
        for stamp, a in self._log:
            excess -= a
            if excess <= 0:
                return max(stamp + self.period - now, 0.0)
        return self.period

    def take(self, amount: float) -> None:
        self._log.append([self._prune(), min(amount, self.capacity)])

    def give_back(self, amount: float) -> None:
        """Return unused units of the most recent reservations."""
        for entry in reversed(self._log):
            back = min(entry[1], amount)
            entry[1] -= back
            amount -= back
            if amount <= 0:
                break

    def cap(self, remaining: float, reset_s: float | None = None) -> None:
        """The provider says only `remaining` is left until `reset_s` from now: believe it."""
        now = self._prune()
        missing = self.capacity - remaining - sum(a for _, a in self._log)
        if missing > 0:
            expires = now + (self.period if reset_s is None else min(reset_s, self.period))
            stamp = expires - self.period
            at = next((i for i, entry in enumerate(self._log) if entry[0] > stamp), len(self._log))
            self._log.insert(at, [stamp, missing])  # the log stays in time order


@dataclass
class LimiterStats:
    rate_limited: int = 0
    waits: int = 0
    waited_s: float = 0.0
    max_in_flight: int = 0
    concurrency_history: list[int] = field(default_factory=list)   # the AIMD limit after each call
    in_flight_samples: list[int] = field(default_factory=list)     # calls in flight at each admission


class AdaptiveConcurrency:
    """AIMD limit on calls in flight; waiters are served by `CALL_PRIORITY`, then first come.

    A heap of futures rather than a Condition: waking every waiter on every release
    made admission quadratic in the queue length (thousands of queued items).
    """

    def __init__(self, maximum: int, initial: int | None = None, cooldown: float = 5.0, clock=time.monotonic):
        self.maximum = maximum
        self.limit = initial or maximum
        self.in_flight = 0
        self.cooldown = cooldown
        self._clock = clock
        self._last_cut = float("-inf")
        self._successes = 0
        self._waiters: list[tuple[int, int, asyncio.Future]] = []  # heap of (priority, arrival, future)
        self._arrivals = itertools.count()

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (CALL_PRIORITY.get(), next(self._arrivals), future))
        self._grant()  # a free slot behind waiters that were cancelled goes to the first one left
        try:
            await future  # the slot is handed over by release()
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release_slot()  # granted and cancelled at once: give the slot on
            raise  # a cancelled waiter stays in the heap, done: release() skips it

    async def release(self, *, rate_limited: bool, explained: bool = False) -> None:
        """Give the slot back; an unexplained 429 halves the limit, a success may add one."""
        if rate_limited and explained:
            pass  # the windows, not the concurrency, were the limit: neither a cut nor a success
        elif rate_limited:
            now = self._clock()
            if now - self._last_cut >= self.cooldown:  # one cut per congestion event, as TCP does per RTT
                self.limit = max(1, self.limit // 2)
                self._last_cut = now
            self._successes = 0
        else:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.maximum:
                self.limit += 1
                self._successes = 0
        self._release_slot()

    def _release_slot(self) -> None:
        self.in_flight -= 1
        self._grant()

    def _grant(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                self.in_flight += 1
                future.set_result(None)


class ModelLimiter:
    """RPM, TPM and concurrency for one model at one endpoint."""

    HEADROOM = 1.02  # our window is 2% longer than the provider's: requests land after we send them

    def __init__(self, rpm: int, tpm: int, max_concurrency: int, period: float = 60.0, clock=time.monotonic):
        self.requests = Window(rpm, period * self.HEADROOM, clock)
        self.tokens = Window(tpm, period * self.HEADROOM, clock)
        self.concurrency = AdaptiveConcurrency(max_concurrency, cooldown=period / 12, clock=clock)
        self.stats = LimiterStats()
        self._lock = asyncio.Lock()

    async def admit(self, estimated_tokens: int) -> None:
        """Wait until one request of `estimated_tokens` fits in both buckets and a slot is free."""
        await self.concurrency.acquire()
        async with self._lock:  # first come, first served: no starvation of large requests
            while True:
                wait = max(self.requests.wait_time(1), self.tokens.wait_time(estimated_tokens))
                if wait <= 0:
                    break
                self.stats.waits += 1
                self.stats.waited_s += wait
                await asyncio.sleep(wait)
            self.requests.take(1)
            self.tokens.take(estimated_tokens)
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.concurrency.in_flight)
        self.stats.in_flight_samples.append(self.concurrency.in_flight)

    async def done(self, estimated_tokens: int, used_tokens: int | None, *, rate_limited: bool,
                   headers: dict[str, str] | None = None) -> None:
        """Correct the token reservation with real usage and learn from the reply."""
        if used_tokens is not None:
            self.tokens.give_back(estimated_tokens - used_tokens)
        elif rate_limited:
            self.tokens.give_back(estimated_tokens)  # refused calls do not count against TPM
        if rate_limited:
            self.stats.rate_limited += 1
        if headers:
            _apply_headers(self, headers)
        explained = rate_limited and window_exhausted(headers or {}, estimated_tokens)
        await self.concurrency.release(rate_limited=rate_limited, explained=explained)
        self.stats.concurrency_history.append(self.concurrency.limit)


def _apply_headers(limiter: ModelLimiter, headers: dict[str, str]) -> None:
    for kind, window in (("requests", limiter.requests), ("tokens", limiter.tokens)):
        value = headers.get(f"x-ratelimit-remaining-{kind}")
        if value is not None:
            try:
                window.cap(float(value), parse_duration(headers.get(f"x-ratelimit-reset-{kind}", "")))
            except ValueError:
                pass


def window_exhausted(headers: dict[str, str], tokens: int) -> bool:
    """Whether rate-limit headers show no room for one more request of `tokens` tokens."""
    def number(name: str) -> float | None:
        try:
            return float(headers[name])
        except (KeyError, ValueError):
            return None
    requests, left = number("x-ratelimit-remaining-requests"), number("x-ratelimit-remaining-tokens")
    return (requests is not None and requests < 1) or (left is not None and left < tokens)


DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(text: str) -> float | None:
    """OpenAI's reset headers: '20ms', '1.5s', '6m0s', '1h2m3s'; None when absent or unreadable."""
    parts = DURATION_PART.findall(text or "")
    if not parts:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def estimate_tokens(text: str) -> int:
    """A provider-neutral estimate: about four characters per token."""
    return max(1, len(text) // 4)


# An image is billed by its tiles, not its base64 length. OpenAI's high-detail rule (fit in 2048,
# shortest side 768, 512-pixel tiles, 85 + 170 per tile) gives at most 8 tiles: 1,445 tokens. A
# 150-dpi letter page is 765. Counting the base64 instead (~50,000 tokens a page) made the limiter
# hold a fleet's vision calls back a whole minute for TPM it was never going to use.
IMAGE_TOKENS_MAX = 1445
DATA_URL = re.compile(r"data:image/[A-Za-z0-9.+-]+;base64,[A-Za-z0-9+/=]+")


def estimate_prompt_tokens(messages: list[dict]) -> int:
    """Text at four characters a token, each image at its most (the reply's usage corrects it)."""
    text = json.dumps(messages)
    images = len(DATA_URL.findall(text))
    return estimate_tokens(DATA_URL.sub("", text)) + images * IMAGE_TOKENS_MAX
