"""An OpenAI-compatible async client on httpx.

httpx directly rather than the `openai` SDK: the transport is passed in (tests run
the real client against the simulated server, or an in-process transport), the
`x-ratelimit-*` and `retry-after` headers are at hand on every reply, and retries are
ours alone (the SDK's own retries would fight the limiter). One shared connection
pool serves every operation; base URL, key and model come from settings per call.
The default transport is aiohttp's (package httpx-aiohttp): httpcore's pool is
quadratic in queued requests (encode/httpcore#1035), which made the client, not the
provider, the bottleneck at 16+ calls in flight.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from ..errors import (AuthenticationError, ContextTooLongError, ModelNotFoundError, ProviderError,
                      ProviderUnavailableError, ProviderUnreachableError)
from .limiter import ModelLimiter, estimate_prompt_tokens, estimate_tokens

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
# A connection that is not even accepted within this many seconds is retried, whatever the total
# timeout (which must allow for a vision model's ~53 s replies).
CONNECT_TIMEOUT_S = 10.0
# Connections per client at most: a safety ceiling for sockets, far above what the limiters
# admit. httpx's Limits do not reach a custom transport, so the transport gets it too (the
# aiohttp transport's own default of 100 silently capped every concurrency setting above it).
POOL_CEILING = 1024
# Connection failures before any request has ever been answered: the base URL is wrong or
# nothing listens there, so the run stops (exit 4) instead of failing every item slowly.
UNREACHABLE_AFTER = 3
# A reply that has not begun after HANG_FACTOR times the slowest of the model's recent replies
# (never less than HANG_FLOOR_S) is a hung request: it is abandoned and retried, instead of
# costing the whole llm_timeout_s (120 s) while the rest of the run waits on it.
HANG_FACTOR = 3.0
HANG_FLOOR_S = 10.0
RECENT_REPLIES = 50


@dataclass
class Usage:
    """Counters for one operation type (verification, vision, embeddings)."""

    calls: int = 0            # HTTP requests sent, retries included
    succeeded: int = 0
    retries: int = 0
    errors: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)
    max_latency_s: float = 0.0  # the slowest answered request, send to reply

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class ChatResult:
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter; a server's retry-after wins when it is given."""
    if retry_after is not None:
        return retry_after + rng.uniform(0, base / 10)
    return rng.uniform(0, min(cap, base * 2 ** attempt))


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """`retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP date), whichever is present."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(float(value) * scale, 0.0)
            except ValueError:
                when = _http_date(value)
                if when is not None:
                    return when
    return None


def _http_date(value: str) -> float | None:
    import email.utils

    try:
        return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError):
        return None


class LLMClient:
    """Chat completions and embeddings with rate limiting, retries and usage accounting."""

    def __init__(self, base_url: str, *, api_key_env: str = "OPENAI_API_KEY", transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 120.0, max_retries: int = 6, backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 limiter_for: Callable[[str], ModelLimiter], prices: dict[str, tuple[float, float]] | None = None,
                 seed: int = 0, azure_api_version: str | None = None, pool_size: int = POOL_CEILING):
        key = os.environ.get(api_key_env, "")
        # Azure OpenAI: `api-key` header, deployments in the path, api-version in the query
        self.azure_api_version = azure_api_version
        if azure_api_version:
            headers = {"api-key": key} if key else {}
        else:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
        if transport is None:
            # httpcore's own pool spends O(connections x queued requests) per request at high
            # concurrency (~10 ms a call here at 32 in flight); aiohttp's connector does not.
            from httpx_aiohttp import AiohttpTransport

            transport = AiohttpTransport(limits=httpx.Limits(max_connections=pool_size,
                                                             max_keepalive_connections=pool_size))
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", headers=headers, transport=transport,
                                       timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_S, timeout)),
                                       limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size))
        self.pool_size = pool_size
        self.timeout = timeout
        self._recent_latency: dict[str, deque[float]] = {}
        self._answered = 0          # replies of any status: once one came, a connection failure is transient
        self._connect_failures = 0
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._limiter_for = limiter_for
        self._limiters: dict[str, ModelLimiter] = {}
        self.prices = prices or {}
        self.usage: dict[str, Usage] = {}
        self._rng = random.Random(seed)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "LLMClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def limiter(self, model: str) -> ModelLimiter:
        if model not in self._limiters:
            self._limiters[model] = self._limiter_for(model)
        return self._limiters[model]

    async def chat(self, model: str, messages: list[dict], *, response_format: dict | None = None,
                   max_tokens: int = 600, operation: str = "verification") -> ChatResult:
        """One chat completion; retried on 429, 5xx, timeouts and resets."""
        payload: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        if response_format is not None:
            payload["response_format"] = response_format
        estimated = estimate_prompt_tokens(messages) + max_tokens
        data = await self._post("chat/completions", model, payload, estimated, operation, reserved_output=max_tokens)
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return ChatResult(choice["message"].get("content") or "", choice.get("finish_reason") or "stop",
                          int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))

    async def embed(self, model: str, inputs: list[str], operation: str = "embeddings") -> list[list[float]]:
        """Embeddings for `inputs`, in order (one request; the caller batches)."""
        estimated = sum(estimate_tokens(t) for t in inputs)
        data = await self._post("embeddings", model, {"model": model, "input": inputs}, estimated, operation)
        rows = sorted(data["data"], key=lambda d: d["index"])
        return [row["embedding"] for row in rows]

    async def _post(self, path: str, model: str, payload: dict, estimated: int, operation: str,
                    reserved_output: int = 0) -> dict:
        """POST with retries. Providers count `max_tokens` against TPM whatever the reply's length,
        so the limiter keeps `reserved_output` and corrects only the prompt estimate."""
        usage = self.usage.setdefault(operation, Usage())
        limiter = self.limiter(model)
        last_problem = "no attempt made"
        for attempt in range(self.max_retries + 1):
            if attempt:
                usage.retries += 1
            await limiter.admit(estimated)
            usage.calls += 1
            started = time.monotonic()
            try:
                response = await self._http.post(*self._route(path, model), json=payload,
                                                 timeout=self._request_timeout(model))
            except httpx.TransportError as exc:
                last_problem = self._transport_problem(exc, usage)
                await limiter.done(estimated, None, rate_limited=False)
                await asyncio.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap, None, self._rng))
                continue
            self._answered += 1
            status = response.status_code
            if status < 400:
                latency = time.monotonic() - started
                self._recent_latency.setdefault(model, deque(maxlen=RECENT_REPLIES)).append(latency)
                usage.max_latency_s = max(usage.max_latency_s, latency)
            usage.by_status[status] = usage.by_status.get(status, 0) + 1
            headers = {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-ratelimit")}
            if status in RETRYABLE_STATUS:
                limited = status == 429
                usage.rate_limited += limited
                last_problem = f"HTTP {status}"
                await limiter.done(estimated, None, rate_limited=limited, headers=headers)
                # Retry-After is honoured on every retryable status (503s carry it too), not only 429
                delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap,
                                      retry_after_seconds(response.headers), self._rng)
                await asyncio.sleep(delay)
                continue
            if status >= 400:
                await limiter.done(estimated, None, rate_limited=False, headers=headers)
                usage.errors += 1
                raise _client_error(status, response, model)
            try:
                data = response.json()
            except ValueError:
                last_problem = "reply was not JSON"
                await limiter.done(estimated, None, rate_limited=False, headers=headers)
                await asyncio.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap, None, self._rng))
                continue
            reported = data.get("usage") or {}
            self._account(usage, model, reported)
            counted = int(reported.get("prompt_tokens", reported.get("total_tokens", estimated))) + reserved_output
            await limiter.done(estimated, counted, rate_limited=False, headers=headers)
            usage.succeeded += 1
            return data
        usage.errors += 1
        raise ProviderUnavailableError(f"{model}: gave up after {self.max_retries + 1} attempts: {last_problem}")

    def _request_timeout(self, model: str) -> httpx.Timeout:
        """The whole-request limit, with a read (first byte) limit that follows the model's latency."""
        recent = self._recent_latency.get(model)
        read = self.timeout
        if recent:
            read = min(self.timeout, max(HANG_FLOOR_S, HANG_FACTOR * max(recent)))
        return httpx.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT_S, self.timeout), read=read)

    def _transport_problem(self, exc: httpx.TransportError, usage: Usage) -> str:
        """What went wrong, counted; raises ProviderUnreachableError when nothing has ever answered
        and connections keep failing (the aiohttp transport reports a refused connection as
        ConnectTimeout, at once)."""
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            self._check_reachable()
            return f"could not connect ({type(exc).__name__})"
        if isinstance(exc, httpx.TimeoutException):
            usage.timeouts += 1
            return "timed out"
        return f"connection failed ({type(exc).__name__})"

    def _check_reachable(self) -> None:
        """Stop early when nothing has ever answered and connections keep being refused."""
        if self._answered:
            return
        self._connect_failures += 1
        if self._connect_failures >= UNREACHABLE_AFTER:
            host = self._http.base_url.copy_with(username=None, password=None, query=None)
            raise ProviderUnreachableError(f"cannot reach the provider at {host} (connection refused or unknown "
                                           "host); check llm_base_url / CROSSWALK_LLM_BASE_URL")

    def _route(self, path: str, model: str) -> tuple[str, ...]:
        if not self.azure_api_version:
            return (path,)
        return (f"openai/deployments/{model}/{path}?api-version={self.azure_api_version}",)

    def _account(self, usage: Usage, model: str, reported: dict) -> None:
        prompt = int(reported.get("prompt_tokens", reported.get("total_tokens", 0)))
        completion = int(reported.get("completion_tokens", 0))
        usage.prompt_tokens += prompt
        usage.completion_tokens += completion
        price_in, price_out = self.prices.get(model, (0.0, 0.0))
        usage.cost_usd += (prompt * price_in + completion * price_out) / 1_000_000


def _client_error(status: int, response: httpx.Response, model: str) -> ProviderError:
    try:
        message = response.json().get("error", {}).get("message", "")
    except (ValueError, AttributeError):
        message = response.text[:200]
    if status in (401, 403):
        return AuthenticationError(f"the provider rejected the API key (HTTP {status}); set it in the environment")
    if status == 404:
        return ModelNotFoundError(f"model {model!r} not found at this endpoint (HTTP 404)")
    if status == 400 and ("context" in message.lower() or "too long" in message.lower() or "maximum" in message.lower()):
        return ContextTooLongError(f"{model}: request too long for the model's context window")
    return ProviderError(f"{model}: HTTP {status}: {message}")
