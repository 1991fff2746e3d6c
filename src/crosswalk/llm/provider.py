"""Building the provider client and the API embedder from settings."""

from __future__ import annotations

import asyncio
import os
from typing import Sequence
from urllib.parse import urlparse

import httpx
import numpy as np

from ..vectors import unit_rows
from ..errors import ConfigError
from ..settings import FALLBACK_RATE_LIMIT, Settings
from .client import LLMClient
from .limiter import ModelLimiter, estimate_tokens

MAX_BATCH_INPUTS = 2048     # OpenAI's limit per embeddings request
MAX_BATCH_TOKENS = 250_000  # stay well under the per-request token limit


HOSTED = ("openai.com", "openai.azure.com", "azure.com")  # endpoints that always want a key


def make_client(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> LLMClient:
    """One shared client (one connection pool) with a limiter per model from the settings.

    A hosted endpoint without a key in the environment is a ConfigError now, rather than
    a run that fails (or waits on an unreachable network) call after call."""
    try:
        parsed = urlparse(settings.llm_base_url)
        host = parsed.hostname or ""
        has_credentials = bool(parsed.username or parsed.password)
        parsed.port  # a malformed port raises here, not deep in the transport
    except ValueError:
        raise ConfigError("llm_base_url is not a valid URL") from None
    if has_credentials:  # never echo the URL: it carries a password
        raise ConfigError(f"llm_base_url for {host} carries credentials (user:password@); remove them and "
                          f"put the API key in ${settings.api_key_env}")
    if transport is None and host.endswith(HOSTED) and not os.environ.get(settings.api_key_env):
        raise ConfigError(f"no API key: set ${settings.api_key_env} for {host} "
                          "(or point llm_base_url at a local OpenAI-compatible server)")
    def limiter_for(model: str) -> ModelLimiter:
        rpm, tpm = settings.rate_limits.get(model, FALLBACK_RATE_LIMIT)
        return ModelLimiter(rpm, tpm, concurrency_ceiling(settings, model), period=settings.rate_limit_period_s)

    return LLMClient(settings.llm_base_url, api_key_env=settings.api_key_env, transport=transport,
                     timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
                     limiter_for=limiter_for, prices=settings.prices, pool_size=pool_size(settings),
                     azure_api_version=settings.azure_api_version if settings.llm_api_style == "azure" else None)


# Calls in flight per model, at most, whatever the limits admit: sockets and memory (a call holds a
# connection and its request body; 1,024 × 50 KB is 50 MB).
SAFETY_CEILING = 1024


def concurrency_ceiling(settings: Settings, model: str) -> int:
    """Calls in flight for `model`: the setting when given; else what the windows can admit at once.

    By Little's law the calls in flight are the admitted rate times the latency. Under a one-minute
    window the whole minute's budget may be sent at once, so the ceiling is the RPM (each call is
    one request) up to `SAFETY_CEILING`; the TPM window then holds the calls back by their tokens,
    and AIMD cuts below the ceiling on 429s. A constant 64 sent a 5 s model's first minute over
    23 s and then sat idle waiting for its window (the client issue: 1.40x the bound)."""
    if model in settings.model_concurrency:
        return settings.model_concurrency[model]
    if settings.max_concurrency is not None:
        return settings.max_concurrency
    rpm, _ = settings.rate_limits.get(model, FALLBACK_RATE_LIMIT)
    return max(1, min(SAFETY_CEILING, rpm))


def pool_size(settings: Settings) -> int:
    """Connections the transport may open: every configured model's ceiling at once, within the
    process's file-descriptor limit (half of it, leaving the rest to files and the store)."""
    models = set(settings.rate_limits) | set(settings.model_concurrency)
    wanted = sum(concurrency_ceiling(settings, m) for m in models) or SAFETY_CEILING
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY:
            wanted = min(wanted, max(64, soft // 2))
    except (ImportError, ValueError, OSError):
        pass
    return wanted


def batches(texts: Sequence[str], max_inputs: int = MAX_BATCH_INPUTS, max_tokens: int = MAX_BATCH_TOKENS) -> list[list[str]]:
    """Split texts into requests bounded by count and by estimated tokens."""
    out: list[list[str]] = [[]]
    tokens = 0
    for text in texts:
        t = estimate_tokens(text)
        if out[-1] and (len(out[-1]) >= max_inputs or tokens + t > max_tokens):
            out.append([])
            tokens = 0
        out[-1].append(text)
        tokens += t
    return [b for b in out if b]


class OpenAIEmbedder:
    """Embeddings through an OpenAI-compatible API, batched by count and tokens, batches in parallel."""

    def __init__(self, client: LLMClient, model: str, batch_size: int = 100):
        self.client = client
        self.model = model
        self.model_id = f"openai:{model}"
        self.batch_size = batch_size
        self.store_every = 20 * batch_size  # requests of one part go in parallel: keep parts wide

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        parts = batches(list(texts), max_inputs=self.batch_size)
        results = await asyncio.gather(*(self.client.embed(self.model, part) for part in parts))
        vectors = np.array([v for part in results for v in part], dtype=np.float32)
        if len(vectors) == 0:
            return np.zeros((0, 1), np.float32)
        return unit_rows(vectors)
