"""One declarative settings object.

Precedence, highest first: command-line flag > `CROSSWALK_*` environment variable >
`crosswalk.toml` (in the working directory, or the path in `CROSSWALK_CONFIG`) >
defaults below. The resolved object is saved into every run's `run.json`.

API keys are never settings: they are read from the environment variable named
by `api_key_env` at the moment a request is made, and never written anywhere.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

ENV_PREFIX = "CROSSWALK_"


def default_store_path() -> Path:
    """`$XDG_CACHE_HOME/crosswalk/store.sqlite`, shared by every run of this user."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "crosswalk" / "store.sqlite"


# A mid-tier OpenAI account (the original design's numbers); override per model in crosswalk.toml.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "gpt-4.1": (5000, 450_000),
    "gpt-4.1-mini": (5000, 2_000_000),
    "gpt-5-nano": (5000, 2_000_000),
    "text-embedding-3-small": (5000, 1_000_000),
}
FALLBACK_RATE_LIMIT = (500, 200_000)  # unknown models (local servers, Azure deployments): conservative

# USD per 1M tokens (input, output), OpenAI list prices as of 2025-10, the original design's date.
# They reproduce its per-call figures ($0.002 per GPT-4.1 verification, $0.0037 per vision page).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-5-nano": (0.05, 0.40),
    "text-embedding-3-small": (0.02, 0.0),
}


class Settings(BaseModel):
    """Everything a run can be configured with. Field docs appear in docs/settings.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_path: Path = Field(default_factory=default_store_path, description="SQLite store (cache and runs)")
    embedder: Literal["minilm-onnx", "openai"] = Field("minilm-onnx", description="embedding model")
    embed_max_tokens: int = Field(256, ge=16, le=512, description="tokens per text fed to the local model")
    embed_batch_size: int = Field(32, ge=1, le=2048)
    candidates_k: int = Field(20, ge=1, le=100, description="candidates kept per source item")
    verifier: Literal["local", "llm"] = Field("local", description="who decides among candidates")
    match_threshold: float | None = Field(None, ge=0.0, le=1.0, description="local verifier: minimum match probability (default: the trained model's)")
    abstain_band: float = Field(0.15, ge=0.0, le=1.0, description="below the threshold by at most this: abstain instead of no_match")
    partial_threshold: float = Field(0.75, ge=0.0, le=1.0, description="below this a match is reported as partial")
    alternate_ratio: float = Field(0.6, ge=0.0, le=1.0, description="alternates: within this share of the best score")
    llm_base_url: str = Field("https://api.openai.com/v1", description="OpenAI-compatible endpoint")
    llm_model: str = Field("gpt-4.1", description="verification model (Azure: the deployment name)")
    llm_api_style: Literal["openai", "azure"] = Field("openai", description="openai (also Ollama, vLLM, LM Studio) or azure")
    azure_api_version: str = Field("2024-10-21", description="Azure OpenAI api-version")
    vision_model: str = Field("gpt-5-nano", description="extract --vision: model that reads scanned pages")
    vision_fallback_model: str = Field("gpt-4.1-mini", description="extract --vision: stronger model for pages whose replies stay invalid")
    embedding_model: str = Field("text-embedding-3-small", description="embedding model when embedder = openai")
    api_key_env: str = Field("OPENAI_API_KEY", description="name of the env var holding the API key")
    verify_mode: Literal["two_stage", "per_source", "per_pair"] = Field(
        "two_stage", description="llm verifier: local first and only the uncertain band to the LLM; or every item")
    llm_band_low: float | None = Field(None, ge=0.0, le=1.0, description="two-stage: below this the local verifier "
                                       "says no_match (default: the model's, chosen so settled items are 97% right)")
    llm_band_high: float | None = Field(None, ge=0.0, le=1.0, description="two-stage: from this the local verifier "
                                        "says match (default: the model's)")
    llm_max_output_tokens: int = Field(200, ge=50, le=4000, description="ceiling of the verification reply cap, which is "
                                       "sized per call (80 + 14 per match, at most 3); providers count it against TPM")
    llm_max_candidates: int = Field(10, ge=1, le=50, description="candidates shown to the LLM per uncertain source "
                                    "item (a clear winner is shown with 4; the prompt's compact form keeps tokens level)")
    llm_timeout_s: float = Field(300.0, gt=0, description="per-request timeout (a vision model's ~53 s replies have a tail past 120 s; a hung request is caught sooner, at 3x the slowest recent reply)")
    llm_max_retries: int = Field(6, ge=0, le=20)
    max_concurrency: int | None = Field(None, ge=1, le=4096, description="calls in flight per model at most (default: "
                                        "what the model's RPM admits, up to a safety ceiling of 1024; AIMD adapts below it)")
    rate_limit_period_s: float = Field(60.0, gt=0, description="the provider's rate-limit window (a minute)")
    model_concurrency: dict[str, int] = Field(
        default_factory=dict, description="per-model cap on calls in flight (default: from the model's limits)")
    rate_limits: dict[str, tuple[int, int]] = Field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS), description="model -> (requests, tokens) per minute")
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), description="model -> USD per 1M (input, output) tokens")
    exception_due_days: int = Field(14, ge=0, le=365, description="exception log: days from opening to due date")
    reuse_decisions: bool = Field(True, description="apply the review app's decisions kept in the store: this "
                                  "conversion's, and other conversions' on items with the same content")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # Notepad writes a BOM; tomllib rejects it
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from None
    return data.get("crosswalk", data)


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    known = set(Settings.model_fields)
    out: dict[str, Any] = {}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG":
            name = key[len(ENV_PREFIX):].lower()
            if name in known:
                out[name] = value
    return out


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Resolve settings from defaults, `crosswalk.toml`, the environment and flags (in that order)."""
    env = os.environ if env is None else env
    if config_path is None:
        config_path = Path(env.get(ENV_PREFIX + "CONFIG", "crosswalk.toml"))
    merged: dict[str, Any] = {}
    if config_path.is_file():
        merged.update(_read_toml(config_path))
    merged.update(_read_env(env))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {field!r}: {first['msg']}") from None


def settings_record(settings: Settings) -> dict[str, Any]:
    """The settings as saved into run.json (JSON-safe; holds no secret by construction)."""
    return settings.model_dump(mode="json")
